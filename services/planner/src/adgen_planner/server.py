"""adgen-planner: settings -> connections -> PlannerService + the adgen.work.plan worker."""

from __future__ import annotations

from adgen.chunks.v1 import chunks_service_pb2_grpc
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, grpc_channel, run
from adgen_planner.pipeline import Planner
from adgen_planner.servicer import PlannerServicer
from adgen_planner.settings import PlannerSettings


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, PlannerSettings)
    channel = grpc_channel(settings.chunks_addr)
    planner = Planner(connections, chunks_service_pb2_grpc.ChunksServiceStub(channel))
    return ServiceApp(
        servicers=[
            Servicer(
                planner_service_pb2_grpc.add_PlannerServiceServicer_to_server,
                PlannerServicer(planner),
                "adgen.planner.v1.PlannerService",
            )
        ],
        handlers=[WorkHandler("plan", events_pb2.PlanWork, planner.handle, planner.dead_letter)],
        on_close=[channel.close],
    )


def main() -> None:
    run("planner", PlannerSettings, build)


if __name__ == "__main__":
    main()
