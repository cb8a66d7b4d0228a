from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlanRequest(_message.Message):
    __slots__ = ("user_id", "request")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    request: _common_pb2.VideoRequest
    def __init__(self, user_id: _Optional[str] = ..., request: _Optional[_Union[_common_pb2.VideoRequest, _Mapping]] = ...) -> None: ...

class PlanResponse(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.Spec
    def __init__(self, spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ...) -> None: ...
