"""adgen-planner: settings -> connections -> PlannerService + the adgen.work.plan worker."""

from __future__ import annotations

import openai

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen.voice.v1 import voice_service_pb2_grpc
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, grpc_channel, run
from adgen_planner.llm_composer import OpenAiComposer, TokenPrices
from adgen_planner.reconciler import reconciler_task
from adgen_planner.servicer import PlannerServicer
from adgen_planner.settings import PlannerSettings
from adgen_planner.worker import Planner
from adgen_video.contract_rules import violations


def openai_composer(settings: PlannerSettings) -> OpenAiComposer | None:
    """The OpenAI composer when a key is set; without one the planner uses the rules alone."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key:
        return None
    client = openai.AsyncOpenAI(
        api_key=key,
        base_url=settings.openai_base_url or None,
        timeout=settings.openai_timeout_s,
        max_retries=settings.openai_max_retries,
    )
    prices = TokenPrices(settings.openai_input_usd_per_mtok, settings.openai_output_usd_per_mtok)
    return OpenAiComposer(client, settings.openai_model, prices)


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, PlannerSettings)
    channel = grpc_channel(settings.chunks_addr)
    assets_channel = grpc_channel(settings.assets_addr)
    voice_channel = grpc_channel(settings.voice_addr)
    llm = openai_composer(settings)
    planner = Planner(
        connections,
        chunks_service_pb2_grpc.ChunksServiceStub(channel),
        assets_service_pb2_grpc.AssetsServiceStub(assets_channel),
        voice_service_pb2_grpc.VoiceServiceStub(voice_channel),
        llm,
    )
    return ServiceApp(
        servicers=[
            Servicer(
                planner_service_pb2_grpc.add_PlannerServiceServicer_to_server,
                PlannerServicer(planner),
                "adgen.planner.v1.PlannerService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("plan", events_pb2.PlanWork, planner.handle, planner.dead_letter)],
        # Every planner replica reconciles; the run's message ids make their re-enqueues one.
        tasks=[
            reconciler_task(
                connections.db,
                connections.js,
                interval_s=settings.reconcile_interval_s,
                stale_after_s=settings.reconcile_stale_s,
            )
        ],
        on_close=[channel.close, assets_channel.close, voice_channel.close, *([llm.close] if llm else [])],
    )


def main() -> None:
    run("planner", PlannerSettings, build)


if __name__ == "__main__":
    main()
