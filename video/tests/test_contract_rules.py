"""The contracts' rules alone (no gRPC): field paths, the shared video-request limits, presence, and
properties over generated values."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adgen.assets.v1 import assets_service_pb2 as assets_pb
from adgen.chunks.v1 import chunks_service_pb2 as chunks_pb
from adgen.common.v1 import common_pb2 as c
from adgen.export.v1 import export_service_pb2 as export_pb
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.storyboard.v1 import storyboard_service_pb2 as storyboard_pb
from adgen.video.v1 import video_service_pb2 as video_pb
from adgen_video.contract_rules import BEAT_DURATIONS_S, SPEC_MAX_BEATS, violations
from adgen_video.request_limits import request_errors


def fields(message) -> list[str]:
    return [v.field for v in violations(message)]


def good_request(**changes: object) -> c.VideoRequest:
    request = c.VideoRequest(prompt="an ad for a kettle", duration_s=10, aspect_ratio=c.ASPECT_RATIO_16_9)
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def test_a_valid_request_passes_and_nested_paths_are_named() -> None:
    assert violations(planner_pb.PlanRequest(request=good_request())) == []
    spec = c.Spec(beats=[c.Beat(index=i, duration_s=5) for i in range(3)])
    spec.beats[2].duration_s = 7
    spec.beats[1].reference_asset_ids.append("nope")
    found = violations(
        storyboard_pb.RenderFrameRequest(video_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), spec=spec)
    )
    assert [str(v) for v in found] == [
        "spec.beats[1].reference_asset_ids[0]: must be a UUID in canonical form (lowercase 8-4-4-4-12 hex), got 'nope'",
        "spec.beats[2].duration_s: must be 5, 10 or 15, got 7",
    ]


def test_the_video_request_reuses_the_shared_limits() -> None:
    bad = good_request(prompt="", duration_s=7, creativity=3.0)
    shared = [f"request.{e.field}" for e in request_errors(bad)]
    assert shared == ["request.prompt", "request.duration_s", "request.creativity"]
    assert fields(video_pb.CreateVideoRequest(request=bad)) == shared


@pytest.mark.parametrize("bad", [7, 5, 61, 65, -5, -30, 2**31 - 1])
def test_a_duration_of_0_is_not_given_and_explicit_bad_ones_are_refused(bad: int) -> None:
    """proto3 cannot tell 0 from unset: 0 means "the prompt's length, else 30 s" (adgen_video.durations)."""
    assert fields(video_pb.CreateVideoRequest(request=good_request(duration_s=0))) == []
    assert fields(planner_pb.PlanRequest(request=good_request(duration_s=0))) == []
    refused = [f"request.{e.field}: {e.message}" for e in request_errors(good_request(duration_s=bad))]
    assert refused == ["request.duration_s: must be a multiple of 5 between 10 and 60 seconds"]
    assert fields(planner_pb.QuoteRequest(request=good_request(duration_s=bad))) == ["request.duration_s"]


def test_required_messages_and_optional_scalars() -> None:
    assert fields(video_pb.CreateVideoRequest()) == ["request"]
    assert fields(export_pb.ExportRequest(video_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()))) == [
        "spec",
        "refined_key",
    ]
    # min_score is `optional`: unset is not checked, set to 0 is (and passes), out of range is refused.
    user = str(uuid.uuid4())
    assert fields(assets_pb.SearchAssetsRequest(user_id=user, query="red shoes")) == []
    assert fields(assets_pb.SearchAssetsRequest(user_id=user, query="red shoes", min_score=0)) == []
    assert fields(assets_pb.SearchAssetsRequest(user_id=user, query="red shoes", min_score=-1.5)) == ["min_score"]
    # A budget cap is `optional` too: unset means none, zero or less is no cap at all.
    assert fields(video_pb.CreateVideoRequest(request=good_request())) == []
    assert fields(video_pb.CreateVideoRequest(request=good_request(max_cost_micros=0))) == ["request.max_cost_micros"]


def test_an_upload_message_carries_one_part() -> None:
    assert fields(assets_pb.UploadAssetRequest()) == ["part"]
    assert fields(assets_pb.UploadAssetRequest(chunk=b"x")) == []
    meta = assets_pb.UploadAssetMetadata(user_id="someone", filename="a.png")
    assert fields(assets_pb.UploadAssetRequest(metadata=meta)) == ["metadata.user_id"]


@given(st.uuids())
def test_any_canonical_uuid_passes(value: uuid.UUID) -> None:
    assert fields(video_pb.GetVideoRequest(video_id=str(value))) == []


@given(st.text(max_size=60))
def test_text_that_is_not_a_canonical_uuid_is_refused(value: str) -> None:
    try:
        canonical = str(uuid.UUID(value)) == value
    except ValueError:
        canonical = False
    assert fields(video_pb.GetVideoRequest(video_id=value)) == ([] if canonical else ["video_id"])


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers(min_value=0, max_value=SPEC_MAX_BEATS - 1))
def test_a_beat_duration_is_5_10_or_15_wherever_the_beat_is(duration: int, position: int) -> None:
    spec = c.Spec(beats=[c.Beat(index=i, duration_s=5) for i in range(position + 1)])
    spec.beats[position].duration_s = duration
    found = fields(chunks_pb.RenderChunkRequest(video_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), spec=spec))
    assert found == ([] if duration in BEAT_DURATIONS_S else [f"spec.beats[{position}].duration_s"])


@given(st.integers(min_value=-1000, max_value=1000))
def test_page_sizes_are_0_to_100(size: int) -> None:
    assert fields(video_pb.ListVideosRequest(page_size=size)) == ([] if 0 <= size <= 100 else ["page_size"])


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_overlap_fraction_refuses_nan_and_out_of_range(value: float) -> None:
    request = chunks_pb.PlanChunksRequest(beats=[chunks_pb.BeatSpan(start_s=0, duration_s=5)], overlap_fraction=value)
    assert fields(request) == ([] if 0.0 <= value <= 0.4 else ["overlap_fraction"])
