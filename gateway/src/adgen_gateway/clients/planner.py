"""The gateway's client of the planner: plan previews and quotes."""

from __future__ import annotations

from adgen.common.v1 import common_pb2
from adgen.planner.v1 import planner_service_pb2, planner_service_pb2_grpc
from adgen_kernel.serve import grpc_channel

# A language-model plan may take the model's timeout for each of its retries.
PLAN_TIMEOUT_S = 90.0


class PlannerClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = planner_service_pb2_grpc.PlannerServiceStub(self.channel)

    async def plan(self, request: common_pb2.VideoRequest, user_id: str) -> common_pb2.Spec:
        response = await self._stub.Plan(
            planner_service_pb2.PlanRequest(user_id=user_id, request=request), timeout=PLAN_TIMEOUT_S
        )
        return response.spec

    async def quote(self, request: common_pb2.VideoRequest, user_id: str) -> planner_service_pb2.QuoteResponse:
        return await self._stub.Quote(
            planner_service_pb2.QuoteRequest(request=request, user_id=user_id), timeout=PLAN_TIMEOUT_S
        )

    async def edit(self, request: planner_service_pb2.EditPlanRequest) -> planner_service_pb2.EditPlanResponse:
        return await self._stub.EditPlan(request, timeout=30)
