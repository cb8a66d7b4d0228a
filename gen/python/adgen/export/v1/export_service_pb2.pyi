import datetime

from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "refined_key", "version")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REFINED_KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    refined_key: str
    version: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., refined_key: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ExportResponse(_message.Message):
    __slots__ = ("final_key", "poster_key")
    FINAL_KEY_FIELD_NUMBER: _ClassVar[int]
    POSTER_KEY_FIELD_NUMBER: _ClassVar[int]
    final_key: str
    poster_key: str
    def __init__(self, final_key: _Optional[str] = ..., poster_key: _Optional[str] = ...) -> None: ...

class GetDownloadUrlRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "aspect_ratio", "version")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASPECT_RATIO_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    aspect_ratio: _common_pb2.AspectRatio
    version: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., aspect_ratio: _Optional[_Union[_common_pb2.AspectRatio, str]] = ..., version: _Optional[int] = ...) -> None: ...

class GetDownloadUrlResponse(_message.Message):
    __slots__ = ("url", "expires_at")
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    url: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRenditionsRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "version")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    version: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Rendition(_message.Message):
    __slots__ = ("aspect_ratio", "width", "height", "primary", "download_url", "poster_url", "captions_url", "expires_at")
    ASPECT_RATIO_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    POSTER_URL_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    aspect_ratio: _common_pb2.AspectRatio
    width: int
    height: int
    primary: bool
    download_url: str
    poster_url: str
    captions_url: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, aspect_ratio: _Optional[_Union[_common_pb2.AspectRatio, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., primary: _Optional[bool] = ..., download_url: _Optional[str] = ..., poster_url: _Optional[str] = ..., captions_url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRenditionsResponse(_message.Message):
    __slots__ = ("renditions",)
    RENDITIONS_FIELD_NUMBER: _ClassVar[int]
    renditions: _containers.RepeatedCompositeFieldContainer[Rendition]
    def __init__(self, renditions: _Optional[_Iterable[_Union[Rendition, _Mapping]]] = ...) -> None: ...
