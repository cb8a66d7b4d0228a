"""adgen-assets: settings -> connections -> AssetsService."""

from __future__ import annotations

from adgen.assets.v1 import assets_service_pb2_grpc
from adgen_assets.library import Library
from adgen_assets.servicer import AssetsServicer
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_kernel.settings import ServiceSettings


async def build(connections: Connections) -> ServiceApp:
    return ServiceApp(
        servicers=[
            Servicer(
                assets_service_pb2_grpc.add_AssetsServiceServicer_to_server,
                AssetsServicer(Library(connections)),
                "adgen.assets.v1.AssetsService",
            )
        ]
    )


def main() -> None:
    run("assets", ServiceSettings, build)


if __name__ == "__main__":
    main()
