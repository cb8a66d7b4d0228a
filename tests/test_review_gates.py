"""Review gates on the session stack (studio providers): a video asked to stop after its plan or its
storyboard waits there, paying for nothing beyond the gate, until its owner approves; one image can
be drawn again at the storyboard gate; a gate left alone expires, and a retry opens it again. The
same flow against the fake Replicate, with its paid calls counted, is tests/test_review_gates_paid.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import grpc
import pytest
from test_streams import Sse, read_events
from test_video_grpc import auth, code_of

from adgen.common.v1 import common_pb2 as c
from adgen.video.v1 import video_service_pb2 as v
from adgen.video.v1 import video_service_pb2_grpc
from adgen_gateway.videos import ending
from adgen_kernel.serve import Connections
from adgen_planner.reconciler import expire_once

pytestmark = pytest.mark.xdist_group("stack")


async def attempts(db: asyncpg.Pool, video_id: str) -> dict[str, list[int]]:
    """Each unit kind's attempts, in index order."""
    vid = uuid.UUID(video_id)
    return {
        table: [
            r["attempts"]
            for r in await db.fetch(f"SELECT attempts FROM {table} WHERE video_id = $1 ORDER BY {index}", vid)
        ]
        for table, index in (("frames", "beat_index"), ("chunks", "chunk_index"), ("voice_lines", "beat_index"))
    }


async def ledger_units(db: asyncpg.Pool, video_id: str) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT phase, count(*) AS calls FROM cost_ledger WHERE video_id = $1 GROUP BY phase", uuid.UUID(video_id)
    )
    return {row["phase"]: row["calls"] for row in rows}


async def until_gate_event(client, video_id: str) -> Sse:
    """The event that said the video reached its gate."""
    events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events", stop_on="review_reached"), 90)
    assert events[-1].kind == "review_reached", [e.kind for e in events]
    return events[-1]


async def until_gate(client, video_id: str) -> dict:
    return (await until_gate_event(client, video_id)).data


async def test_a_plan_gate_pays_for_nothing_until_approved_and_approving_twice_is_harmless(stack, db) -> None:
    key = await stack.new_user(f"gate-plan-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": "10 second ad for a linen shirt", "review": "plan"})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        reached = await until_gate(client, video_id)
        assert reached["event"]["review_reached"]["review"]["stage"] == "REVIEW_STAGE_PLAN"
        assert reached["progress"]["status"] == "VIDEO_STATUS_AWAITING_REVIEW"

        waiting = (await client.get(f"/v1/videos/{video_id}")).json()
        assert waiting["status"] == "awaiting_review", waiting
        review = waiting["review"]
        beats = len(waiting["spec"]["beats"])
        assert review["stage"] == "plan" and review["ready"]["frames"] == 0 and review["ready"]["beats"] == beats
        assert review["spent_usd"] == 0 and review["expires_at"]
        assert {line["phase"] for line in review["quote"]} >= {"storyboard", "chunks"}, "the rest is quoted"
        assert waiting["progress"]["message"].startswith("waiting for your review")
        assert "eta_s" not in waiting["progress"], "no ETA while it waits on its owner"
        # Nothing after the plan has started: no frame, chunk or line was tried, nothing is in the ledger.
        tried = await attempts(db, video_id)
        assert tried["frames"] == [0] * beats and set(tried["chunks"]) == {0} and set(tried["voice_lines"]) <= {0}
        assert await ledger_units(db, video_id) == {}

        first, second = await asyncio.gather(
            client.post(f"/v1/videos/{video_id}/approve"), client.post(f"/v1/videos/{video_id}/approve")
        )
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        assert {first.json()["status"], second.json()["status"]} <= {"rendering", "refining", "exporting"}
        assert first.json()["review"] is None

        events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events"), 120)
        kinds = [e.kind for e in events]
        assert kinds[-1] == "video_completed", kinds
        assert kinds.count("video_approved") == 1, "the second approval changed nothing"
        assert kinds.index("review_reached") < kinds.index("video_approved") < kinds.index("frame_ready")
        again = await client.post(f"/v1/videos/{video_id}/approve")
        assert again.status_code == 202 and again.json()["status"] == "completed"
    # Every unit made once, all after the approval.
    tried = await attempts(db, video_id)
    assert all(set(counts) <= {1} for counts in tried.values()) and tried["chunks"], tried


async def test_at_the_storyboard_gate_one_image_is_drawn_again_and_approval_renders_the_clips(stack, db) -> None:
    key = await stack.new_user(f"gate-board-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos", json={"prompt": "15 second ad for a ceramic teapot", "duration_s": 15, "review": "storyboard"}
        )
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        last_sequence = int((await until_gate_event(client, video_id)).id)
        waiting = (await client.get(f"/v1/videos/{video_id}")).json()
        beats = len(waiting["spec"]["beats"])
        review = waiting["review"]
        assert review["stage"] == "storyboard" and review["ready"]["frames"] == beats, review
        assert {line["phase"] for line in review["quote"]} <= {"chunks", "refine", "voice"}, "the images are bought"
        tried = await attempts(db, video_id)
        assert tried["frames"] == [1] * beats and set(tried["chunks"]) == {0}, tried
        paid = await ledger_units(db, video_id)  # the voice speaks beside the storyboard: its lines may be paid
        assert paid["PHASE_STORYBOARD"] == beats and "PHASE_CHUNKS" not in paid, paid
        # While an image is being drawn (here: marked so), the gate holds: no approval, no second drawing.
        vid = uuid.UUID(video_id)
        await db.execute("UPDATE frames SET status = 'pending' WHERE video_id = $1 AND beat_index = 0", vid)
        busy = await client.post(f"/v1/videos/{video_id}/approve")
        twice = await client.post(f"/v1/videos/{video_id}/frames/0/regenerate")
        await db.execute("UPDATE frames SET status = 'done' WHERE video_id = $1 AND beat_index = 0", vid)
        assert busy.status_code == 409 and "being drawn again" in busy.json()["detail"], busy.text
        assert twice.status_code == 409 and "already" in twice.json()["detail"], twice.text

        drawn = await client.post(
            f"/v1/videos/{video_id}/frames/1/regenerate", json={"prompt": "teapot on a slate table at dusk"}
        )
        assert drawn.status_code == 202, drawn.text
        assert drawn.json()["status"] == "awaiting_review", "still at the gate while the image is drawn"
        redrawn = await asyncio.wait_for(
            read_events(
                client, f"/v1/videos/{video_id}/events", stop_on="frame_ready", last_event_id=str(last_sequence)
            ),
            60,
        )
        assert redrawn[-1].data["event"]["frame_ready"]["beat_index"] == 1
        frames = (await client.get(f"/v1/videos/{video_id}/frames")).json()["frames"]
        assert [f["take"] for f in frames] == [1 if f["beat_index"] == 1 else 0 for f in frames]
        assert all(f["status"] == "done" and f["url"] for f in frames)
        spec_prompt = (await client.get(f"/v1/videos/{video_id}")).json()["spec"]["beats"][1]["prompt"]
        assert spec_prompt == "teapot on a slate table at dusk", "the new prompt is the plan's now"

        key_of_beat_1 = await db.fetchval("SELECT image_key FROM frames WHERE video_id = $1 AND beat_index = 1", vid)
        assert key_of_beat_1.endswith("beat_01_take1.png")
        assert await stack.store().exists(key_of_beat_1.replace("_take1", "")), "the first take is kept"
        assert (await ledger_units(db, video_id))["PHASE_STORYBOARD"] == beats + 1, "exactly one more image"

        assert (await client.post(f"/v1/videos/{video_id}/approve")).status_code == 202
        events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events"), 150)
        assert events[-1].kind == "video_completed", [e.kind for e in events]
    tried = await attempts(db, video_id)
    assert tried["frames"] == [1, 2, *([1] * (beats - 2))], tried
    assert set(tried["chunks"]) == {1}, "each clip made once, after the approval"


async def test_bad_review_calls_are_problems_naming_the_field(stack) -> None:
    key = await stack.new_user(f"gate-bad-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"gate-stranger-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client, stack.client(stranger) as other:
        bad = await client.post("/v1/videos", json={"prompt": "ad for a lamp", "review": "later"})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in bad.json()["errors"]] == ["review"]

        created = await client.post("/v1/videos", json={"prompt": "10 second ad for a desk lamp", "review": "plan"})
        video_id = created.json()["id"]
        await until_gate(client, video_id)
        regenerate = f"/v1/videos/{video_id}/frames"
        at_plan_gate = await client.post(f"{regenerate}/0/regenerate")
        assert at_plan_gate.status_code == 409 and "storyboard gate" in at_plan_gate.json()["detail"]
        unknown = await client.post(f"{regenerate}/0/regenerate", json={"colour": "red"})
        assert unknown.status_code == 422 and [e["field"] for e in unknown.json()["errors"]] == ["colour"]
        wordy = await client.post(f"{regenerate}/0/regenerate", json={"prompt": "word " * 40})
        assert wordy.status_code == 422 and [e["field"] for e in wordy.json()["errors"]] == ["prompt"]
        assert (await other.post(f"/v1/videos/{video_id}/approve")).status_code == 404
        assert (await other.post(f"{regenerate}/0/regenerate")).status_code == 404

        plain = await client.post("/v1/videos", json={"prompt": "10 second ad for a floor lamp"})
        running = await client.post(f"/v1/videos/{plain.json()['id']}/approve")
        assert running.status_code == 409 and running.headers["content-type"].startswith("application/problem+json")
        assert "only a video waiting at its review gate" in running.json()["detail"]

        async with grpc.aio.insecure_channel(stack.address("gateway")) as channel:
            stub = video_service_pb2_grpc.VideoServiceStub(channel)
            meta = auth(key)
            code, detail = await code_of(
                stub.ApproveVideo(v.ApproveVideoRequest(video_id=plain.json()["id"]), metadata=meta)
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION and "review gate" in detail
            code, _ = await code_of(
                stub.ApproveVideo(v.ApproveVideoRequest(video_id=video_id), metadata=auth(stranger))
            )
            assert code == grpc.StatusCode.NOT_FOUND
            code, detail = await code_of(
                stub.RegenerateFrame(v.RegenerateFrameRequest(video_id=video_id, beat_index=0), metadata=meta)
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION and "storyboard gate" in detail
            code, detail = await code_of(
                stub.CreateVideo(
                    v.CreateVideoRequest(request=c.VideoRequest(prompt="ad for a lamp", review=cast(c.ReviewStage, 7))),
                    metadata=meta,
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and "review" in detail
            # The waiting video held no rendering slot (the user has one); going on takes it back.
            code, detail = await code_of(stub.ApproveVideo(v.ApproveVideoRequest(video_id=video_id), metadata=meta))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "limit is 1" in detail
            assert (await client.post(f"/v1/videos/{plain.json()['id']}/cancel")).status_code == 202
            approved = await stub.ApproveVideo(v.ApproveVideoRequest(video_id=video_id), metadata=meta)
            assert approved.video.status == c.VIDEO_STATUS_RENDERING and not approved.video.HasField("review")
        assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202


async def test_a_gate_left_alone_expires_and_a_retry_opens_it_again(stack, db, connections: Connections) -> None:
    key = await stack.new_user(f"gate-expiry-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": "10 second ad for a wool hat", "review": "plan"})
        video_id = created.json()["id"]
        await until_gate(client, video_id)
        first_expiry = datetime.fromisoformat(
            (await client.get(f"/v1/videos/{video_id}")).json()["review"]["expires_at"]
        )
        assert first_expiry > datetime.now(UTC) + timedelta(days=6), "the default week"
        assert video_id not in await expire_once(connections.db, connections.js), "not yet past its time"
        # The gate's time is up (the stack's gateway gave it the default week).
        await db.execute(
            "UPDATE videos SET review_expires_at = now() - interval '1 second' WHERE video_id = $1", uuid.UUID(video_id)
        )
        assert video_id in await expire_once(connections.db, connections.js)
        events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events"), 30)
        # A finished video's stream answers at once with its status, at the sequence of its terminal event.
        assert [e.kind for e in events] == ["expired"]
        end = await ending(connections.js, video_id, "expired")
        assert end is not None and end.replayable and events[0].id == str(end.sequence), "video_expired was told"
        expired = (await client.get(f"/v1/videos/{video_id}")).json()
        assert expired["status"] == "expired" and expired["progress"]["status"] == "VIDEO_STATUS_EXPIRED"
        assert expired["review"] is None and "retry" in expired["progress"]["message"]
        assert (await client.post(f"/v1/videos/{video_id}/approve")).status_code == 409

        retried = await client.post(f"/v1/videos/{video_id}/retry")
        assert retried.status_code == 202, retried.text
        again = (await client.get(f"/v1/videos/{video_id}")).json()
        assert again["status"] == "awaiting_review" and again["run"] == 2, again
        assert datetime.fromisoformat(again["review"]["expires_at"]) > first_expiry, "a whole new week"
        assert (await attempts(db, video_id))["frames"] == [0] * len(again["spec"]["beats"]), "still nothing paid"
        cancelled = await client.post(f"/v1/videos/{video_id}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"


async def test_the_plan_is_edited_at_its_gate_and_the_video_is_made_from_the_edit(stack, db) -> None:
    key = await stack.new_user(f"gate-edit-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"gate-edit-stranger-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client, stack.client(stranger) as other:
        created = await client.post(
            "/v1/videos",
            json={
                "prompt": "20 second ad for a titanium watch, luxury feel",
                "duration_s": 20,
                "seed": 6,  # four 5 s beats: an opening, two middles, a closing
                "review": "plan",
            },
        )
        video_id = created.json()["id"]
        await until_gate(client, video_id)
        planned = (await client.get(f"/v1/videos/{video_id}")).json()
        assert planned["plan_revision"] == 1 and len(planned["spec"]["beats"]) == 4
        plan = f"/v1/videos/{video_id}/plan"
        edit = {
            "plan_revision": 1,
            "beats": [{"index": 1, "headline": "Built for decades", "voiceover": "Built to outlast you."}],
            "order": [0, 2, 1, 3],
        }

        # Two edits of revision 1 at once: one wins, the other is told which revision is current.
        first, second = await asyncio.gather(client.patch(plan, json=edit), client.patch(plan, json=edit))
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        lost = first if first.status_code == 409 else second
        assert lost.json()["errors"] == [{"field": "plan_revision", "message": "the current one is 2"}]
        edited = (await client.get(f"/v1/videos/{video_id}")).json()
        beats = edited["spec"]["beats"]
        assert edited["plan_revision"] == 2 and edited["status"] == "awaiting_review"
        assert [b["beat_id"] for b in beats] == [planned["spec"]["beats"][i]["beat_id"] for i in (0, 2, 1, 3)]
        assert beats[2]["headline"] == "Built for decades" and beats[2]["start_s"] == 10
        assert edited["review"]["stage"] == "plan" and edited["review"]["quote"], "quoted again"

        faults = await client.patch(
            plan,
            json={
                "plan_revision": 2,
                "beats": [
                    {"index": 7, "headline": "x"},
                    {"index": 0, "voiceover": "word " * 30 + "end."},
                    {"index": 1, "duration_s": 7},
                ],
            },
        )
        assert faults.status_code == 422 and faults.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in faults.json()["errors"]] == [
            "beats.0.index",
            "beats.1.voiceover",
            "beats.2.duration_s",
        ]
        unknown = await client.patch(plan, json={"plan_revision": 2, "beats": [{"index": 0, "colour": "red"}]})
        assert unknown.status_code == 422 and [e["field"] for e in unknown.json()["errors"]] == ["beats.0.colour"]
        assert (await other.patch(plan, json={"plan_revision": 2})).status_code == 404
        assert (await client.get(f"/v1/videos/{video_id}")).json()["plan_revision"] == 2, "refused edits change nothing"

        # The closing beat made 10 s long: the ad lasts 25 s, its chunks are planned again and it is quoted again.
        longer = await client.patch(plan, json={"plan_revision": 2, "beats": [{"index": 3, "duration_s": 10}]})
        assert longer.status_code == 200, longer.text
        spec = longer.json()["spec"]
        assert spec["duration_s"] == 25 and [b["duration_s"] for b in spec["beats"]] == [5, 5, 5, 10]
        assert spec["chunk_plan"]["total_frames"] == 25 * spec["chunk_plan"]["fps"]
        assert longer.json()["review"]["quote"] != edited["review"]["quote"], "quoted again"
        beats = spec["beats"]

        assert (await client.post(f"/v1/videos/{video_id}/approve")).status_code == 202
        late = await client.patch(plan, json={"plan_revision": 3, "beats": [{"index": 0, "headline": "Late"}]})
        assert late.status_code == 409 and "while it waits at its review gate" in late.json()["detail"]
        events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events"), 150)
        assert events[-1].kind == "video_completed", [e.kind for e in events]
        assert (await client.get(f"/v1/videos/{video_id}")).json()["progress"]["chunks_total"] == len(
            spec["chunk_plan"]["slots"]
        )
    # The units are the edited plan's: each made once, the moved beat's line spoken as edited.
    tried = await attempts(db, video_id)
    assert tried["frames"] == [1, 1, 1, 1] and set(tried["chunks"]) == {1}, tried
    lines = await db.fetch("SELECT beat_index FROM voice_lines WHERE video_id = $1", uuid.UUID(video_id))
    assert len(lines) == sum(1 for b in beats if b.get("voiceover"))


async def test_at_the_storyboard_gate_a_prompt_edit_draws_that_beat_again_and_the_order_stays(stack, db) -> None:
    key = await stack.new_user(f"gate-edit-board-{uuid.uuid4().hex[:8]}")
    async with stack.client(key) as client:
        created = await client.post(
            "/v1/videos",
            json={
                "prompt": "20 second ad for a titanium watch, luxury feel",
                "duration_s": 20,
                "seed": 6,
                "review": "storyboard",
            },
        )
        video_id = created.json()["id"]
        reached = await until_gate_event(client, video_id)
        plan = f"/v1/videos/{video_id}/plan"
        fixed = await client.patch(
            plan,
            json={"plan_revision": 1, "order": [0, 2, 1, 3], "beats": [{"index": 1, "voiceover": "Something new."}]},
        )
        assert fixed.status_code == 422, fixed.text
        assert [e["field"] for e in fixed.json()["errors"]] == ["order", "beats.0.voiceover"]

        before = await ledger_units(db, video_id)
        edited = await client.patch(
            plan,
            json={
                "plan_revision": 1,
                "beats": [
                    {"index": 2, "prompt": "watch face under moonlight, macro"},
                    {"index": 0, "headline": "Time, refined"},
                ],
            },
        )
        assert edited.status_code == 200, edited.text
        redrawn = await asyncio.wait_for(
            read_events(client, f"/v1/videos/{video_id}/events", stop_on="frame_ready", last_event_id=reached.id), 60
        )
        assert redrawn[-1].data["event"]["frame_ready"]["beat_index"] == 2
        frames = (await client.get(f"/v1/videos/{video_id}/frames")).json()["frames"]
        assert [f["take"] for f in frames] == [0, 0, 1, 0], "only the beat whose picture changed is drawn again"
        after = await ledger_units(db, video_id)
        assert after["PHASE_STORYBOARD"] == before["PHASE_STORYBOARD"] + 1 and "PHASE_CHUNKS" not in after
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert video["spec"]["beats"][0]["headline"] == "Time, refined" and video["plan_revision"] == 2
        assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202
