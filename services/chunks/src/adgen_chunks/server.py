"""adgen-chunks: settings -> connections -> ChunksService + the adgen.work.chunk worker."""

from __future__ import annotations

from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen_chunks.providers import ClipProviders, StudioClips
from adgen_chunks.replicate_video import ReplicateVideo, ReplicateVideoConfig
from adgen_chunks.servicer import ChunksServicer
from adgen_chunks.settings import ChunksSettings
from adgen_chunks.worker import Chunks
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_providers.shared_slots import SharedSlots
from adgen_video.contract_rules import violations


def clip_providers(settings: ChunksSettings) -> ClipProviders:
    """The studio always; Replicate's models too when a token is configured."""
    if not settings.replicate_configured:
        return ClipProviders(StudioClips())
    return ClipProviders(StudioClips(), ReplicateVideo(ReplicateVideoConfig.from_settings(settings)))


async def build(
    connections: Connections, providers: ClipProviders | None = None, limits: dict[str, int] | None = None
) -> ServiceApp:
    """The service; `providers` and `limits` (calls in flight per provider, across every replica)
    replace what the settings choose (the scheduler benchmark's simulated animator and its limit)."""
    settings = connections.settings
    assert isinstance(settings, ChunksSettings)
    providers = providers or clip_providers(settings)
    limits = {"replicate": settings.replicate_max_in_flight} if limits is None else limits
    slots = SharedSlots(settings.database_url, limits, handlers=settings.worker_concurrency)
    chunks = Chunks(connections, providers, slots)
    return ServiceApp(
        servicers=[
            Servicer(
                chunks_service_pb2_grpc.add_ChunksServiceServicer_to_server,
                ChunksServicer(
                    chunks, default_model=settings.default_video_model, overlap_fraction=settings.overlap_fraction
                ),
                "adgen.chunks.v1.ChunksService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("chunk", events_pb2.ChunkWork, chunks.handle, chunks.dead_letter)],
        on_close=[providers.aclose, slots.aclose],
    )


def main() -> None:
    run("chunks", ChunksSettings, build)


if __name__ == "__main__":
    main()
