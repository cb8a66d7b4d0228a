from __future__ import annotations

import grpc

from adgen.planner.v1 import planner_service_pb2, planner_service_pb2_grpc
from adgen_planner.worker import Planner


class PlannerServicer(planner_service_pb2_grpc.PlannerServiceServicer):
    def __init__(self, planner: Planner) -> None:
        self._planner = planner

    async def Plan(
        self, request: planner_service_pb2.PlanRequest, context: grpc.aio.ServicerContext
    ) -> planner_service_pb2.PlanResponse:
        return planner_service_pb2.PlanResponse(spec=await self._planner.plan(request.request, request.user_id))

    async def Quote(
        self, request: planner_service_pb2.QuoteRequest, context: grpc.aio.ServicerContext
    ) -> planner_service_pb2.QuoteResponse:
        return await self._planner.quote(request.request, request.user_id)

    async def EditPlan(
        self, request: planner_service_pb2.EditPlanRequest, context: grpc.aio.ServicerContext
    ) -> planner_service_pb2.EditPlanResponse:
        return await self._planner.edit(request)
