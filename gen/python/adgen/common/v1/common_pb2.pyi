import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AspectRatio(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASPECT_RATIO_UNSPECIFIED: _ClassVar[AspectRatio]
    ASPECT_RATIO_16_9: _ClassVar[AspectRatio]
    ASPECT_RATIO_9_16: _ClassVar[AspectRatio]
    ASPECT_RATIO_1_1: _ClassVar[AspectRatio]

class Energy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENERGY_UNSPECIFIED: _ClassVar[Energy]
    ENERGY_LOW: _ClassVar[Energy]
    ENERGY_MEDIUM: _ClassVar[Energy]
    ENERGY_HIGH: _ClassVar[Energy]

class BeatPosition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BEAT_POSITION_UNSPECIFIED: _ClassVar[BeatPosition]
    BEAT_POSITION_OPENING: _ClassVar[BeatPosition]
    BEAT_POSITION_MIDDLE: _ClassVar[BeatPosition]
    BEAT_POSITION_CLOSING: _ClassVar[BeatPosition]

class InitSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INIT_SOURCE_UNSPECIFIED: _ClassVar[InitSource]
    INIT_SOURCE_STORYBOARD: _ClassVar[InitSource]
    INIT_SOURCE_HANDOFF: _ClassVar[InitSource]

class Phase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHASE_UNSPECIFIED: _ClassVar[Phase]
    PHASE_PLAN: _ClassVar[Phase]
    PHASE_STORYBOARD: _ClassVar[Phase]
    PHASE_CHUNKS: _ClassVar[Phase]
    PHASE_REFINE: _ClassVar[Phase]
    PHASE_EXPORT: _ClassVar[Phase]
    PHASE_VOICE: _ClassVar[Phase]

class CaptionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAPTION_MODE_UNSPECIFIED: _ClassVar[CaptionMode]
    CAPTION_MODE_SIDECAR: _ClassVar[CaptionMode]
    CAPTION_MODE_BURNED: _ClassVar[CaptionMode]
    CAPTION_MODE_OFF: _ClassVar[CaptionMode]

class VideoStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIDEO_STATUS_UNSPECIFIED: _ClassVar[VideoStatus]
    VIDEO_STATUS_QUEUED: _ClassVar[VideoStatus]
    VIDEO_STATUS_PLANNING: _ClassVar[VideoStatus]
    VIDEO_STATUS_RENDERING: _ClassVar[VideoStatus]
    VIDEO_STATUS_REFINING: _ClassVar[VideoStatus]
    VIDEO_STATUS_EXPORTING: _ClassVar[VideoStatus]
    VIDEO_STATUS_COMPLETED: _ClassVar[VideoStatus]
    VIDEO_STATUS_FAILED: _ClassVar[VideoStatus]
    VIDEO_STATUS_CANCELLED: _ClassVar[VideoStatus]
    VIDEO_STATUS_AWAITING_REVIEW: _ClassVar[VideoStatus]
    VIDEO_STATUS_EXPIRED: _ClassVar[VideoStatus]

class ReviewStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STAGE_UNSPECIFIED: _ClassVar[ReviewStage]
    REVIEW_STAGE_PLAN: _ClassVar[ReviewStage]
    REVIEW_STAGE_STORYBOARD: _ClassVar[ReviewStage]
ASPECT_RATIO_UNSPECIFIED: AspectRatio
ASPECT_RATIO_16_9: AspectRatio
ASPECT_RATIO_9_16: AspectRatio
ASPECT_RATIO_1_1: AspectRatio
ENERGY_UNSPECIFIED: Energy
ENERGY_LOW: Energy
ENERGY_MEDIUM: Energy
ENERGY_HIGH: Energy
BEAT_POSITION_UNSPECIFIED: BeatPosition
BEAT_POSITION_OPENING: BeatPosition
BEAT_POSITION_MIDDLE: BeatPosition
BEAT_POSITION_CLOSING: BeatPosition
INIT_SOURCE_UNSPECIFIED: InitSource
INIT_SOURCE_STORYBOARD: InitSource
INIT_SOURCE_HANDOFF: InitSource
PHASE_UNSPECIFIED: Phase
PHASE_PLAN: Phase
PHASE_STORYBOARD: Phase
PHASE_CHUNKS: Phase
PHASE_REFINE: Phase
PHASE_EXPORT: Phase
PHASE_VOICE: Phase
CAPTION_MODE_UNSPECIFIED: CaptionMode
CAPTION_MODE_SIDECAR: CaptionMode
CAPTION_MODE_BURNED: CaptionMode
CAPTION_MODE_OFF: CaptionMode
VIDEO_STATUS_UNSPECIFIED: VideoStatus
VIDEO_STATUS_QUEUED: VideoStatus
VIDEO_STATUS_PLANNING: VideoStatus
VIDEO_STATUS_RENDERING: VideoStatus
VIDEO_STATUS_REFINING: VideoStatus
VIDEO_STATUS_EXPORTING: VideoStatus
VIDEO_STATUS_COMPLETED: VideoStatus
VIDEO_STATUS_FAILED: VideoStatus
VIDEO_STATUS_CANCELLED: VideoStatus
VIDEO_STATUS_AWAITING_REVIEW: VideoStatus
VIDEO_STATUS_EXPIRED: VideoStatus
REVIEW_STAGE_UNSPECIFIED: ReviewStage
REVIEW_STAGE_PLAN: ReviewStage
REVIEW_STAGE_STORYBOARD: ReviewStage

class Review(_message.Message):
    __slots__ = ("stage", "beats_total", "frames_ready", "lines_total", "lines_ready", "spent_micros", "quote_micros", "quote_lines", "expires_at")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    BEATS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FRAMES_READY_FIELD_NUMBER: _ClassVar[int]
    LINES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    LINES_READY_FIELD_NUMBER: _ClassVar[int]
    SPENT_MICROS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_MICROS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_LINES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    stage: ReviewStage
    beats_total: int
    frames_ready: int
    lines_total: int
    lines_ready: int
    spent_micros: int
    quote_micros: int
    quote_lines: _containers.RepeatedCompositeFieldContainer[CostLine]
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, stage: _Optional[_Union[ReviewStage, str]] = ..., beats_total: _Optional[int] = ..., frames_ready: _Optional[int] = ..., lines_total: _Optional[int] = ..., lines_ready: _Optional[int] = ..., spent_micros: _Optional[int] = ..., quote_micros: _Optional[int] = ..., quote_lines: _Optional[_Iterable[_Union[CostLine, _Mapping]]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VideoRequest(_message.Message):
    __slots__ = ("prompt", "duration_s", "creativity", "aspect_ratio", "video_model", "asset_ids", "seed", "extra_aspect_ratios", "max_cost_micros", "voiceover", "voice", "captions", "review")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    CREATIVITY_FIELD_NUMBER: _ClassVar[int]
    ASPECT_RATIO_FIELD_NUMBER: _ClassVar[int]
    VIDEO_MODEL_FIELD_NUMBER: _ClassVar[int]
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    EXTRA_ASPECT_RATIOS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_MICROS_FIELD_NUMBER: _ClassVar[int]
    VOICEOVER_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    duration_s: int
    creativity: float
    aspect_ratio: AspectRatio
    video_model: str
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    extra_aspect_ratios: _containers.RepeatedScalarFieldContainer[AspectRatio]
    max_cost_micros: int
    voiceover: bool
    voice: str
    captions: CaptionMode
    review: ReviewStage
    def __init__(self, prompt: _Optional[str] = ..., duration_s: _Optional[int] = ..., creativity: _Optional[float] = ..., aspect_ratio: _Optional[_Union[AspectRatio, str]] = ..., video_model: _Optional[str] = ..., asset_ids: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., extra_aspect_ratios: _Optional[_Iterable[_Union[AspectRatio, str]]] = ..., max_cost_micros: _Optional[int] = ..., voiceover: _Optional[bool] = ..., voice: _Optional[str] = ..., captions: _Optional[_Union[CaptionMode, str]] = ..., review: _Optional[_Union[ReviewStage, str]] = ...) -> None: ...

class Style(_message.Message):
    __slots__ = ("aesthetic", "palette", "mood", "lighting")
    AESTHETIC_FIELD_NUMBER: _ClassVar[int]
    PALETTE_FIELD_NUMBER: _ClassVar[int]
    MOOD_FIELD_NUMBER: _ClassVar[int]
    LIGHTING_FIELD_NUMBER: _ClassVar[int]
    aesthetic: str
    palette: _containers.RepeatedScalarFieldContainer[str]
    mood: str
    lighting: str
    def __init__(self, aesthetic: _Optional[str] = ..., palette: _Optional[_Iterable[str]] = ..., mood: _Optional[str] = ..., lighting: _Optional[str] = ...) -> None: ...

class Beat(_message.Message):
    __slots__ = ("index", "beat_id", "start_s", "duration_s", "shot_type", "camera_movement", "energy", "position", "prompt", "shows_product", "headline", "subline", "reference_asset_ids", "voiceover")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    BEAT_ID_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    SHOT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAMERA_MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    ENERGY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SHOWS_PRODUCT_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUBLINE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    VOICEOVER_FIELD_NUMBER: _ClassVar[int]
    index: int
    beat_id: str
    start_s: int
    duration_s: int
    shot_type: str
    camera_movement: str
    energy: Energy
    position: BeatPosition
    prompt: str
    shows_product: bool
    headline: str
    subline: str
    reference_asset_ids: _containers.RepeatedScalarFieldContainer[str]
    voiceover: str
    def __init__(self, index: _Optional[int] = ..., beat_id: _Optional[str] = ..., start_s: _Optional[int] = ..., duration_s: _Optional[int] = ..., shot_type: _Optional[str] = ..., camera_movement: _Optional[str] = ..., energy: _Optional[_Union[Energy, str]] = ..., position: _Optional[_Union[BeatPosition, str]] = ..., prompt: _Optional[str] = ..., shows_product: _Optional[bool] = ..., headline: _Optional[str] = ..., subline: _Optional[str] = ..., reference_asset_ids: _Optional[_Iterable[str]] = ..., voiceover: _Optional[str] = ...) -> None: ...

class ChunkSlot(_message.Message):
    __slots__ = ("index", "beat_index", "index_in_beat", "start_frame", "used_frames", "overlap_in_frames", "init_source", "handoff_frame")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_IN_BEAT_FIELD_NUMBER: _ClassVar[int]
    START_FRAME_FIELD_NUMBER: _ClassVar[int]
    USED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_IN_FRAMES_FIELD_NUMBER: _ClassVar[int]
    INIT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FRAME_FIELD_NUMBER: _ClassVar[int]
    index: int
    beat_index: int
    index_in_beat: int
    start_frame: int
    used_frames: int
    overlap_in_frames: int
    init_source: InitSource
    handoff_frame: int
    def __init__(self, index: _Optional[int] = ..., beat_index: _Optional[int] = ..., index_in_beat: _Optional[int] = ..., start_frame: _Optional[int] = ..., used_frames: _Optional[int] = ..., overlap_in_frames: _Optional[int] = ..., init_source: _Optional[_Union[InitSource, str]] = ..., handoff_frame: _Optional[int] = ...) -> None: ...

class ChunkPlan(_message.Message):
    __slots__ = ("video_model", "clip_s", "fps", "clip_frames", "overlap_frames", "total_frames", "price_per_clip_micros", "slots")
    VIDEO_MODEL_FIELD_NUMBER: _ClassVar[int]
    CLIP_S_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    CLIP_FRAMES_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FRAMES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FRAMES_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_CLIP_MICROS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    video_model: str
    clip_s: float
    fps: int
    clip_frames: int
    overlap_frames: int
    total_frames: int
    price_per_clip_micros: int
    slots: _containers.RepeatedCompositeFieldContainer[ChunkSlot]
    def __init__(self, video_model: _Optional[str] = ..., clip_s: _Optional[float] = ..., fps: _Optional[int] = ..., clip_frames: _Optional[int] = ..., overlap_frames: _Optional[int] = ..., total_frames: _Optional[int] = ..., price_per_clip_micros: _Optional[int] = ..., slots: _Optional[_Iterable[_Union[ChunkSlot, _Mapping]]] = ...) -> None: ...

class OutputFormat(_message.Message):
    __slots__ = ("aspect_ratio", "width", "height", "fps")
    ASPECT_RATIO_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    aspect_ratio: AspectRatio
    width: int
    height: int
    fps: int
    def __init__(self, aspect_ratio: _Optional[_Union[AspectRatio, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[int] = ...) -> None: ...

class Spec(_message.Message):
    __slots__ = ("archetype_id", "duration_s", "product_name", "category", "brand", "call_to_action", "style", "beats", "chunk_plan", "output", "seed", "creativity", "planner", "notes", "extra_outputs", "expected_latency", "captions")
    ARCHETYPE_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    CALL_TO_ACTION_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    BEATS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PLAN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CREATIVITY_FIELD_NUMBER: _ClassVar[int]
    PLANNER_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    EXTRA_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LATENCY_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_FIELD_NUMBER: _ClassVar[int]
    archetype_id: str
    duration_s: int
    product_name: str
    category: str
    brand: str
    call_to_action: str
    style: Style
    beats: _containers.RepeatedCompositeFieldContainer[Beat]
    chunk_plan: ChunkPlan
    output: OutputFormat
    seed: int
    creativity: float
    planner: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    extra_outputs: _containers.RepeatedCompositeFieldContainer[OutputFormat]
    expected_latency: ExpectedLatency
    captions: CaptionMode
    def __init__(self, archetype_id: _Optional[str] = ..., duration_s: _Optional[int] = ..., product_name: _Optional[str] = ..., category: _Optional[str] = ..., brand: _Optional[str] = ..., call_to_action: _Optional[str] = ..., style: _Optional[_Union[Style, _Mapping]] = ..., beats: _Optional[_Iterable[_Union[Beat, _Mapping]]] = ..., chunk_plan: _Optional[_Union[ChunkPlan, _Mapping]] = ..., output: _Optional[_Union[OutputFormat, _Mapping]] = ..., seed: _Optional[int] = ..., creativity: _Optional[float] = ..., planner: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ..., extra_outputs: _Optional[_Iterable[_Union[OutputFormat, _Mapping]]] = ..., expected_latency: _Optional[_Union[ExpectedLatency, _Mapping]] = ..., captions: _Optional[_Union[CaptionMode, str]] = ...) -> None: ...

class ExpectedLatency(_message.Message):
    __slots__ = ("plan_s", "image_s", "clip_s", "refine_s", "export_s")
    PLAN_S_FIELD_NUMBER: _ClassVar[int]
    IMAGE_S_FIELD_NUMBER: _ClassVar[int]
    CLIP_S_FIELD_NUMBER: _ClassVar[int]
    REFINE_S_FIELD_NUMBER: _ClassVar[int]
    EXPORT_S_FIELD_NUMBER: _ClassVar[int]
    plan_s: float
    image_s: float
    clip_s: float
    refine_s: float
    export_s: float
    def __init__(self, plan_s: _Optional[float] = ..., image_s: _Optional[float] = ..., clip_s: _Optional[float] = ..., refine_s: _Optional[float] = ..., export_s: _Optional[float] = ...) -> None: ...

class CostLine(_message.Message):
    __slots__ = ("phase", "provider", "model", "units", "usd_micros")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    USD_MICROS_FIELD_NUMBER: _ClassVar[int]
    phase: Phase
    provider: str
    model: str
    units: int
    usd_micros: int
    def __init__(self, phase: _Optional[_Union[Phase, str]] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., units: _Optional[int] = ..., usd_micros: _Optional[int] = ...) -> None: ...

class Cost(_message.Message):
    __slots__ = ("total_micros", "lines")
    TOTAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    total_micros: int
    lines: _containers.RepeatedCompositeFieldContainer[CostLine]
    def __init__(self, total_micros: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[CostLine, _Mapping]]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("video_id", "status", "phase", "percent", "beats_total", "frames_done", "chunks_total", "chunks_done", "cost_micros", "message", "error", "failed_phase", "updated_at", "eta_s", "eta_basis", "lines_total", "lines_done")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    BEATS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    COST_MICROS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILED_PHASE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    ETA_BASIS_FIELD_NUMBER: _ClassVar[int]
    LINES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    LINES_DONE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: VideoStatus
    phase: Phase
    percent: float
    beats_total: int
    frames_done: int
    chunks_total: int
    chunks_done: int
    cost_micros: int
    message: str
    error: str
    failed_phase: Phase
    updated_at: _timestamp_pb2.Timestamp
    eta_s: float
    eta_basis: EtaBasis
    lines_total: int
    lines_done: int
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[VideoStatus, str]] = ..., phase: _Optional[_Union[Phase, str]] = ..., percent: _Optional[float] = ..., beats_total: _Optional[int] = ..., frames_done: _Optional[int] = ..., chunks_total: _Optional[int] = ..., chunks_done: _Optional[int] = ..., cost_micros: _Optional[int] = ..., message: _Optional[str] = ..., error: _Optional[str] = ..., failed_phase: _Optional[_Union[Phase, str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., eta_s: _Optional[float] = ..., eta_basis: _Optional[_Union[EtaBasis, _Mapping]] = ..., lines_total: _Optional[int] = ..., lines_done: _Optional[int] = ...) -> None: ...

class EtaBasis(_message.Message):
    __slots__ = ("expected", "chunks_per_beat", "planned_at", "progressed_at")
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_PER_BEAT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRESSED_AT_FIELD_NUMBER: _ClassVar[int]
    expected: ExpectedLatency
    chunks_per_beat: _containers.RepeatedScalarFieldContainer[int]
    planned_at: _timestamp_pb2.Timestamp
    progressed_at: _timestamp_pb2.Timestamp
    def __init__(self, expected: _Optional[_Union[ExpectedLatency, _Mapping]] = ..., chunks_per_beat: _Optional[_Iterable[int]] = ..., planned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., progressed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
