"""Cloud GPU routes: the pods and budget (admin only), and the provider-neutral push.

Everything here is infrastructure and money, so every route needs an admin token. Reads
answer from memory except the cost series, which is one indexed query.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from studio_status.protocol import Role
from studio_status.protocol.cloud import CloudCosts, CloudPodsPush, CloudPodsView, PodsPushResult

from .deps import Access
from .gate import GatedRoute
from .openapi import errors
from .service import Hub

__all__ = ["cloud_router"]


class PodsEnvelope(BaseModel):
    data: CloudPodsView


class CostsEnvelope(BaseModel):
    data: CloudCosts


class PodsPushEnvelope(BaseModel):
    data: PodsPushResult


def cloud_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["cloud"], route_class=GatedRoute)
    Admin = Annotated[Role, Depends(Access(hub).only(Role.ADMIN))]

    @router.get("/admin/cloud/pods", response_model=PodsEnvelope)
    async def pods(
        _: Admin,
        status: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z_]+$")] = None,
    ) -> PodsEnvelope:
        """Pods (``?status=running`` for active ones), the footer's summary, the budget
        with spend and forecast, and each source's state."""
        return PodsEnvelope(data=hub.cloud.view(status))

    @router.get("/admin/cloud/costs", response_model=CostsEnvelope)
    async def costs(
        _: Admin, hours: Annotated[float, Query(gt=0, le=24 * 93)] = 24.0
    ) -> CostsEnvelope:
        """The cost-rate series for the last ``hours`` and spend per day this month."""
        return CostsEnvelope(data=await hub.cloud.costs(hours))

    @router.post(
        "/api/v1/cloud/pods",
        response_model=PodsPushEnvelope,
        responses=errors(409, s409="The provider is polled by the hub"),
    )
    async def push_pods(body: CloudPodsPush, _: Admin) -> PodsPushEnvelope:
        """A provider's complete pod list (any cloud). Pods missing from it are gone."""
        polled = hub.cloud.providers.get(body.provider)
        if polled is not None and polled.mode == "poll":
            raise HTTPException(409, f"provider {body.provider!r} is polled by the hub")
        pods = [p.to_pod(body.provider) for p in body.pods]
        return PodsPushEnvelope(data=await hub.cloud.apply(body.provider, pods))

    return router
