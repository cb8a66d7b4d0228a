"""adgen-refine: settings -> connections -> RefineService + the adgen.work.refine worker."""

from __future__ import annotations

from adgen.events.v1 import events_pb2
from adgen.refine.v1 import refine_service_pb2_grpc
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_refine.musicgen import MusicGen, MusicGenConfig
from adgen_refine.servicer import RefineServicer
from adgen_refine.settings import RefineSettings
from adgen_refine.supers import load_fonts
from adgen_refine.worker import SAMPLE_RATE, Refiner
from adgen_video.contract_rules import violations


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, RefineSettings)
    musicgen = None
    if settings.music_provider == "replicate":
        musicgen = MusicGen(connections, MusicGenConfig.from_settings(settings), sample_rate=SAMPLE_RATE)
    refiner = Refiner(
        connections, crf=settings.crf, preset=settings.preset, musicgen=musicgen, fonts=load_fonts(settings.font_dir)
    )
    return ServiceApp(
        servicers=[
            Servicer(
                refine_service_pb2_grpc.add_RefineServiceServicer_to_server,
                RefineServicer(refiner),
                "adgen.refine.v1.RefineService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("refine", events_pb2.RefineWork, refiner.handle, refiner.dead_letter)],
        on_close=[musicgen.aclose] if musicgen is not None else [],
    )


def main() -> None:
    run("refine", RefineSettings, build)


if __name__ == "__main__":
    main()
