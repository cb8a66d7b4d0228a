from adgen.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
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

class QuoteRequest(_message.Message):
    __slots__ = ("request", "user_id")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    request: _common_pb2.VideoRequest
    user_id: str
    def __init__(self, request: _Optional[_Union[_common_pb2.VideoRequest, _Mapping]] = ..., user_id: _Optional[str] = ...) -> None: ...

class QuoteResponse(_message.Message):
    __slots__ = ("spec", "cost_micros", "lines", "estimated_seconds", "slowest_beat", "local")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    COST_MICROS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SLOWEST_BEAT_FIELD_NUMBER: _ClassVar[int]
    LOCAL_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.Spec
    cost_micros: int
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.CostLine]
    estimated_seconds: float
    slowest_beat: int
    local: bool
    def __init__(self, spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., cost_micros: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.CostLine, _Mapping]]] = ..., estimated_seconds: _Optional[float] = ..., slowest_beat: _Optional[int] = ..., local: _Optional[bool] = ...) -> None: ...

class BeatEdit(_message.Message):
    __slots__ = ("index", "headline", "subline", "voiceover", "prompt", "camera_movement", "shot_type", "duration_s")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUBLINE_FIELD_NUMBER: _ClassVar[int]
    VOICEOVER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    CAMERA_MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    SHOT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    index: int
    headline: str
    subline: str
    voiceover: str
    prompt: str
    camera_movement: str
    shot_type: str
    duration_s: int
    def __init__(self, index: _Optional[int] = ..., headline: _Optional[str] = ..., subline: _Optional[str] = ..., voiceover: _Optional[str] = ..., prompt: _Optional[str] = ..., camera_movement: _Optional[str] = ..., shot_type: _Optional[str] = ..., duration_s: _Optional[int] = ...) -> None: ...

class EditPlanRequest(_message.Message):
    __slots__ = ("user_id", "request", "spec", "beats", "order")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    BEATS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    request: _common_pb2.VideoRequest
    spec: _common_pb2.Spec
    beats: _containers.RepeatedCompositeFieldContainer[BeatEdit]
    order: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_id: _Optional[str] = ..., request: _Optional[_Union[_common_pb2.VideoRequest, _Mapping]] = ..., spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., beats: _Optional[_Iterable[_Union[BeatEdit, _Mapping]]] = ..., order: _Optional[_Iterable[int]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("field", "message")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    field: str
    message: str
    def __init__(self, field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class EditPlanResponse(_message.Message):
    __slots__ = ("spec", "cost_micros", "lines", "errors")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    COST_MICROS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.Spec
    cost_micros: int
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.CostLine]
    errors: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    def __init__(self, spec: _Optional[_Union[_common_pb2.Spec, _Mapping]] = ..., cost_micros: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.CostLine, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ...) -> None: ...
