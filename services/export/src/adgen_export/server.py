"""adgen-export: settings -> connections -> ExportService + the adgen.work.export worker."""

from __future__ import annotations

from adgen.events.v1 import events_pb2
from adgen.export.v1 import export_service_pb2_grpc
from adgen_export.publishing import Exporter
from adgen_export.servicer import ExportServicer
from adgen_export.settings import ExportSettings
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, ExportSettings)
    exporter = Exporter(connections, url_ttl_s=settings.url_ttl_s, keep_intermediates=settings.keep_intermediates)
    return ServiceApp(
        servicers=[
            Servicer(
                export_service_pb2_grpc.add_ExportServiceServicer_to_server,
                ExportServicer(exporter),
                "adgen.export.v1.ExportService",
            )
        ],
        handlers=[WorkHandler("export", events_pb2.ExportWork, exporter.handle, exporter.dead_letter)],
    )


def main() -> None:
    run("export", ExportSettings, build)


if __name__ == "__main__":
    main()
