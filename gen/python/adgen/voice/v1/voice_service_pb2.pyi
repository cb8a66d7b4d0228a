from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SynthesizeRequest(_message.Message):
    __slots__ = ("video_id", "user_id", "beat_index", "text", "voice", "target_s")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    TARGET_S_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    user_id: str
    beat_index: int
    text: str
    voice: str
    target_s: float
    def __init__(self, video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., beat_index: _Optional[int] = ..., text: _Optional[str] = ..., voice: _Optional[str] = ..., target_s: _Optional[float] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("text", "start_s", "end_s")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    text: str
    start_s: float
    end_s: float
    def __init__(self, text: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ...) -> None: ...

class SynthesizeResponse(_message.Message):
    __slots__ = ("audio_key", "duration_s", "speaking_rate", "words", "provider", "model", "usd_micros")
    AUDIO_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    SPEAKING_RATE_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USD_MICROS_FIELD_NUMBER: _ClassVar[int]
    audio_key: str
    duration_s: float
    speaking_rate: float
    words: _containers.RepeatedCompositeFieldContainer[Word]
    provider: str
    model: str
    usd_micros: int
    def __init__(self, audio_key: _Optional[str] = ..., duration_s: _Optional[float] = ..., speaking_rate: _Optional[float] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., usd_micros: _Optional[int] = ...) -> None: ...

class ListVoicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Voice(_message.Message):
    __slots__ = ("key", "provider", "language", "label", "model", "usd_micros_per_char")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USD_MICROS_PER_CHAR_FIELD_NUMBER: _ClassVar[int]
    key: str
    provider: str
    language: str
    label: str
    model: str
    usd_micros_per_char: int
    def __init__(self, key: _Optional[str] = ..., provider: _Optional[str] = ..., language: _Optional[str] = ..., label: _Optional[str] = ..., model: _Optional[str] = ..., usd_micros_per_char: _Optional[int] = ...) -> None: ...

class ListVoicesResponse(_message.Message):
    __slots__ = ("voices", "default_voice")
    VOICES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOICE_FIELD_NUMBER: _ClassVar[int]
    voices: _containers.RepeatedCompositeFieldContainer[Voice]
    default_voice: str
    def __init__(self, voices: _Optional[_Iterable[_Union[Voice, _Mapping]]] = ..., default_voice: _Optional[str] = ...) -> None: ...

class GetVoiceSampleRequest(_message.Message):
    __slots__ = ("voice",)
    VOICE_FIELD_NUMBER: _ClassVar[int]
    voice: str
    def __init__(self, voice: _Optional[str] = ...) -> None: ...

class GetVoiceSampleResponse(_message.Message):
    __slots__ = ("audio_key", "text")
    AUDIO_KEY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    audio_key: str
    text: str
    def __init__(self, audio_key: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...
