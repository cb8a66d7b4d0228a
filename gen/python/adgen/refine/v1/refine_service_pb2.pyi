from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RefineRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "spec")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ...) -> None: ...

class RefineResponse(_message.Message):
    __slots__ = ("video_key", "frame_count", "has_music")
    VIDEO_KEY_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    HAS_MUSIC_FIELD_NUMBER: _ClassVar[int]
    video_key: str
    frame_count: int
    has_music: bool
    def __init__(self, video_key: _Optional[str] = ..., frame_count: _Optional[int] = ..., has_music: _Optional[bool] = ...) -> None: ...
