"""What every gRPC request must satisfy before a servicer sees it: the contracts' declarative rules.

The equivalent of protovalidate annotations (whose validate.proto this build does not vendor),
stated once per request message type beside the contracts: required ids are UUIDs, enums are known
values (and set where required), strings and repeated fields have caps, numbers have ranges, page
sizes and tokens are bounded. `violations(message)` answers every breach with the field's path,
e.g. ``spec.beats[2].duration_s: must be 5, 10 or 15``; `ValidationInterceptor` (validation.py)
applies it to every request of every service that `serve()` runs.

Only what a message says about itself lives here. Checks that need the database or another service
(does this asset exist and belong to the caller? is the model in the registry? is the beat inside
this plan's store?) stay in the domain modules. The video request reuses `request_limits`, the rules
REST applies too, so both surfaces refuse the same requests.

Pure: no I/O and no gRPC. Every request type of every adgen service has an entry in `RULES`, an
empty one stated as `NO_RULES`; `tests` walk the service descriptors to keep it so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from adgen.assets.v1 import assets_service_pb2 as assets
from adgen.chunks.v1 import chunks_service_pb2 as chunks
from adgen.common.v1 import common_pb2 as common
from adgen.export.v1 import export_service_pb2 as export
from adgen.planner.v1 import planner_service_pb2 as planner
from adgen.refine.v1 import refine_service_pb2 as refine
from adgen.storyboard.v1 import storyboard_service_pb2 as storyboard
from adgen.video.v1 import video_service_pb2 as video
from adgen.voice.v1 import voice_service_pb2 as voice
from adgen_video.asset_limits import MAX_BYTES, NAME_MAX_CHARS
from adgen_video.request_limits import (
    DURATION_MAX_S,
    MAX_ASPECT_RATIOS,
    MAX_ASSET_IDS,
    MAX_COST_MICROS,
    request_errors,
)

BEAT_DURATIONS_S = (5, 10, 15)
# The most beats a spec may carry: the longest video cut into the shortest beats. A composer may
# aim lower; this bound is what every service can rely on.
SPEC_MAX_BEATS = DURATION_MAX_S // min(BEAT_DURATIONS_S)
MAX_CHUNKS = 256
MAX_DIMENSION = 7680
MAX_FPS = 120
MAX_PAGE_SIZE = 100
PAGE_TOKEN_MAX_CHARS = 512  # as REST bounds them
ID_TEXT_MAX_CHARS = 64  # model keys, beat ids, shot types, …
KEY_MAX_CHARS = 1024  # S3 object keys
MAX_SEARCH_LIMIT = 100
MAX_SELECTION = 100
QUERY_MAX_CHARS = 1000
# A beat's spoken line: the longest beat's word budget (36 words, the planner's `voiceover`) in long words.
VOICEOVER_MAX_CHARS = 500
VOICE_KEY_PATTERN = r"[a-z0-9][a-z0-9_.-]*"  # as model keys are spelt

# The canonical form only: ids name S3 keys and KV entries, where "ABC…" and "abc…" are two names.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# One breach below the field a check looks at: ("" for the value itself, or "[2].duration_s", …).
Breach = tuple[str, str]
Check = Callable[[Any], Iterable[Breach]]


@dataclass(frozen=True)
class Violation:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Field:
    """A field and the checks its value must pass. Fields with presence (messages, `optional`
    scalars) are checked only when set, and `required` refuses them unset; plain scalars are always
    checked, since proto3 cannot tell 0 from unset."""

    name: str
    checks: tuple[Check, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Whole:
    """A rule over the whole message, answering (field path, message) pairs; for rules shared with
    other surfaces (`request_limits`) and for oneofs."""

    check: Callable[[Any], Iterable[Breach]]


Rule = Field | Whole
Rules = tuple[Rule, ...]
NO_RULES: Rules = ()  # stated, not forgotten: the message carries nothing to check


def field(name: str, *checks: Check, required: bool = False) -> Field:
    return Field(name, checks, required)


# Checks: each takes the field's value and answers its breaches.


def uuid(*, optional: bool = False) -> Check:
    def check(value: str) -> Iterable[Breach]:
        if not value:
            return () if optional else (("", "required, a UUID"),)
        if not _UUID.fullmatch(value):
            return (("", f"must be a UUID in canonical form (lowercase 8-4-4-4-12 hex), got {value[:40]!r}"),)
        return ()

    return check


def text(max_chars: int, *, required: bool = False, pattern: str | None = None, describe: str = "") -> Check:
    compiled = re.compile(pattern) if pattern else None

    def check(value: str) -> Iterable[Breach]:
        if not value:
            return (("", "must not be empty"),) if required else ()
        if len(value) > max_chars:
            return (("", f"at most {max_chars} characters, got {len(value)}"),)
        if compiled is not None and not compiled.fullmatch(value):
            return (("", f"must be {describe}, got {value[:40]!r}"),)
        return ()

    return check


def size(max_bytes: int) -> Check:
    def check(value: bytes) -> Iterable[Breach]:
        return (("", f"at most {max_bytes} bytes per message, got {len(value)}"),) if len(value) > max_bytes else ()

    return check


def count(max_items: int, *, min_items: int = 0) -> Check:
    def check(value: Sequence[Any]) -> Iterable[Breach]:
        if len(value) < min_items:
            return (("", f"at least {min_items} {'item' if min_items == 1 else 'items'}"),)
        if len(value) > max_items:
            return (("", f"at most {max_items} items, got {len(value)}"),)
        return ()

    return check


def between(low: float, high: float, *, unit: str = "") -> Check:
    def check(value: float) -> Iterable[Breach]:
        # `not (a <= v <= b)` also refuses NaN.
        if not (low <= value <= high):
            return (("", f"must be between {low:g} and {high:g}{unit}, got {value:g}"),)
        return ()

    return check


def one_of(*allowed: int) -> Check:
    words = ", ".join(str(a) for a in allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else str(allowed[0])

    def check(value: int) -> Iterable[Breach]:
        return () if value in allowed else (("", f"must be {words}, got {value}"),)

    return check


def enum(descriptor: EnumDescriptor, *, required: bool = False) -> Check:
    """A value the enum defines; with `required`, not its zero (UNSPECIFIED) value either."""
    known = {v.number: v.name for v in descriptor.values}
    allowed = [name for number, name in known.items() if number or not required]

    def check(value: int) -> Iterable[Breach]:
        if value not in known or (required and value == 0):
            return (("", f"must be one of {', '.join(allowed)}, got {known.get(value, value)}"),)
        return ()

    return check


def each(*checks: Check) -> Check:
    """Applies `checks` to every item of a repeated field; breaches name the item's index."""

    def check(items: Sequence[Any]) -> Iterable[Breach]:
        for i, item in enumerate(items):
            for inner in checks:
                for path, message in inner(item):
                    yield f"[{i}]{path}", message

    return check


def message(rules: Rules) -> Check:
    """The value is a message checked by its own rules; breaches name the nested field."""

    def check(value: Message) -> Iterable[Breach]:
        for violation in _walk(value, rules):
            yield f".{violation.field}", violation.message

    return check


def position_matches(items: Sequence[Any]) -> Iterable[Breach]:
    """Each item's `index` is its position in the list."""
    for i, item in enumerate(items):
        if item.index != i:
            yield f"[{i}].index", f"must be its position in the list, {i}, got {item.index}"


# The walk.


def _is_set(parent: Message, descriptor: FieldDescriptor) -> bool:
    if descriptor.is_repeated:
        return len(getattr(parent, descriptor.name)) > 0
    if descriptor.has_presence:
        return parent.HasField(descriptor.name)
    return getattr(parent, descriptor.name) != descriptor.default_value


def _walk(msg: Message, rules: Rules) -> Iterable[Violation]:
    # upb's field descriptors are descriptor.FieldDescriptor instances (isinstance says so); the stub types them apart.
    fields = cast(Mapping[str, FieldDescriptor], msg.DESCRIPTOR.fields_by_name)
    for rule in rules:
        if isinstance(rule, Whole):
            for path, text_ in rule.check(msg):
                yield Violation(path, text_)
            continue
        descriptor = fields[rule.name]
        if not _is_set(msg, descriptor):
            if rule.required:
                yield Violation(rule.name, "required")
                continue
            if descriptor.has_presence and not descriptor.is_repeated:
                continue
        value = getattr(msg, rule.name)
        for check in rule.checks:
            for path, text_ in check(value):
                yield Violation(rule.name + path, text_)


def violations(msg: Message, rules: Mapping[str, Rules] | None = None) -> list[Violation]:
    """Every breach of the rules of `msg`'s type, in the order the rules are stated; empty for a
    valid message and for a type without rules (the health and reflection services)."""
    found = (RULES if rules is None else rules).get(msg.DESCRIPTOR.full_name)
    return list(_walk(msg, found)) if found else []


def rules_for(descriptor: Descriptor) -> Rules | None:
    """The rule set of a message type, `NO_RULES` when it states that nothing is checked, None
    when it has none at all (a gap the tests refuse for adgen's services)."""
    return RULES.get(descriptor.full_name)


# The rules, per message type.

USER_ID = field("user_id", uuid())
VIDEO_ID = field("video_id", uuid())
VOICE_KEY = text(ID_TEXT_MAX_CHARS, pattern=VOICE_KEY_PATTERN, describe="a voice key from ListVoices")

VIDEO_REQUEST: Rules = (
    Whole(lambda request: ((e.field, e.message) for e in request_errors(request))),
    field(
        "video_model",
        text(ID_TEXT_MAX_CHARS, pattern=r"[a-z0-9][a-z0-9_.-]*", describe="a model key from ListVideoModels"),
    ),
    field("asset_ids", each(uuid())),
    field("voice", VOICE_KEY),
)

# An owner's changes to a plan (planner.v1.BeatEdit and a new order); what each may say is the
# planner's to judge (adgen_planner.plan_edits), these bound only their size.
BEAT_EDIT: Rules = (
    field("index", between(0, SPEC_MAX_BEATS - 1)),
    field("headline", text(200)),
    field("subline", text(200)),
    field("voiceover", text(VOICEOVER_MAX_CHARS)),
    field("prompt", text(1000)),
    field("camera_movement", text(ID_TEXT_MAX_CHARS)),
    field("shot_type", text(ID_TEXT_MAX_CHARS)),
    # A bound only: the planner holds a length to the 5/10/15 rules, naming the field in its answer.
    field("duration_s", between(0, DURATION_MAX_S, unit=" s")),
)
PLAN_EDITS: Rules = (
    field("beats", count(SPEC_MAX_BEATS), each(message(BEAT_EDIT))),
    field("order", count(SPEC_MAX_BEATS), each(between(0, SPEC_MAX_BEATS - 1))),
)

OUTPUT_FORMAT: Rules = (
    field("aspect_ratio", enum(common.AspectRatio.DESCRIPTOR)),
    field("width", between(0, MAX_DIMENSION, unit=" px")),
    field("height", between(0, MAX_DIMENSION, unit=" px")),
    field("fps", between(0, MAX_FPS)),
)

BEAT: Rules = (
    field("start_s", between(0, DURATION_MAX_S, unit=" s")),
    field("duration_s", one_of(*BEAT_DURATIONS_S)),
    field("beat_id", text(ID_TEXT_MAX_CHARS)),
    field("shot_type", text(ID_TEXT_MAX_CHARS)),
    field("camera_movement", text(ID_TEXT_MAX_CHARS)),
    field("energy", enum(common.Energy.DESCRIPTOR)),
    field("position", enum(common.BeatPosition.DESCRIPTOR)),
    field("prompt", text(1000)),
    field("headline", text(200)),
    field("subline", text(200)),
    field("voiceover", text(VOICEOVER_MAX_CHARS)),
    field("reference_asset_ids", count(MAX_ASSET_IDS), each(uuid())),
)

CHUNK_SLOT: Rules = (
    field("index", between(0, MAX_CHUNKS - 1)),
    field("beat_index", between(0, SPEC_MAX_BEATS - 1)),
    field("init_source", enum(common.InitSource.DESCRIPTOR)),
)

CHUNK_PLAN: Rules = (
    field("video_model", text(ID_TEXT_MAX_CHARS)),
    field("fps", between(0, MAX_FPS)),
    field("clip_frames", between(0, 100_000)),
    field("price_per_clip_micros", between(0, MAX_COST_MICROS)),
    field("slots", count(MAX_CHUNKS), position_matches, each(message(CHUNK_SLOT))),
)

STYLE: Rules = (
    field("aesthetic", text(200)),
    field("palette", count(16), each(text(7, pattern=r"#[0-9A-Fa-f]{6}", describe="a colour #RRGGBB"))),
    field("mood", text(200)),
    field("lighting", text(200)),
)

SPEC: Rules = (
    field("duration_s", between(0, DURATION_MAX_S, unit=" s")),
    field("archetype_id", text(ID_TEXT_MAX_CHARS)),
    field("product_name", text(200)),
    field("category", text(200)),
    field("brand", text(200)),
    field("call_to_action", text(200)),
    field("style", message(STYLE)),
    field("beats", count(SPEC_MAX_BEATS), position_matches, each(message(BEAT))),
    field("chunk_plan", message(CHUNK_PLAN)),
    field("output", message(OUTPUT_FORMAT)),
    field("creativity", between(0.0, 1.0)),
    field("notes", count(100), each(text(500))),
    field("extra_outputs", count(MAX_ASPECT_RATIOS - 1), each(message(OUTPUT_FORMAT))),
)

UPLOAD_METADATA: Rules = (
    USER_ID,
    field("filename", text(255)),
    field("name", text(NAME_MAX_CHARS)),
)


def _one_part(request: assets.UploadAssetRequest) -> Iterable[Breach]:
    if request.WhichOneof("part") is None:
        yield "part", "each message carries the metadata (the first) or a chunk of the file"


PAGE: Rules = (
    field("page_size", between(0, MAX_PAGE_SIZE)),  # 0 means the default
    field("page_token", text(PAGE_TOKEN_MAX_CHARS)),
)


SEARCH_LIMIT = field("limit", between(0, MAX_SEARCH_LIMIT))
MIN_SCORE = field("min_score", between(-1.0, 1.0))


def _full_name(message_type: type[Message]) -> str:
    return message_type.DESCRIPTOR.full_name


RULES: dict[str, Rules] = {
    _full_name(message_type): rules
    for message_type, rules in [
        # Shared contracts.
        (common.VideoRequest, VIDEO_REQUEST),
        (common.Spec, SPEC),
        # adgen.planner.v1: user_id may be empty when the request names no assets.
        (
            planner.PlanRequest,
            (field("user_id", uuid(optional=True)), field("request", message(VIDEO_REQUEST), required=True)),
        ),
        (
            planner.QuoteRequest,
            (field("user_id", uuid(optional=True)), field("request", message(VIDEO_REQUEST), required=True)),
        ),
        (
            planner.EditPlanRequest,
            (
                field("user_id", uuid(optional=True)),
                field("request", message(VIDEO_REQUEST), required=True),
                field("spec", message(SPEC), required=True),
                *PLAN_EDITS,
            ),
        ),
        # adgen.storyboard.v1
        (
            storyboard.RenderFrameRequest,
            (
                VIDEO_ID,
                USER_ID,
                field("spec", message(SPEC), required=True),
                field("beat_index", between(0, SPEC_MAX_BEATS - 1)),
            ),
        ),
        # adgen.chunks.v1
        (chunks.ListVideoModelsRequest, NO_RULES),
        (
            chunks.PlanChunksRequest,
            (
                field(
                    "beats",
                    count(SPEC_MAX_BEATS, min_items=1),
                    each(
                        message(
                            (
                                field("start_s", between(0, DURATION_MAX_S, unit=" s")),
                                field("duration_s", between(1, DURATION_MAX_S, unit=" s")),
                            )
                        )
                    ),
                ),
                field("video_model", text(ID_TEXT_MAX_CHARS)),
                field("fps", between(0, MAX_FPS)),
                field("overlap_fraction", between(0.0, 0.4)),
            ),
        ),
        (
            chunks.RenderChunkRequest,
            (
                VIDEO_ID,
                USER_ID,
                field("spec", message(SPEC), required=True),
                field("chunk_index", between(0, MAX_CHUNKS - 1)),
            ),
        ),
        # adgen.refine.v1
        (refine.RefineRequest, (VIDEO_ID, USER_ID, field("spec", message(SPEC), required=True))),
        # adgen.export.v1
        (
            export.ExportRequest,
            (
                VIDEO_ID,
                USER_ID,
                field("spec", message(SPEC), required=True),
                field("refined_key", text(KEY_MAX_CHARS, required=True)),
                field("version", between(0, 2**31 - 1)),
            ),
        ),
        (
            export.GetDownloadUrlRequest,
            (
                VIDEO_ID,
                USER_ID,
                field("aspect_ratio", enum(common.AspectRatio.DESCRIPTOR)),
                field("version", between(0, 2**31 - 1)),
            ),
        ),
        (export.GetRenditionsRequest, (VIDEO_ID, USER_ID, field("version", between(0, 2**31 - 1)))),
        # adgen.assets.v1: UploadAsset is client-streaming; each message is checked as it arrives.
        (
            assets.UploadAssetRequest,
            (Whole(_one_part), field("metadata", message(UPLOAD_METADATA)), field("chunk", size(MAX_BYTES))),
        ),
        (assets.GetAssetRequest, (USER_ID, field("asset_id", uuid()))),
        (assets.ListAssetsRequest, (USER_ID, *PAGE)),
        (assets.DeleteAssetRequest, (USER_ID, field("asset_id", uuid()))),
        (assets.RenameAssetRequest, (USER_ID, field("asset_id", uuid()), field("name", text(NAME_MAX_CHARS)))),
        (
            assets.SearchAssetsRequest,
            (USER_ID, field("query", text(QUERY_MAX_CHARS, required=True)), SEARCH_LIMIT, MIN_SCORE),
        ),
        (assets.SimilarAssetsRequest, (USER_ID, field("asset_id", uuid()), SEARCH_LIMIT, MIN_SCORE)),
        (
            assets.RecommendAssetsRequest,
            (USER_ID, field("asset_ids", count(MAX_SELECTION, min_items=1), each(uuid())), SEARCH_LIMIT),
        ),
        # adgen.video.v1 (the gateway): the caller is known from the metadata, not the message.
        (video.CreateVideoRequest, (field("request", message(VIDEO_REQUEST), required=True),)),
        (video.GetVideoRequest, (VIDEO_ID,)),
        (video.WatchVideoRequest, (VIDEO_ID,)),
        (video.ListVideosRequest, PAGE),
        (video.CancelVideoRequest, (VIDEO_ID,)),
        (video.RetryVideoRequest, (VIDEO_ID,)),
        (video.ApproveVideoRequest, (VIDEO_ID,)),
        (video.ListVersionsRequest, (VIDEO_ID,)),
        (video.EditPlanRequest, (VIDEO_ID, field("plan_revision", between(1, 2**31 - 1)), *PLAN_EDITS)),
        (
            video.RegenerateFrameRequest,
            (
                VIDEO_ID,
                field("beat_index", between(0, SPEC_MAX_BEATS - 1)),
                field("prompt", text(400)),
                field("seed", between(1, 2**31 - 1)),
            ),
        ),
        # adgen.voice.v1: whether a voice exists is the service's to say (NOT_FOUND, or INVALID_ARGUMENT in a line).
        (
            voice.SynthesizeRequest,
            (
                VIDEO_ID,
                USER_ID,
                field("beat_index", between(0, SPEC_MAX_BEATS - 1)),
                field("text", text(VOICEOVER_MAX_CHARS)),
                field("voice", VOICE_KEY),
                field("target_s", between(0, DURATION_MAX_S, unit=" s")),
            ),
        ),
        (voice.ListVoicesRequest, NO_RULES),
        (voice.GetVoiceSampleRequest, (field("voice", VOICE_KEY, required=True),)),
    ]
}
