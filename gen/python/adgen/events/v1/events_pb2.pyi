import datetime

from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlanWork(_message.Message):
    __slots__ = ("video_id", "user_id", "request")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    request: _common_pb2.VideoRequest
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., request: _Optional[_Union[_common_pb2.VideoRequest, _Mapping]] = ...) -> None: ...

class FrameWork(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "beat_index", "take", "seed")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    TAKE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    beat_index: int
    take: int
    seed: int
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., beat_index: _Optional[int] = ..., take: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class ChunkWork(_message.Message):
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

class RefineWork(_message.Message):
    __slots__ = ("video_id", "user_id", "spec")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ...) -> None: ...

class ExportWork(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "refined_key")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REFINED_KEY_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    refined_key: str
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., refined_key: _Optional[str] = ...) -> None: ...

class VoiceWork(_message.Message):
    __slots__ = ("video_id", "user_id", "spec", "beat_index", "voice")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    spec: _common_pb2.Spec
    beat_index: int
    voice: str
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., beat_index: _Optional[int] = ..., voice: _Optional[str] = ...) -> None: ...

class EmbedWork(_message.Message):
    __slots__ = ("asset_id", "user_id")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    user_id: str
    def __init__(self, asset_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class VideoPlanned(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.Spec
    def __init__(self, spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ...) -> None: ...

class PhaseStarted(_message.Message):
    __slots__ = ("phase",)
    PHASE_FIELD_NUMBER: _ClassVar[int]
    phase: _common_pb2.Phase
    def __init__(self, phase: _Optional[_Union[_common_pb2.Phase, str]] = ...) -> None: ...

class PhaseCompleted(_message.Message):
    __slots__ = ("phase", "warning")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    phase: _common_pb2.Phase
    warning: str
    def __init__(self, phase: _Optional[_Union[_common_pb2.Phase, str]] = ..., warning: _Optional[str] = ...) -> None: ...

class FrameReady(_message.Message):
    __slots__ = ("beat_index", "image_key", "frames_done", "notes")
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DONE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    beat_index: int
    image_key: str
    frames_done: int
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, beat_index: _Optional[int] = ..., image_key: _Optional[str] = ..., frames_done: _Optional[int] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...

class ChunkReady(_message.Message):
    __slots__ = ("chunk_index", "clip_key", "chunks_done")
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CLIP_KEY_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    chunk_index: int
    clip_key: str
    chunks_done: int
    def __init__(self, chunk_index: _Optional[int] = ..., clip_key: _Optional[str] = ..., chunks_done: _Optional[int] = ...) -> None: ...

class VoiceReady(_message.Message):
    __slots__ = ("beat_index", "audio_key", "duration_s", "lines_done")
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    AUDIO_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    LINES_DONE_FIELD_NUMBER: _ClassVar[int]
    beat_index: int
    audio_key: str
    duration_s: float
    lines_done: int
    def __init__(self, beat_index: _Optional[int] = ..., audio_key: _Optional[str] = ..., duration_s: _Optional[float] = ..., lines_done: _Optional[int] = ...) -> None: ...

class CostRecorded(_message.Message):
    __slots__ = ("line",)
    LINE_FIELD_NUMBER: _ClassVar[int]
    line: _common_pb2.CostLine
    def __init__(self, line: _Optional[_Union[_common_pb2.CostLine, _Mapping]] = ...) -> None: ...

class VideoCompleted(_message.Message):
    __slots__ = ("final_key", "poster_key", "duration_s")
    FINAL_KEY_FIELD_NUMBER: _ClassVar[int]
    POSTER_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    final_key: str
    poster_key: str
    duration_s: float
    def __init__(self, final_key: _Optional[str] = ..., poster_key: _Optional[str] = ..., duration_s: _Optional[float] = ...) -> None: ...

class VideoFailed(_message.Message):
    __slots__ = ("phase", "unit", "reason")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    phase: _common_pb2.Phase
    unit: str
    reason: str
    def __init__(self, phase: _Optional[_Union[_common_pb2.Phase, str]] = ..., unit: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class VideoCancelled(_message.Message):
    __slots__ = ("previous_status",)
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    previous_status: _common_pb2.VideoStatus
    def __init__(self, previous_status: _Optional[_Union[_common_pb2.VideoStatus, str]] = ...) -> None: ...

class VideoRetried(_message.Message):
    __slots__ = ("run", "units")
    RUN_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    run: int
    units: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run: _Optional[int] = ..., units: _Optional[_Iterable[str]] = ...) -> None: ...

class ReviewReached(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: _common_pb2.Review
    def __init__(self, review: _Optional[_Union[_common_pb2.Review, _Mapping]] = ...) -> None: ...

class VideoVersioned(_message.Message):
    __slots__ = ("version", "run", "units", "remade")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    REMADE_FIELD_NUMBER: _ClassVar[int]
    version: int
    run: int
    units: _containers.RepeatedScalarFieldContainer[str]
    remade: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version: _Optional[int] = ..., run: _Optional[int] = ..., units: _Optional[_Iterable[str]] = ..., remade: _Optional[_Iterable[str]] = ...) -> None: ...

class VideoApproved(_message.Message):
    __slots__ = ("stage", "units")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    stage: _common_pb2.ReviewStage
    units: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stage: _Optional[_Union[_common_pb2.ReviewStage, str]] = ..., units: _Optional[_Iterable[str]] = ...) -> None: ...

class VideoExpired(_message.Message):
    __slots__ = ("stage",)
    STAGE_FIELD_NUMBER: _ClassVar[int]
    stage: _common_pb2.ReviewStage
    def __init__(self, stage: _Optional[_Union[_common_pb2.ReviewStage, str]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("video_id", "occurred_at", "video_planned", "phase_started", "phase_completed", "frame_ready", "chunk_ready", "cost_recorded", "video_completed", "video_failed", "video_cancelled", "video_retried", "voice_ready", "review_reached", "video_approved", "video_expired", "video_versioned")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    VIDEO_PLANNED_FIELD_NUMBER: _ClassVar[int]
    PHASE_STARTED_FIELD_NUMBER: _ClassVar[int]
    PHASE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FRAME_READY_FIELD_NUMBER: _ClassVar[int]
    CHUNK_READY_FIELD_NUMBER: _ClassVar[int]
    COST_RECORDED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FAILED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_RETRIED_FIELD_NUMBER: _ClassVar[int]
    VOICE_READY_FIELD_NUMBER: _ClassVar[int]
    REVIEW_REACHED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_APPROVED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_VERSIONED_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    occurred_at: _timestamp_pb2.Timestamp
    video_planned: VideoPlanned
    phase_started: PhaseStarted
    phase_completed: PhaseCompleted
    frame_ready: FrameReady
    chunk_ready: ChunkReady
    cost_recorded: CostRecorded
    video_completed: VideoCompleted
    video_failed: VideoFailed
    video_cancelled: VideoCancelled
    video_retried: VideoRetried
    voice_ready: VoiceReady
    review_reached: ReviewReached
    video_approved: VideoApproved
    video_expired: VideoExpired
    video_versioned: VideoVersioned
    def __init__(self, video_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_planned: _Optional[_Union[VideoPlanned, _Mapping]] = ..., phase_started: _Optional[_Union[PhaseStarted, _Mapping]] = ..., phase_completed: _Optional[_Union[PhaseCompleted, _Mapping]] = ..., frame_ready: _Optional[_Union[FrameReady, _Mapping]] = ..., chunk_ready: _Optional[_Union[ChunkReady, _Mapping]] = ..., cost_recorded: _Optional[_Union[CostRecorded, _Mapping]] = ..., video_completed: _Optional[_Union[VideoCompleted, _Mapping]] = ..., video_failed: _Optional[_Union[VideoFailed, _Mapping]] = ..., video_cancelled: _Optional[_Union[VideoCancelled, _Mapping]] = ..., video_retried: _Optional[_Union[VideoRetried, _Mapping]] = ..., voice_ready: _Optional[_Union[VoiceReady, _Mapping]] = ..., review_reached: _Optional[_Union[ReviewReached, _Mapping]] = ..., video_approved: _Optional[_Union[VideoApproved, _Mapping]] = ..., video_expired: _Optional[_Union[VideoExpired, _Mapping]] = ..., video_versioned: _Optional[_Union[VideoVersioned, _Mapping]] = ...) -> None: ...
