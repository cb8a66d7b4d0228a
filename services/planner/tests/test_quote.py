"""Quote maths: per-call prices and the dependency graph's critical path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adgen.common.v1 import common_pb2
from adgen_planner.composer import PlanRequest, compose
from adgen_planner.quote import REMOTE, STUDIO, BeatWork, Line, estimate
from adgen_planner.spec_mapping import plan_to_spec
from adgen_planner.worker import Planned, _estimate

HAILUO_MICROS = 190_000


def test_hailuo_fast_costs_clips_images_and_music() -> None:
    # 30 s on 6 s clips: beats of 5, 5, 10, 10 s animated by 1, 1, 2, 2 chunks; two beats show the product.
    beats = [BeatWork(0, 1, True), BeatWork(1, 1, False), BeatWork(2, 2, False), BeatWork(3, 2, True)]
    q = estimate(beats, video_model="hailuo_fast", price_per_clip_micros=HAILUO_MICROS, local=False)
    by_model = {line.model: line for line in q.lines}
    assert by_model["hailuo_fast"].units == 6 and by_model["hailuo_fast"].usd_micros == 6 * 190_000
    assert by_model["black-forest-labs/flux-dev"].usd_micros == 2 * 25_000
    assert by_model["xlabs-ai/flux-dev-controlnet"].usd_micros == 2 * 58_000
    assert by_model["meta/musicgen"].usd_micros == 150_000
    assert q.total_micros == 1_140_000 + 50_000 + 116_000 + 150_000
    # Plan 5 + image 8 + two clips 90 + refine 30 + export 5: the first two-chunk beat is the critical one.
    assert q.estimated_seconds == pytest.approx(138.0)
    assert q.slowest_beat == 2


def test_studio_costs_nothing_and_the_plan_line_is_kept() -> None:
    plan_line = Line(common_pb2.PHASE_PLAN, "openai", "gpt-4o-mini", 1500, 360)
    q = estimate(
        [BeatWork(0, 1, False), BeatWork(1, 3, False)],
        video_model="studio",
        price_per_clip_micros=0,
        local=True,
        plan_line=plan_line,
    )
    assert q.total_micros == 360
    assert q.lines[0] == plan_line
    assert q.estimated_seconds == pytest.approx(
        STUDIO.plan_s + STUDIO.image_s + 3 * STUDIO.clip_s + STUDIO.refine_s + STUDIO.export_s
    )


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one beat"):
        estimate([], video_model="wan", price_per_clip_micros=90_000, local=False)
    with pytest.raises(ValueError, match="at least one chunk"):
        estimate([BeatWork(0, 0, False)], video_model="wan", price_per_clip_micros=90_000, local=False)


@given(st.lists(st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=10), st.integers(0, 1_000_000))
def test_cost_is_per_call_and_time_is_the_slowest_beat(beats: list[tuple[int, bool]], price: int) -> None:
    work = [BeatWork(i, n, ref) for i, (n, ref) in enumerate(beats)]
    q = estimate(work, video_model="m", price_per_clip_micros=price, local=False)
    clips = sum(n for n, _ in beats)
    refs = sum(1 for _, ref in beats if ref)
    assert q.total_micros == clips * price + refs * 58_000 + (len(beats) - refs) * 25_000 + 150_000
    longest = max(n for n, _ in beats)
    assert q.estimated_seconds == pytest.approx(
        REMOTE.plan_s + REMOTE.image_s + longest * REMOTE.clip_s + REMOTE.refine_s + REMOTE.export_s
    )
    assert work[q.slowest_beat].chunks == longest
    # The graph beats a row of phases whenever more than one beat has chunks to render.
    sequential = REMOTE.plan_s + len(beats) * REMOTE.image_s + clips * REMOTE.clip_s + REMOTE.refine_s + REMOTE.export_s
    assert q.estimated_seconds <= sequential


def test_a_plan_with_product_images_prices_every_beats_image_as_controlnet() -> None:
    # Every beat now carries the product (composer.py), and the storyboard draws every beat that has
    # a product with ControlNet on Replicate: the quote prices exactly that, no flux-dev image left.
    request = common_pb2.VideoRequest(prompt="20 second ad for a titanium watch", duration_s=20)
    for asset_ids, controlnet in ((("a1", "a2"), True), ((), False)):
        spec = plan_to_spec(compose(PlanRequest(request.prompt, duration_s=20, asset_ids=asset_ids)), request)
        spec.chunk_plan.slots.extend(common_pb2.ChunkSlot(index=b.index, beat_index=b.index) for b in spec.beats)
        spec.chunk_plan.video_model, spec.chunk_plan.price_per_clip_micros = "hailuo_fast", HAILUO_MICROS
        by_model = {line.model: line for line in _estimate(Planned(spec, None, local=False)).lines}
        images = len(spec.beats)
        if controlnet:
            assert by_model["xlabs-ai/flux-dev-controlnet"].units == images
            assert "black-forest-labs/flux-dev" not in by_model
        else:
            assert by_model["black-forest-labs/flux-dev"].units == images
            assert "xlabs-ai/flux-dev-controlnet" not in by_model
