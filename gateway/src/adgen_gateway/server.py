"""adgen-gateway: settings -> connections -> REST/SSE on uvicorn, gRPC VideoService, the progress projector."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI

from adgen.events.v1 import events_pb2
from adgen.video.v1 import video_service_pb2_grpc
from adgen_gateway.app import create_app
from adgen_gateway.body_guard import BodyLimits
from adgen_gateway.clients.assets import AssetsClient
from adgen_gateway.clients.chunks import ChunksClient
from adgen_gateway.clients.export import ExportClient
from adgen_gateway.clients.planner import PlannerClient
from adgen_gateway.clients.voice import VoiceClient
from adgen_gateway.dependencies import Backends
from adgen_gateway.rate_limits import RateLimits, TokenBuckets
from adgen_gateway.routes.assets import streams_its_body
from adgen_gateway.settings import GatewaySettings
from adgen_gateway.stream_tokens import StreamTokens
from adgen_gateway.video_servicer import VideoServicer
from adgen_gateway.videos import save_progress
from adgen_kernel.jetstream import EVENTS_STREAM, WorkContext, WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_video.contract_rules import violations


class HttpServer:
    """uvicorn inside the service lifecycle: it stops when the service drains."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
        )

    async def run(self, stopping: asyncio.Event) -> None:
        task = asyncio.create_task(self._server.serve())
        await stopping.wait()
        self._server.should_exit = True
        await task


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, GatewaySettings)
    chunks, export = ChunksClient(settings.chunks_addr), ExportClient(settings.export_addr)
    planner = PlannerClient(settings.planner_addr)
    assets = AssetsClient(settings.assets_addr)
    voice = VoiceClient(settings.voice_addr)
    tokens = StreamTokens(settings.stream_token_secret.encode(), settings.stream_token_ttl_s)
    backends = Backends(
        db=connections.db,
        js=connections.js,
        chunks=chunks,
        export=export,
        planner=planner,
        stream_tokens=tokens,
        assets=assets,
        store=connections.store,
        limits=RateLimits(
            users=TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst),
            addresses=TokenBuckets(settings.rate_limit_anonymous_per_s, settings.rate_limit_anonymous_burst),
        ),
        voice=voice,
        review_ttl_s=settings.review_ttl_s,
    )
    http = HttpServer(
        create_app(
            backends,
            BodyLimits(
                max_bytes=lambda scope: None if streams_its_body(scope) else settings.http_max_body_bytes,
                idle_timeout_s=settings.http_body_idle_timeout_s,
                timeout_s=settings.http_body_timeout_s,
            ),
        ),
        settings.http_host,
        settings.http_port,
    )

    async def project(event: events_pb2.Event, _: WorkContext) -> None:
        await save_progress(connections.js, event)

    async def skip(_: events_pb2.Event, __: BaseException) -> None:
        return None

    return ServiceApp(
        servicers=[
            Servicer(
                video_service_pb2_grpc.add_VideoServiceServicer_to_server,
                VideoServicer(
                    connections.db,
                    connections.js,
                    chunks,
                    assets,
                    voice,
                    planner,
                    backends.limits,
                    review_ttl_s=settings.review_ttl_s,
                ),
                "adgen.video.v1.VideoService",
            )
        ],
        violations=violations,
        handlers=[
            WorkHandler(
                "gateway-progress",
                events_pb2.Event,
                project,
                skip,
                stream=EVENTS_STREAM,
                subject="adgen.events.>",
            )
        ],
        tasks=[http.run],
        on_close=[
            chunks.channel.close,
            export.channel.close,
            planner.channel.close,
            assets.channel.close,
            voice.channel.close,
        ],
    )


def main() -> None:
    run("gateway", GatewaySettings, build)


if __name__ == "__main__":
    main()
