from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RenderFrameRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "beat_index")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    beat_index: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., beat_index: _Optional[int] = ...) -> None: ...

class RenderFrameResponse(_message.Message):
    __slots__ = ("image_key", "reused")
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    image_key: str
    reused: bool
    def __init__(self, image_key: _Optional[str] = ..., reused: _Optional[bool] = ...) -> None: ...
