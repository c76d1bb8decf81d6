"""The hub's HTTP API (FastAPI on uvicorn); routes follow the seeds' own paths.

Read endpoints answer from memory (:class:`HealthState`) except the per-service history,
which is one indexed query. Every route but ``/health`` needs a bearer token; admin-only
data answers 403 to other roles and 401 to no or a bad token.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, WebSocket
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.requests import Request

from studio_status import __version__
from studio_status.protocol import (
    FooterEnvelope,
    HealthOverview,
    Role,
    ServiceActions,
    ServiceDetail,
    StabilityStatus,
    utcnow,
)
from studio_status.protocol.contract import CONTRACT, CONTRACT_HEADER, HUB_ID_HEADER

from .deps import Access
from .gate import Gate, GatedRoute
from .limits import LimitSettings, RateLimiter, RequestLimits
from .openapi import allowed_methods, errors, exact_openapi
from .routes_cloud import cloud_router
from .routes_dashboard import dashboard_router
from .routes_health import health_router
from .routes_jobs import jobs_router
from .routes_metrics import metrics_router
from .routes_systems import systems_router
from .service import Hub
from .store.sqlite import StoreError
from .ws import serve_events

__all__ = ["create_app"]


class PublicHealth(BaseModel):
    status: Literal["healthy", "degraded", "down"]


class OverviewEnvelope(BaseModel):
    data: HealthOverview


class DetailEnvelope(BaseModel):
    data: ServiceDetail


class StabilityEnvelope(BaseModel):
    data: StabilityStatus


def create_app(hub: Hub, *, manage_lifecycle: bool = True) -> FastAPI:
    """Build the app; with ``manage_lifecycle`` the server's lifespan starts and stops ``hub``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await hub.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await hub.stop()

    app = FastAPI(title="Studio Status hub", version=__version__, lifespan=lifespan)
    app.router.route_class = GatedRoute
    settings = hub.config.hub
    limits = LimitSettings(
        max_body_bytes=settings.max_body_bytes,
        rate_per_second=settings.push_rate_per_second,
        burst=settings.push_burst,
    )
    app.state.gate = Gate(hub.auth, RateLimiter(limits))
    app.add_middleware(RequestLimits, settings=limits)
    app.add_exception_handler(StoreError, _storage_failed(hub))

    async def method_not_allowed(request: Request, _: Exception) -> Response:
        """Starlette's 405 lists the methods of the first route whose path matched; list
        every method of the resource instead (GET and POST of the maintenance list)."""
        allowed = allowed_methods(app, request.url.path)
        return JSONResponse(
            {"detail": "Method Not Allowed"},
            status_code=405,
            headers={"Allow": ", ".join(allowed)},
        )

    app.add_exception_handler(405, method_not_allowed)
    deps = Access(hub)
    Authed = Annotated[Role, Depends(deps.any_role)]
    Admin = Annotated[Role, Depends(deps.only(Role.ADMIN))]

    @app.get("/health", response_model=PublicHealth, tags=["public"])
    async def public_health() -> PublicHealth:
        """Minimal status for monitors: no service names, no details."""
        if not hub.storage_ok:
            return PublicHealth(status="degraded")
        return PublicHealth(status="healthy")

    @app.get("/api/v1/status/footer", response_model=FooterEnvelope, tags=["status"])
    async def footer(role: Authed) -> Response:
        """Seed 000's footer summary, from memory; services and cloud only for admins."""
        return Response(
            hub.state.footer_json(role),
            media_type="application/json",
            headers={CONTRACT_HEADER: str(CONTRACT), HUB_ID_HEADER: hub.bus.hub_id},
        )

    @app.get(
        "/api/v1/status/stability",
        response_model=StabilityEnvelope,
        responses=errors(404, s404="No pg_notify listener is configured"),
        tags=["status"],
    )
    async def stability(_: Authed) -> StabilityEnvelope:
        """Seed 003's system stability now (changes follow on the event socket); 404 when
        the hub has no ``pg_notify`` listener to learn it from."""
        status = hub.stability()
        if status is None:
            raise HTTPException(404, "no stability source: no [[sources.postgres]] configured")
        return StabilityEnvelope(data=status)

    # the fixed paths first: /admin/health/uptime is no service, and OPTIONS on the footer is
    # answered by the footer's route, not by POST /api/v1/status/{system}
    app.include_router(health_router(hub))  # before /admin/health/{service} takes its paths
    app.include_router(jobs_router(hub))
    app.include_router(dashboard_router(hub))
    app.include_router(cloud_router(hub))
    app.include_router(systems_router(hub))
    app.include_router(metrics_router(hub))

    @app.get("/admin/health", response_model=OverviewEnvelope, tags=["health"])
    async def overview(_: Admin) -> OverviewEnvelope:
        return OverviewEnvelope(
            data=HealthOverview(
                overall=hub.state.overall, services=list(hub.state.services.values())
            )
        )

    @app.get(
        "/admin/health/{service}",
        response_model=DetailEnvelope,
        responses=errors(404),
        tags=["health"],
    )
    async def detail(
        service: str, _: Admin, hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24.0
    ) -> DetailEnvelope:
        current = hub.state.services.get(service)
        if current is None:
            raise HTTPException(404, f"no service named {service!r}")
        history = await hub.store.history(
            service, utcnow() - timedelta(hours=hours), hub.config.hub.history_limit
        )
        windows = await hub.store.windows(service)
        open_window = next((w for w in reversed(windows) if w.ended_at is None), None)
        return DetailEnvelope(
            data=ServiceDetail(
                service=current, history=history, window=open_window, actions=_actions(service)
            )
        )

    def _actions(service: str) -> ServiceActions:
        """What the quick actions can do here (a pushed service is not the hub's to check)."""
        svc = next((s for s in hub.services if s.name == service), None)
        if svc is None:
            return ServiceActions(recheck=False, diagnose=False)
        return ServiceActions(restart=svc.restart is not None, logs=svc.log_file is not None)

    @app.websocket("/api/v1/events")
    async def events(ws: WebSocket) -> None:
        await serve_events(hub, ws)

    exact_openapi(app)
    return app


#: what a request that needed the database is told while it fails; the writer retries
STORAGE_RETRY_SECONDS = 5


def _storage_failed(hub: Hub) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A write the database refused (disk full, read-only, locked) is the hub's trouble,
    not the caller's, and passes: 503 with the cause and when to retry, logged once per
    episode by the writer. Reads answer from memory or from a database that still reads."""

    async def answer(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreError)
        hub.writer.note_failure(exc)
        cause = "the disk is full" if "full" in str(exc).lower() else str(exc)
        return JSONResponse(
            {"detail": f"the hub cannot save to its database right now ({cause}); try again"},
            status_code=503,
            headers={"Retry-After": str(STORAGE_RETRY_SECONDS)},
        )

    return answer
