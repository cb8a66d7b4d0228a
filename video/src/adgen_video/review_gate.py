"""Review gates: where a video stops for its owner before paying for what follows.

A request may ask to stop after the plan (`plan`) or after the storyboard (`storyboard`). The gate
still ahead is the video's `review_gate`. Reaching it sets status `awaiting_review` and the time it
expires (`review_ttl_s` after, fixed when the video was accepted); approving clears it and the graph
goes on from what exists (ready_units holds back what lies beyond a gate still ahead). A gate left
alone past its time ends the run as `expired`; a retry opens it again. Every change of a gate is
made under the video's row lock (`refine_gate.lock_video` or `video_runs.locked_video_of_user`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from adgen.common.v1 import common_pb2
from adgen_kernel.db import Connection, Db
from adgen_video.review_quote import rest_of_quote
from adgen_video.video_state import cost_of, from_json

# A gate's name in the `videos` row, by its stage.
GATE_NAMES: dict[int, str] = {common_pb2.REVIEW_STAGE_PLAN: "plan", common_pb2.REVIEW_STAGE_STORYBOARD: "storyboard"}
GATE_STAGES: dict[str, common_pb2.ReviewStage] = {
    "plan": common_pb2.REVIEW_STAGE_PLAN,
    "storyboard": common_pb2.REVIEW_STAGE_STORYBOARD,
}


def gate_of(request: common_pb2.VideoRequest) -> str | None:
    """The gate a new video has ahead of it (None: it renders straight through)."""
    return GATE_NAMES.get(request.review)


async def pending_gate(db: Db, video_id: str) -> str | None:
    """The gate still ahead of the video (or at which it waits), None when there is none."""
    gate = await db.fetchval("SELECT review_gate FROM videos WHERE video_id = $1", video_id)
    return None if gate is None else str(gate)


async def asked_for_review(db: Db, video_id: str) -> bool:
    """Whether the video's request asked for a gate (whether or not it has been passed)."""
    stage = await db.fetchval("SELECT request->>'review' FROM videos WHERE video_id = $1", video_id)
    return stage not in (None, "", common_pb2.ReviewStage.Name(common_pb2.REVIEW_STAGE_UNSPECIFIED))


async def storyboard_complete(conn: Connection, video_id: str) -> bool:
    """Whether every storyboard image of the video is made, so its storyboard gate is reached. Call
    it under the video's row lock, with the frame just made already marked done."""
    undone = await conn.fetchval("SELECT count(*) FROM frames WHERE video_id = $1 AND status <> 'done'", video_id)
    return int(undone) == 0


async def gate_reached(conn: Connection, video_id: str) -> bool:
    """Whether the gate still ahead of the video is one it has reached: the plan gate once it is
    planned, the storyboard gate once every image is made (a retry then waits at it again)."""
    gate = await pending_gate(conn, video_id)
    if gate == "plan":
        return bool(await conn.fetchval("SELECT spec IS NOT NULL FROM videos WHERE video_id = $1", video_id))
    return gate == "storyboard" and await storyboard_complete(conn, video_id)


async def reach_gate(conn: Connection, video_id: str, gate: str) -> bool:
    """Stops a running video at `gate` when that is the gate ahead of it; True only for the call
    that stopped it (under the video's row lock, the second finds it stopped already)."""
    reached = await conn.execute(
        "UPDATE videos SET status = 'awaiting_review', updated_at = now(),"
        " review_expires_at = now() + make_interval(secs => review_ttl_s)"
        " WHERE video_id = $1 AND review_gate = $2 AND status IN ('queued', 'planning', 'rendering')",
        video_id,
        gate,
    )
    return bool(reached == "UPDATE 1")


async def pass_gate(conn: Connection, video_id: str) -> None:
    """The owner approved: the gate is gone and the video renders on."""
    await conn.execute(
        "UPDATE videos SET status = 'rendering', review_gate = NULL, review_expires_at = NULL, updated_at = now()"
        " WHERE video_id = $1",
        video_id,
    )


async def reopen_gate(conn: Connection, video_id: str) -> None:
    """A retried video whose gate had been reached waits at it again, for a whole new period."""
    await conn.execute(
        "UPDATE videos SET status = 'awaiting_review', updated_at = now(),"
        " review_expires_at = now() + make_interval(secs => review_ttl_s) WHERE video_id = $1",
        video_id,
    )


@dataclass(frozen=True)
class ExpiredGate:
    video_id: str
    run: int
    gate: str


async def expire_gates(db: Db, *, limit: int = 500) -> list[ExpiredGate]:
    """Ends the runs of up to `limit` videos whose gate was left alone past its time."""
    rows = await db.fetch(
        "UPDATE videos SET status = 'expired', updated_at = now() WHERE video_id IN ("
        " SELECT video_id FROM videos WHERE status = 'awaiting_review' AND review_expires_at <= now()"
        " ORDER BY review_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING video_id, run, review_gate",
        limit,
    )
    return [ExpiredGate(str(r["video_id"]), int(r["run"]), str(r["review_gate"])) for r in rows]


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def review_of(db: Db, video_id: str) -> common_pb2.Review | None:
    """The video at its gate: what is ready, what was spent, the exact price of the rest and when
    the gate expires; None when it is not waiting at one."""
    row = await db.fetchrow(
        "SELECT status, review_gate, review_expires_at, quote, spec FROM videos WHERE video_id = $1", video_id
    )
    if row is None or row["status"] != "awaiting_review" or row["review_gate"] is None:
        return None
    stage = GATE_STAGES[str(row["review_gate"])]
    spec = from_json(row["spec"], common_pb2.Spec()) if row["spec"] else common_pb2.Spec()
    frames_ready = await db.fetchval("SELECT count(*) FROM frames WHERE video_id = $1 AND status = 'done'", video_id)
    lines = await db.fetch("SELECT beat_index, status FROM voice_lines WHERE video_id = $1", video_id)
    unspoken = [r["beat_index"] for r in lines if r["status"] != "done"]
    quote = from_json(row["quote"], common_pb2.Cost()) if row["quote"] else common_pb2.Cost()
    rest = rest_of_quote(
        quote.lines,
        stage,
        unspoken_chars=sum(len(spec.beats[b].voiceover) for b in unspoken if b < len(spec.beats)),
    )
    spent = await cost_of(db, video_id)
    review = common_pb2.Review(
        stage=stage,
        beats_total=len(spec.beats),
        frames_ready=int(frames_ready),
        lines_total=len(lines),
        lines_ready=len(lines) - len(unspoken),
        spent_micros=spent.total_micros,
        quote_micros=sum(line.usd_micros for line in rest),
        quote_lines=rest,
    )
    if row["review_expires_at"] is not None:
        review.expires_at.CopyFrom(_timestamp(row["review_expires_at"]))
    return review
