"""The planner's work: compose the plan, attach the chunk plan, record it and its token cost, fan out one
frame per beat and one voiceover line per beat that has one; and quotes, which plan without recording
anything."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2, chunks_service_pb2_grpc
from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2
from adgen.voice.v1 import voice_service_pb2, voice_service_pb2_grpc
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext, publish_work
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_planner import quote
from adgen_planner.composer import PlanRequest
from adgen_planner.llm_composer import OpenAiComposer, Usage, compose_with_rules
from adgen_planner.plan_edits import edited_plan, retimed
from adgen_planner.references import rotate_references, verify_assets
from adgen_planner.spec_mapping import plan_to_spec
from adgen_video.budget import BudgetExceeded, quote_refusal
from adgen_video.ready_units import clips_ahead
from adgen_video.request_limits import request_errors
from adgen_video.resume import voice_work
from adgen_video.review_gate import pending_gate, reach_gate, review_of
from adgen_video.unit_rows import add_units
from adgen_video.video_reads import planning_state
from adgen_video.video_runs import record_plan
from adgen_video.video_state import FINISHED, emit, fail_video, from_json, msg_id, record_cost, to_json
from adgen_video.voice_lines import add_lines, spoken_beats

log = get_logger(__name__)


@dataclass(frozen=True)
class Planned:
    spec: common_pb2.Spec
    usage: Usage | None
    local: bool
    voice_line: quote.Line | None = None


def _estimate(planned: Planned) -> quote.Quote:
    spec, plan, usage = planned.spec, planned.spec.chunk_plan, planned.usage
    chunks_per_beat = Counter(slot.beat_index for slot in plan.slots)
    return quote.estimate(
        [quote.BeatWork(b.index, chunks_per_beat[b.index], bool(b.reference_asset_ids)) for b in spec.beats],
        video_model=plan.video_model,
        price_per_clip_micros=plan.price_per_clip_micros,
        local=planned.local,
        plan_line=quote.Line(common_pb2.PHASE_PLAN, "openai", usage.model, usage.tokens, usage.usd_micros)
        if usage
        else None,
        voice_line=planned.voice_line,
    )


def check_budget(request: common_pb2.VideoRequest, planned: Planned) -> quote.Quote:
    """The plan a video got must fit its cap: the gateway refused caps below the quote at creation,
    but a language model's plan need not be the one quoted. Refused before anything is paid; the
    quote it checked is returned."""
    estimate = _estimate(planned)
    cap = request.max_cost_micros if request.HasField("max_cost_micros") else None
    reason = quote_refusal(cap, estimate.total_micros)
    if reason is not None:
        raise BudgetExceeded(f"max_cost_usd: {reason}")
    return estimate


def cost_lines(estimate: quote.Quote) -> common_pb2.Cost:
    """A quote's lines as the API shows cost."""
    return common_pb2.Cost(
        total_micros=estimate.total_micros,
        lines=[
            common_pb2.CostLine(
                phase=line.phase, provider=line.provider, model=line.model, units=line.units, usd_micros=line.usd_micros
            )
            for line in estimate.lines
        ],
    )


class Planner:
    """Plans with the OpenAI composer when one is configured, else with the rules."""

    def __init__(
        self,
        connections: Connections,
        chunks: chunks_service_pb2_grpc.ChunksServiceStub,
        assets: assets_service_pb2_grpc.AssetsServiceStub,
        voices: voice_service_pb2_grpc.VoiceServiceStub,
        llm: OpenAiComposer | None = None,
    ) -> None:
        self._c = connections
        self._chunks = chunks
        self._assets = assets
        self._voices = voices
        self._llm = llm

    async def compose(self, request: common_pb2.VideoRequest, user_id: str) -> Planned:
        """A complete, checked Spec for the request and the tokens its composer used. The
        rule-based composer gives the same Spec for the same request; a language model need not.
        The request's asset ids must be `user_id`'s own (NOT_FOUND otherwise)."""
        errors = request_errors(request)
        if errors:
            raise InvalidArgument("; ".join(f"{e.field}: {e.message}" for e in errors))
        await verify_assets(self._assets, user_id, request.asset_ids)
        wanted = PlanRequest(
            prompt=request.prompt,
            duration_s=request.duration_s,
            creativity=request.creativity,
            seed=request.seed,
            asset_ids=tuple(request.asset_ids),
        )
        composed = await self._llm.compose(wanted) if self._llm else compose_with_rules(wanted)
        spec = plan_to_spec(composed.plan, request, planner=composed.planner)
        rotate_references(spec)
        await self._plan_chunks(spec, request.video_model)
        local = await self._local(spec.chunk_plan.video_model)
        spec.expected_latency.CopyFrom(quote.expected_latency(local))
        return Planned(spec, composed.usage, local, await self._voice_line(request.voice, spec))

    async def _plan_chunks(self, spec: common_pb2.Spec, video_model: str) -> None:
        """The spec's chunk plan for its beats, from the chunks service (which knows the model's clips)."""
        response = await self._chunks.PlanChunks(
            chunks_service_pb2.PlanChunksRequest(
                beats=[chunks_service_pb2.BeatSpan(start_s=b.start_s, duration_s=b.duration_s) for b in spec.beats],
                video_model=video_model,
                fps=spec.output.fps,
            ),
            timeout=10,
        )
        spec.chunk_plan.CopyFrom(response.chunk_plan)

    async def _local(self, video_model: str) -> bool:
        models = await self._chunks.ListVideoModels(chunks_service_pb2.ListVideoModelsRequest(), timeout=10)
        return any(m.key == video_model and m.local for m in models.models)

    async def edit(self, edit: planner_service_pb2.EditPlanRequest) -> planner_service_pb2.EditPlanResponse:
        """The plan with its owner's changes (`plan_edits`), quoted again; faults as field errors."""
        spec, faults = edited_plan(edit.spec, edit.beats, edit.order)
        if faults:
            return planner_service_pb2.EditPlanResponse(
                errors=[planner_service_pb2.FieldViolation(field=f.field, message=f.message) for f in faults]
            )
        if retimed(edit.spec, spec):  # the beats' spans changed: so do the chunks that animate them
            await self._plan_chunks(spec, spec.chunk_plan.video_model)
        planned = Planned(
            spec, None, await self._local(spec.chunk_plan.video_model), await self._voice_line(edit.request.voice, spec)
        )
        estimate = _estimate(planned)
        return planner_service_pb2.EditPlanResponse(
            spec=spec, cost_micros=estimate.total_micros, lines=cost_lines(estimate).lines
        )

    async def _voice_line(self, voice: str, spec: common_pb2.Spec) -> quote.Line | None:
        """The script's cost line at the price of the voice that will speak it (the request's, else
        the voice service's default); INVALID_ARGUMENT naming `voice` for a key that is no voice."""
        script = [spec.beats[b].voiceover for b in spoken_beats(spec)]
        if not script:
            return None
        listed = await self._voices.ListVoices(voice_service_pb2.ListVoicesRequest(), timeout=10)
        chosen = voice or listed.default_voice
        known = {v.key: v for v in listed.voices}
        if chosen not in known:
            raise InvalidArgument(f"voice: {chosen[:64]!r} is not a voice; known: {', '.join(sorted(known))}")
        info, characters = known[chosen], sum(len(line) for line in script)
        return quote.Line(
            common_pb2.PHASE_VOICE, info.provider, info.model, characters, characters * info.usd_micros_per_char
        )

    async def plan(self, request: common_pb2.VideoRequest, user_id: str) -> common_pb2.Spec:
        return (await self.compose(request, user_id)).spec

    async def quote(self, request: common_pb2.VideoRequest, user_id: str) -> planner_service_pb2.QuoteResponse:
        planned = await self.compose(request, user_id)
        spec, local = planned.spec, planned.local
        estimate = _estimate(planned)
        return planner_service_pb2.QuoteResponse(
            spec=spec,
            cost_micros=estimate.total_micros,
            lines=cost_lines(estimate).lines,
            estimated_seconds=estimate.estimated_seconds,
            slowest_beat=estimate.slowest_beat,
            local=local,
        )

    async def handle(self, work: events_pb2.PlanWork, _: WorkContext) -> None:
        db, js = self._c.db, self._c.js
        row = await planning_state(db, work.video_id)
        if row is None or row["status"] in FINISHED:
            return
        run = row["run"]
        if row["spec"] is not None:
            spec = from_json(row["spec"], common_pb2.Spec())
        else:
            await emit(
                js,
                work.video_id,
                msg_id(work.video_id, run, "plan:started"),
                phase_started=events_pb2.PhaseStarted(phase=common_pb2.PHASE_PLAN),
            )
            planned = await self.compose(work.request, work.user_id)
            spec = planned.spec
            if planned.usage:
                # Tokens are spent once the model answered, whatever became of the answer.
                await record_cost(
                    db,
                    js,
                    idempotency_key=f"{work.video_id}:plan",
                    video_id=work.video_id,
                    phase=common_pb2.PHASE_PLAN,
                    provider="openai",
                    model=planned.usage.model,
                    units=planned.usage.tokens,
                    usd_micros=planned.usage.usd_micros,
                )
            estimate = check_budget(work.request, planned)
            async with db.acquire() as conn, conn.transaction():
                await record_plan(conn, work.video_id, to_json(spec), to_json(cost_lines(estimate)))
                await add_units(
                    conn,
                    work.video_id,
                    [b.index for b in spec.beats],
                    [(s.index, s.beat_index) for s in spec.chunk_plan.slots],
                )
                await add_lines(conn, work.video_id, spoken_beats(spec))
                if await pending_gate(conn, work.video_id) == "plan":
                    await reach_gate(conn, work.video_id, "plan")
        await emit(
            js, work.video_id, msg_id(work.video_id, run, "planned"), video_planned=events_pb2.VideoPlanned(spec=spec)
        )
        if await pending_gate(db, work.video_id) == "plan":
            # Nothing after the plan is paid for until the owner approves it (gateway videos.approve_video).
            review = await review_of(db, work.video_id)
            if review is not None:
                await emit(
                    js,
                    work.video_id,
                    msg_id(work.video_id, run, "review:plan"),
                    review_reached=events_pb2.ReviewReached(review=review),
                )
            log.info("video planned, waiting for review", video_id=work.video_id, beats=len(spec.beats))
            return
        # Every beat's frame starts now: the chunks of a beat follow its frame, not the other beats'.
        # Longest chain of chunks first: the queue serves in order, and the longest beat sets the end.
        slots = spec.chunk_plan.slots
        for beat in sorted(spec.beats, key=lambda b: (-clips_ahead(slots, b.index), b.index)):
            await publish_work(
                js,
                "frame",
                events_pb2.FrameWork(video_id=work.video_id, user_id=work.user_id, spec=spec, beat_index=beat.index),
                msg_id(work.video_id, run, f"frame:{beat.index}"),
            )
        # The lines are spoken beside the frames; refine waits for them as for the chunks.
        for beat_index in spoken_beats(spec):
            await publish_work(
                js,
                "voice",
                voice_work(work.video_id, work.user_id, spec, beat_index, work.request),
                msg_id(work.video_id, run, f"voice:{beat_index}"),
            )
        log.info("video planned", video_id=work.video_id, beats=len(spec.beats), chunks=len(spec.chunk_plan.slots))

    async def dead_letter(self, work: events_pb2.PlanWork, error: BaseException) -> None:
        await fail_video(
            self._c.db, self._c.js, video_id=work.video_id, phase=common_pb2.PHASE_PLAN, unit="plan", reason=str(error)
        )
