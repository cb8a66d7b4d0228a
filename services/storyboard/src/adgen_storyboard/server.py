"""adgen-storyboard: settings -> connections -> StoryboardService + the adgen.work.frame worker."""

from __future__ import annotations

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen.storyboard.v1 import storyboard_service_pb2_grpc
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, grpc_channel, run
from adgen_providers.shared_slots import SharedSlots
from adgen_storyboard.providers import ImageProvider, StudioImages
from adgen_storyboard.replicate_images import ReplicateImages, ReplicateImagesConfig
from adgen_storyboard.servicer import StoryboardServicer
from adgen_storyboard.settings import StoryboardSettings
from adgen_storyboard.worker import Storyboard
from adgen_video.contract_rules import violations


def image_provider(settings: StoryboardSettings) -> ImageProvider:
    """Replicate when a token is configured, the studio renderer otherwise."""
    if not settings.replicate_configured:
        return StudioImages(settings.font_dir)
    return ReplicateImages(ReplicateImagesConfig.from_settings(settings))


async def build(
    connections: Connections, images: ImageProvider | None = None, limits: dict[str, int] | None = None
) -> ServiceApp:
    """The service; `images` and `limits` (images in flight per provider, across every replica)
    replace what the settings choose (the scheduler benchmark's simulated provider and its limit)."""
    settings = connections.settings
    assert isinstance(settings, StoryboardSettings)
    channel = grpc_channel(settings.assets_addr)
    images = images or image_provider(settings)
    limits = {"replicate": settings.replicate_max_in_flight} if limits is None else limits
    slots = SharedSlots(settings.database_url, limits)
    storyboard = Storyboard(connections, assets_service_pb2_grpc.AssetsServiceStub(channel), images, slots)
    return ServiceApp(
        servicers=[
            Servicer(
                storyboard_service_pb2_grpc.add_StoryboardServiceServicer_to_server,
                StoryboardServicer(storyboard),
                "adgen.storyboard.v1.StoryboardService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("frame", events_pb2.FrameWork, storyboard.handle, storyboard.dead_letter)],
        on_close=[channel.close, images.aclose, slots.aclose],
    )


def main() -> None:
    run("storyboard", StoryboardSettings, build)


if __name__ == "__main__":
    main()
