from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VideoModel(_message.Message):
    __slots__ = ("key", "clip_s", "fps", "width", "height", "price_per_clip_micros", "local")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CLIP_S_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_CLIP_MICROS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_FIELD_NUMBER: _ClassVar[int]
    key: str
    clip_s: float
    fps: int
    width: int
    height: int
    price_per_clip_micros: int
    local: bool
    def __init__(self, key: _Optional[str] = ..., clip_s: _Optional[float] = ..., fps: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., price_per_clip_micros: _Optional[int] = ..., local: _Optional[bool] = ...) -> None: ...

class ListVideoModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVideoModelsResponse(_message.Message):
    __slots__ = ("models", "default_model")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MODEL_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[VideoModel]
    default_model: str
    def __init__(self, models: _Optional[_Iterable[_Union[VideoModel, _Mapping]]] = ..., default_model: _Optional[str] = ...) -> None: ...

class BeatSpan(_message.Message):
    __slots__ = ("start_s", "duration_s")
    START_S_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    start_s: int
    duration_s: int
    def __init__(self, start_s: _Optional[int] = ..., duration_s: _Optional[int] = ...) -> None: ...

class PlanChunksRequest(_message.Message):
    __slots__ = ("beats", "video_model", "fps", "overlap_fraction")
    BEATS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_MODEL_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FRACTION_FIELD_NUMBER: _ClassVar[int]
    beats: _containers.RepeatedCompositeFieldContainer[BeatSpan]
    video_model: str
    fps: int
    overlap_fraction: float
    def __init__(self, beats: _Optional[_Iterable[_Union[BeatSpan, _Mapping]]] = ..., video_model: _Optional[str] = ..., fps: _Optional[int] = ..., overlap_fraction: _Optional[float] = ...) -> None: ...

class PlanChunksResponse(_message.Message):
    __slots__ = ("chunk_plan",)
    CHUNK_PLAN_FIELD_NUMBER: _ClassVar[int]
    chunk_plan: _common_pb2.ChunkPlan
    def __init__(self, chunk_plan: _Optional[_Union[_common_pb2.ChunkPlan, _Mapping]] = ...) -> None: ...

class RenderChunkRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "chunk_index")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    chunk_index: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., chunk_index: _Optional[int] = ...) -> None: ...

class RenderChunkResponse(_message.Message):
    __slots__ = ("clip_key", "handoff_key", "reused")
    CLIP_KEY_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_KEY_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    clip_key: str
    handoff_key: str
    reused: bool
    def __init__(self, clip_key: _Optional[str] = ..., handoff_key: _Optional[str] = ..., reused: _Optional[bool] = ...) -> None: ...
