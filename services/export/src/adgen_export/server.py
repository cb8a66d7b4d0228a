"""adgen-export: settings -> connections -> ExportService + the adgen.work.export worker."""

from __future__ import annotations

import nats.js.errors
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from adgen.events.v1 import events_pb2
from adgen.export.v1 import export_service_pb2_grpc
from adgen_export.servicer import ExportServicer
from adgen_export.settings import ExportSettings
from adgen_export.url_cache import URLS_BUCKET, cache_ttl_s
from adgen_export.worker import Exporter
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_video.contract_rules import violations


async def link_cache(connections: Connections, url_ttl_s: int) -> KeyValue:
    """The KV bucket of pre-signed links, created on start; its TTL stays under the link lifetime."""
    config = KeyValueConfig(bucket=URLS_BUCKET, ttl=float(cache_ttl_s(url_ttl_s)), history=1)
    try:
        return await connections.js.create_key_value(config)
    except nats.js.errors.BadRequestError:
        # Created by a replica with another lifetime setting: use it; reads still check each expiry.
        return await connections.js.key_value(URLS_BUCKET)


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, ExportSettings)
    exporter = Exporter(
        connections,
        url_ttl_s=settings.url_ttl_s,
        keep_intermediates=settings.keep_intermediates,
        links=await link_cache(connections, settings.url_ttl_s),
    )
    return ServiceApp(
        servicers=[
            Servicer(
                export_service_pb2_grpc.add_ExportServiceServicer_to_server,
                ExportServicer(exporter),
                "adgen.export.v1.ExportService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("export", events_pb2.ExportWork, exporter.handle, exporter.dead_letter)],
    )


def main() -> None:
    run("export", ExportSettings, build)


if __name__ == "__main__":
    main()
