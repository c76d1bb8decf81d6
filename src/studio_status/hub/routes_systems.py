"""External-system routes (seed 004, any system name).

Writing (snapshots, outages, reservations) needs the manage-status permission. The hub's
roles are admin / creator / reviewer and admin carries manage-status: give each collector
its own admin token (``studio-status hub token create --role admin --name collector-x``)
so it can be revoked alone. Reading is open to every role: whether the cluster is up is
not infrastructure secrecy, and creators are the ones waiting on its queues.

The fixed words (``outage``, ``outages``, ``reservation``, ``reservations``, ``systems``)
are declared before ``{system}`` so they win the match.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from studio_status.protocol import Role
from studio_status.protocol.systems import (
    Outage,
    OutageIn,
    Reservation,
    ReservationIn,
    SnapshotResult,
    SystemLatest,
    SystemPoint,
    SystemSnapshotIn,
    SystemSummary,
)

from .deps import Access
from .gate import GatedRoute
from .openapi import errors
from .service import Hub
from .systems import SystemError

__all__ = ["systems_router"]

SystemName = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class SnapshotEnvelope(BaseModel):
    data: SnapshotResult


class LatestEnvelope(BaseModel):
    data: SystemLatest


class HistoryEnvelope(BaseModel):
    data: list[SystemPoint]


class SystemsEnvelope(BaseModel):
    data: list[SystemSummary]


class OutageEnvelope(BaseModel):
    data: Outage


class OutagesEnvelope(BaseModel):
    data: list[Outage]


class ReservationEnvelope(BaseModel):
    data: Reservation


class ReservationsEnvelope(BaseModel):
    data: list[Reservation]


def _refuse(exc: SystemError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


def systems_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["systems"], route_class=GatedRoute)
    deps = Access(hub)
    Manager = Annotated[Role, Depends(deps.only(Role.ADMIN))]
    Reader = Annotated[Role, Depends(deps.any_role)]

    @router.post("/api/v1/status/outage", response_model=OutageEnvelope, responses=errors(404, 409))
    async def report_outage(body: OutageIn, _: Manager) -> OutageEnvelope:
        """Report an outage, or update one by ``id`` (``status: resolved`` closes it; 404
        when no outage has that id)."""
        try:
            return OutageEnvelope(data=await hub.systems.report_outage(body))
        except SystemError as exc:
            raise _refuse(exc) from None

    @router.post(
        "/api/v1/status/reservation",
        response_model=ReservationEnvelope,
        responses={201: {"model": ReservationEnvelope}, **errors(409)},
    )
    async def add_reservation(body: ReservationIn, _: Manager) -> JSONResponse:
        """Add or replace the reservation named ``name`` on ``system``."""
        try:
            reservation, created = await hub.systems.add_reservation(body)
        except SystemError as exc:
            raise _refuse(exc) from None
        return JSONResponse(
            ReservationEnvelope(data=reservation).model_dump(mode="json"),
            status_code=201 if created else 200,
        )

    @router.get("/api/v1/status/outages", response_model=OutagesEnvelope)
    async def outages(
        _: Reader,
        system: Annotated[str | None, Query(max_length=64)] = None,
        resolved_hours: Annotated[float | None, Query(gt=0, le=24 * 31)] = None,
    ) -> OutagesEnvelope:
        """Unresolved outages (current and scheduled); with ``resolved_hours`` also those
        resolved within that many hours."""
        return OutagesEnvelope(data=await hub.systems.outages_view(system, resolved_hours))

    @router.get("/api/v1/status/reservations", response_model=ReservationsEnvelope)
    async def reservations(
        _: Reader, system: Annotated[str | None, Query(max_length=64)] = None
    ) -> ReservationsEnvelope:
        """Current and upcoming reservations, soonest first."""
        return ReservationsEnvelope(data=await hub.systems.reservations_view(system))

    @router.get("/api/v1/status/systems", response_model=SystemsEnvelope)
    async def systems(_: Reader) -> SystemsEnvelope:
        """Every known system with its status and the age of its last snapshot."""
        return SystemsEnvelope(data=hub.systems.summaries())

    @router.post(
        "/api/v1/status/{system}",
        response_model=SnapshotEnvelope,
        responses={
            201: {"model": SnapshotEnvelope},
            **errors(404, 409, s404="A reserved word, not a system name"),
        },
    )
    async def ingest(system: SystemName, body: SystemSnapshotIn, _: Manager) -> JSONResponse:
        """One snapshot. 201 when new; 200 when it replaced the snapshot with the same
        timestamp (a retried post converges instead of duplicating)."""
        try:
            result = await hub.systems.ingest(system, body)
        except SystemError as exc:
            raise _refuse(exc) from None
        return JSONResponse(
            SnapshotEnvelope(data=result).model_dump(mode="json"),
            status_code=201 if result.created else 200,
        )

    @router.get(
        "/api/v1/status/{system}/latest", response_model=LatestEnvelope, responses=errors(404)
    )
    async def latest(system: SystemName, _: Reader) -> LatestEnvelope:
        view = await hub.systems.latest_view(system)
        if view is None:
            raise HTTPException(404, f"no snapshot of {system!r}")
        return LatestEnvelope(data=view)

    @router.get("/api/v1/status/{system}/history", response_model=HistoryEnvelope)
    async def history(
        system: SystemName,
        _: Reader,
        hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24.0,
    ) -> HistoryEnvelope:
        """The 5-minute series of the last ``hours``: availability, status, utilisation,
        jobs and users per snapshot, oldest first."""
        return HistoryEnvelope(data=await hub.systems.history(system, hours))

    return router
