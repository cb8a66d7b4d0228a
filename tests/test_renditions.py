"""Several shapes of one video: the request's validation, one refine rendering every shape from the
same chunks, one export publishing them all, and the gateway listing and serving each of them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
import seeding
from media_checks import decode

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_export.server import link_cache
from adgen_export.worker import Exporter
from adgen_kernel.errors import NotFound
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.serve import Connections
from adgen_refine.worker import Refiner
from adgen_video import keys
from adgen_video.rendition_rows import PublishedRendition, published_renditions, record_renditions
from adgen_video.request_limits import aspect_ratio_errors
from adgen_video.video_runs import mark_completed

pytestmark = pytest.mark.xdist_group("stack")

FPS = 24
A169, A916, A11 = common_pb2.ASPECT_RATIO_16_9, common_pb2.ASPECT_RATIO_9_16, common_pb2.ASPECT_RATIO_1_1


# ----------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ratios", "fault"),
    [
        ([A169], None),
        ([A916, A169, A11], None),
        ([A169, A169], "16:9 is repeated"),
        ([A169, A916, A11, A169], "at most 3"),
        ([A169, 42], "must be one of"),
        ([common_pb2.ASPECT_RATIO_UNSPECIFIED], "must be one of"),
    ],
)
def test_the_shapes_of_a_request_are_known_distinct_and_few(ratios: list[int], fault: str | None) -> None:
    errors = aspect_ratio_errors(ratios)
    if fault is None:
        assert errors == []
    else:
        assert [e.field for e in errors] == ["aspect_ratio"] and fault in errors[0].message


@pytest.fixture(scope="module")
async def key(stack) -> str:
    return await stack.new_user(f"renditions-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize(
    "aspect_ratio",
    [["16:9", "16:9"], ["4:3"], [], ["16:9", "9:16", "1:1", "16:9"], 5, "square", [None], "16:9,9:16"],
)
async def test_bad_shapes_are_a_problem_naming_aspect_ratio(stack, key, aspect_ratio) -> None:
    async with stack.client(key) as client:
        response = await client.post("/v1/plans", json={"prompt": "ad for shoes", "aspect_ratio": aspect_ratio})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["aspect_ratio"]


async def test_a_list_of_shapes_plans_the_first_and_adds_the_others(stack, key) -> None:
    async with stack.client(key) as client:
        response = await client.post(
            "/v1/plans", json={"prompt": "ad for shoes", "duration_s": 10, "aspect_ratio": ["9:16", "1:1", "16:9"]}
        )
        single = await client.post(
            "/v1/plans", json={"prompt": "ad for shoes", "duration_s": 10, "aspect_ratio": "1:1"}
        )
    assert response.status_code == 200, response.text
    spec = response.json()["spec"]
    assert (spec["output"]["width"], spec["output"]["height"]) == (720, 1280)
    assert [(o["aspect_ratio"], o["width"], o["height"]) for o in spec["extra_outputs"]] == [
        ("ASPECT_RATIO_1_1", 720, 720),
        ("ASPECT_RATIO_16_9", 1280, 720),
    ]
    assert single.status_code == 200 and single.json()["spec"]["extra_outputs"] == []


# ----------------------------------------------------------------------- refine and export, for real


W, H = 192, 108
SHAPES = {A169: (W, H), A916: (108, 192), A11: (108, 108)}


def spec() -> common_pb2.Spec:
    """Two beats of one second at 16:9, delivered as 16:9, 9:16 and 1:1."""
    slots = [
        common_pb2.ChunkSlot(index=0, beat_index=0, start_frame=0, used_frames=16),
        common_pb2.ChunkSlot(
            index=1, beat_index=0, index_in_beat=1, start_frame=10, used_frames=14, overlap_in_frames=6
        ),
        common_pb2.ChunkSlot(index=2, beat_index=1, start_frame=24, used_frames=24),
    ]
    outputs = [common_pb2.OutputFormat(aspect_ratio=r, width=w, height=h, fps=FPS) for r, (w, h) in SHAPES.items()]
    return common_pb2.Spec(
        archetype_id="luxury_showcase",
        duration_s=2,
        seed=5,
        call_to_action="Shop now",
        style=common_pb2.Style(mood="calm"),
        beats=[
            common_pb2.Beat(index=0, start_s=0, duration_s=1, headline="Hello", energy=common_pb2.ENERGY_LOW),
            common_pb2.Beat(index=1, start_s=1, duration_s=1, headline="Goodbye", energy=common_pb2.ENERGY_LOW),
        ],
        chunk_plan=common_pb2.ChunkPlan(fps=FPS, total_frames=48, slots=slots),
        output=outputs[0],
        extra_outputs=outputs[1:],
    )


def subject_clip(path: Path, frames: int, cx: float) -> Path:
    """A dim backdrop with a bright, detailed 30-pixel product centred at ``cx`` of the width."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264rgb", rate=FPS, options={"crf": "0", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
        yy, xx = np.mgrid[0:30, 0:30]
        product = (215 + 40 * np.sign(np.sin(xx / 2.0) * np.sin(yy / 2.0))).clip(0, 255).astype(np.uint8)
        for _ in range(frames):
            image = np.broadcast_to(np.linspace(30, 70, H, dtype=np.uint8)[:, None, None], (H, W, 3)).copy()
            x0 = round(cx * W) - 15
            image[39:69, x0 : x0 + 30] = product[..., None]
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


async def new_video(c: Connections) -> tuple[str, str]:
    user = (await seeding.user(c.db)).user_id
    return user, await seeding.video(c.db, user_id=user, status="refining")


async def test_one_refine_and_one_export_deliver_every_shape(connections: Connections, tmp_path: Path) -> None:
    c = connections
    user, video = await new_video(c)
    plan = spec()
    # The product sits on the left third in beat 0 and on the right third in beat 1: a centre crop
    # to 9:16 (the middle 30 % of the width) would lose it in both.
    for slot, cx in zip(plan.chunk_plan.slots, (0.3, 0.3, 0.7), strict=True):
        clip = subject_clip(tmp_path / f"{slot.index}.mp4", slot.used_frames, cx)
        await c.store.put_file(keys.chunk_key(user, video, slot.index), clip, "video/mp4")

    refiner = Refiner(c, crf=18, preset="ultrafast")
    await refiner.handle(events_pb2.RefineWork(video_id=video, user_id=user, spec=plan), WorkContext(1, "test"))
    refined = [keys.refined_key(user, video, tag) for tag in ("", "9x16", "1x1")]
    assert all([await c.store.exists(k) for k in refined]), "one refine rendered every shape"

    exporter = Exporter(c, url_ttl_s=3600, keep_intermediates=False, links=await link_cache(c, 3600))
    work = events_pb2.ExportWork(video_id=video, user_id=user, spec=plan, refined_key=refined[0])
    await exporter.handle(work, WorkContext(1, "test"))

    row = await c.db.fetchrow("SELECT status, final_key FROM videos WHERE video_id = $1", video)
    assert row is not None
    assert row["status"] == "completed" and row["final_key"] == keys.final_key(user, video), "primary keys unchanged"
    left = await c.store.list_keys(keys.chunks_prefix(user, video))
    assert not set(left) & set(keys.refined_keys(user, video, ["", "9x16", "1x1"])), (
        "refined videos go after every shape"
    )
    assert keys.chunk_key(user, video, 0) in left, "the clips stay: a new version is made from them"
    recorded = await c.db.fetch(
        "SELECT aspect_ratio, is_primary, width, height, final_key, poster_key, captions_key FROM renditions"
        " WHERE video_id = $1 ORDER BY position",
        video,
    )
    assert [(r["aspect_ratio"], r["is_primary"], r["width"], r["height"]) for r in recorded] == [
        ("16:9", True, 192, 108),
        ("9:16", False, 108, 192),
        ("1:1", False, 108, 108),
    ]
    assert [r["final_key"] for r in recorded] == [
        keys.final_key(user, video),
        keys.final_key(user, video, "9x16"),
        keys.final_key(user, video, "1x1"),
    ]
    assert {r["captions_key"] for r in recorded} == {keys.captions_key(user, video)}

    for r in recorded:
        path = tmp_path / f"final-{r['width']}x{r['height']}.mp4"
        await c.store.download_file(r["final_key"], path)
        decoded = decode(path)
        assert (decoded.width, decoded.height) == (r["width"], r["height"])
        assert decoded.frame_count == 48 and len(decoded.pts_steps) == 1
        assert abs(decoded.duration_s - 2.0) <= 1 / FPS
        assert decoded.audio_streams == 1 and abs(decoded.audio_duration_s - 2.0) <= 0.05
        assert decoded.audio_rms > 0.01
        with av.open(str(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        for t in (8, 36):  # the middle of each beat, between the captions' fades
            bright = (frames[t].mean(axis=-1) > 170).astype(np.uint8)
            bright[int(0.6 * r["height"]) :] = 0  # below the product: the supers' band
            count, _, stats, _ = cv2.connectedComponentsWithStats(bright)
            assert count > 1, f"{r['aspect_ratio']} frame {t}: the product is not in frame"
            x, _, w, _, _ = stats[1:][np.argmax(stats[1:, 4])]
            assert x > 0 and x + w < r["width"], f"{r['aspect_ratio']} frame {t}: the product is cut at the side"
        poster = cv2.imdecode(np.frombuffer(await c.store.get_bytes(r["poster_key"]), np.uint8), cv2.IMREAD_COLOR)
        assert poster is not None and poster.shape[:2] == (r["height"], r["width"])

    url, _ = await exporter.download_url(video, user, "9:16")
    async with httpx.AsyncClient() as client:
        body = (await client.get(url)).content
    assert body == (tmp_path / "final-108x192.mp4").read_bytes()
    links = await exporter.renditions(video, user)
    assert [(link.aspect_ratio, link.primary) for link in links] == [("16:9", True), ("9:16", False), ("1:1", False)]
    assert links[1].video[0] == url, "the cached link is reused"
    async with httpx.AsyncClient() as client:
        vtt = (await client.get(links[2].captions[0])).text  # type: ignore[index]
        poster_file = (await client.get(links[2].poster[0])).content
    assert vtt.startswith("WEBVTT") and "Hello" in vtt and poster_file[:2] == b"\xff\xd8"

    # A redelivered export changes nothing and still has every shape.
    await exporter.handle(work, WorkContext(2, "test"))
    assert await c.db.fetchval("SELECT count(*) FROM renditions WHERE video_id = $1", video) == 3


async def test_a_shape_the_video_was_not_made_in_is_not_found(connections: Connections) -> None:
    c = connections
    user, video = await new_video(c)
    assert await mark_completed(c.db, video, final_key="x", poster_key="y")
    exporter = Exporter(c, url_ttl_s=3600, keep_intermediates=False, links=await link_cache(c, 3600))
    with pytest.raises(NotFound, match="no 9:16 rendition"):
        await exporter.download_url(video, user, "9:16")
    with pytest.raises(NotFound):
        await exporter.renditions(video, str(uuid.uuid4()))


# ------------------------------------------------------------------------------ through the gateway


@pytest.mark.e2e
async def test_the_gateway_lists_and_serves_every_shape(stack, key, tmp_path: Path) -> None:
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos",
            json={
                "prompt": "10 second ad for a ceramic mug",
                "duration_s": 10,
                "seed": 3,
                "aspect_ratio": ["16:9", "9:16"],
            },
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        planned: list[dict] = []
        for _ in range(1200):
            video = (await client.get(f"/v1/videos/{video_id}")).json()
            if video["status"] in ("completed", "failed", "cancelled"):
                break
            planned = planned or video["renditions"]
            await asyncio.sleep(0.5)
        assert video["status"] == "completed", video
        shapes = [(r["aspect_ratio"], r["width"], r["height"], r["primary"]) for r in video["renditions"]]
        assert shapes == [("16:9", 1280, 720, True), ("9:16", 720, 1280, False)]
        assert all(r["download_url"] is None for r in planned), "links only once completed"
        redirect = await client.get(f"/v1/videos/{video_id}/download?aspect_ratio=9:16", follow_redirects=False)
        assert redirect.status_code == 302
        bad = await client.get(f"/v1/videos/{video_id}/download?aspect_ratio=4:3")
        missing = await client.get(f"/v1/videos/{video_id}/download?aspect_ratio=1:1")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "aspect_ratio"
    assert missing.status_code == 404 and "1:1" in missing.json()["detail"]
    async with httpx.AsyncClient() as plain:
        for r in video["renditions"]:
            path = tmp_path / f"{r['width']}x{r['height']}.mp4"
            path.write_bytes((await plain.get(r["download_url"])).content)
            decoded = decode(path)
            assert (decoded.width, decoded.height) == (r["width"], r["height"])
            assert decoded.frame_count == 10 * FPS and abs(decoded.duration_s - 10.0) <= 1 / FPS
            assert decoded.audio_streams == 1 and decoded.audio_rms > 0.01
            assert (await plain.get(r["poster_url"])).content[:2] == b"\xff\xd8"
            assert (await plain.get(r["captions_url"])).text.startswith("WEBVTT")
        via_route = (await plain.get(redirect.headers["location"])).content
    assert via_route == (tmp_path / "720x1280.mp4").read_bytes()


async def test_two_exporters_of_one_video_record_its_renditions_one_after_the_other(connections: Connections) -> None:
    """A redelivered export can run beside the first try. Had both inserted at once, the second
    would break the one-primary index (ON CONFLICT covers only the shape's own index): a CI run saw
    it. So the second waits on the video's row before it writes anything, and then updates the
    first's rows."""
    c = connections
    user, video = await new_video(c)
    published = [
        PublishedRendition(
            aspect_ratio=ratio,
            primary=position == 0,
            position=position,
            width=w,
            height=h,
            final_key=keys.final_key(user, video, tag),
            poster_key=keys.poster_key(user, video, tag),
            captions_key=None,
        )
        for position, (ratio, tag, w, h) in enumerate([("16:9", "", 192, 108), ("9:16", "9x16", 108, 192)])
    ]
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def second_try() -> None:
        async with c.db.acquire() as conn, conn.transaction():
            started.set_result(await conn.fetchval("SELECT pg_backend_pid()"))
            await record_renditions(conn, video, 1, published)

    async with c.db.acquire() as first, first.transaction():
        await record_renditions(first, video, 1, published)
        late = asyncio.create_task(second_try())
        pid = await started
        # The second try waits on the video's row, before it has written a rendition.
        waiting = None
        while waiting is None and not late.done():
            await asyncio.sleep(0.01)
            waiting = await c.db.fetchval(
                "SELECT query FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", pid
            )
        assert waiting is not None and "FOR UPDATE" in waiting, f"the second exporter waits first, in {waiting}"
    await late  # raises if the second broke the one-primary index

    assert [(r.aspect_ratio, r.primary) for r in await published_renditions(c.db, video, 1)] == [
        ("16:9", True),
        ("9:16", False),
    ]
