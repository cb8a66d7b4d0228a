"""The planner's work: compose the plan, attach the chunk plan, record it, fan out one frame per beat."""

from __future__ import annotations

from adgen.chunks.v1 import chunks_service_pb2, chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.logs import get_logger
from adgen_kernel.request_limits import request_errors
from adgen_kernel.serve import Connections
from adgen_kernel.video_state import emit, fail_video, from_json, set_status, to_json
from adgen_planner.composer import PlanRequest, compose
from adgen_planner.spec_mapping import plan_to_spec
from adgen_planner.spec_rules import check

log = get_logger(__name__)


class Planner:
    def __init__(self, connections: Connections, chunks: chunks_service_pb2_grpc.ChunksServiceStub) -> None:
        self._c = connections
        self._chunks = chunks

    async def plan(self, request: common_pb2.VideoRequest) -> common_pb2.Spec:
        """A complete Spec for the request; the same request always gives the same Spec."""
        errors = request_errors(request)
        if errors:
            raise InvalidArgument("; ".join(f"{e.field}: {e.message}" for e in errors))
        plan = check(
            compose(
                PlanRequest(
                    prompt=request.prompt,
                    duration_s=request.duration_s,
                    creativity=request.creativity,
                    seed=request.seed,
                    asset_ids=tuple(request.asset_ids),
                )
            )
        )
        spec = plan_to_spec(plan, request)
        response = await self._chunks.PlanChunks(
            chunks_service_pb2.PlanChunksRequest(
                beats=[chunks_service_pb2.BeatSpan(start_s=b.start_s, duration_s=b.duration_s) for b in spec.beats],
                video_model=request.video_model,
                fps=spec.output.fps,
            ),
            timeout=10,
        )
        spec.chunk_plan.CopyFrom(response.chunk_plan)
        return spec

    async def handle(self, work: events_pb2.PlanWork, _: WorkContext) -> None:
        db, js = self._c.db, self._c.js
        row = await db.fetchrow("SELECT status, spec FROM videos WHERE video_id = $1", work.video_id)
        if row is None or row["status"] in ("completed", "failed"):
            return
        if row["spec"] is not None:
            spec = from_json(row["spec"], common_pb2.Spec())
        else:
            await set_status(db, work.video_id, "planning")
            await emit(
                js,
                work.video_id,
                f"{work.video_id}:plan:started",
                phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_PLAN),
            )
            spec = await self.plan(work.request)
            async with db.acquire() as conn, conn.transaction():
                await conn.execute(
                    "UPDATE videos SET spec = $2, status = 'rendering', planned_at = now(), updated_at = now()"
                    " WHERE video_id = $1 AND spec IS NULL",
                    work.video_id,
                    to_json(spec),
                )
                await conn.executemany(
                    "INSERT INTO frames (video_id, beat_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [(work.video_id, b.index) for b in spec.beats],
                )
                await conn.executemany(
                    "INSERT INTO chunks (video_id, chunk_index, beat_index) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    [(work.video_id, s.index, s.beat_index) for s in spec.chunk_plan.slots],
                )
        await emit(js, work.video_id, f"{work.video_id}:planned", video_planned=events_pb2.VideoPlanned(spec=spec))
        # Every beat's frame starts now: the chunks of a beat follow its frame, not the other beats'.
        for beat in spec.beats:
            await publish_work(
                js,
                "frame",
                events_pb2.FrameWork(video_id=work.video_id, user_id=work.user_id, spec=spec, beat_index=beat.index),
                f"{work.video_id}:frame:{beat.index}",
            )
        log.info("video planned", video_id=work.video_id, beats=len(spec.beats), chunks=len(spec.chunk_plan.slots))

    async def dead_letter(self, work: events_pb2.PlanWork, error: BaseException) -> None:
        await fail_video(
            self._c.db, self._c.js, video_id=work.video_id, phase=common_pb2.PHASE_PLAN, unit="plan", reason=str(error)
        )
