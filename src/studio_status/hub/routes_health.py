"""Seed 001's health routes beyond the live status: uptime, quick actions, audit trail,
startup checklist, alerts. All admin-only: 401 without a valid token, 403 for other roles.

Included by :func:`studio_status.hub.api.create_app` *before* ``GET /admin/health/{service}``
so that fixed paths like ``/admin/health/uptime`` are not taken for a service name.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from studio_status.protocol import Role
from studio_status.protocol.uptime import UptimeReport

from .deps import Access
from .service import Hub

__all__ = ["health_router"]


class UptimeEnvelope(BaseModel):
    data: UptimeReport


def health_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["health"])
    deps = Access(hub)
    Admin = Annotated[Role, Depends(deps.only(Role.ADMIN))]

    def known(service: str) -> str:
        if service not in hub.state.services:
            raise HTTPException(404, f"no service named {service!r}")
        return service

    @router.get("/admin/health/uptime", response_model=UptimeEnvelope)
    async def uptime(
        _: Admin,
        period: Literal["24h", "7d", "30d"] = "7d",
        service: Annotated[list[str] | None, Query()] = None,
        timeline: bool = True,
    ) -> UptimeEnvelope:
        """Time-weighted uptime (see ``docs/uptime.md``) per service for ``period``, plus
        the 24 h / 7 d / 30 d figures, and the timeline with outages unless
        ``timeline=false``. ``service`` may repeat; absent means every service."""
        names = [known(s) for s in service] if service else list(hub.state.services)
        return UptimeEnvelope(data=await hub.uptime.report(period, names, timeline=timeline))

    return router
