"""The hub's HTTP API (FastAPI on uvicorn); routes follow the seeds' own paths.

Read endpoints answer from memory (:class:`HealthState`) except the per-service history,
which is one indexed query. Every route but ``/health`` needs a bearer token; admin-only
data answers 403 to other roles and 401 to no or a bad token.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, WebSocket
from fastapi.responses import Response
from pydantic import BaseModel

from studio_status import __version__
from studio_status.protocol import (
    FooterEnvelope,
    HealthOverview,
    Role,
    ServiceDetail,
    utcnow,
)

from .deps import Access
from .limits import LimitSettings, RequestLimits
from .routes_cloud import cloud_router
from .routes_dashboard import dashboard_router
from .routes_health import health_router
from .routes_jobs import jobs_router
from .routes_metrics import metrics_router
from .routes_systems import systems_router
from .service import Hub
from .ws import serve_events

__all__ = ["create_app"]


class PublicHealth(BaseModel):
    status: Literal["healthy", "degraded", "down"]


class OverviewEnvelope(BaseModel):
    data: HealthOverview


class DetailEnvelope(BaseModel):
    data: ServiceDetail


class ErrorBody(BaseModel):
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorBody, "description": "The token's role may not see this"},
}


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
    settings = hub.config.hub
    app.add_middleware(
        RequestLimits,
        settings=LimitSettings(
            max_body_bytes=settings.max_body_bytes,
            rate_per_second=settings.push_rate_per_second,
            burst=settings.push_burst,
        ),
    )
    app.include_router(health_router(hub))  # before /admin/health/{service} takes its paths
    app.include_router(jobs_router(hub))
    app.include_router(dashboard_router(hub))
    app.include_router(cloud_router(hub))
    app.include_router(systems_router(hub))
    app.include_router(metrics_router(hub))

    deps = Access(hub)
    Authed = Annotated[Role, Depends(deps.any_role)]
    Admin = Annotated[Role, Depends(deps.only(Role.ADMIN))]

    @app.get("/health", response_model=PublicHealth, tags=["public"])
    async def public_health() -> PublicHealth:
        """Minimal status for monitors: no service names, no details."""
        if not hub.storage_ok:
            return PublicHealth(status="degraded")
        return PublicHealth(status="healthy")

    @app.get(
        "/api/v1/status/footer", response_model=FooterEnvelope, responses=_ERRORS, tags=["status"]
    )
    async def footer(role: Authed) -> Response:
        """Seed 000's footer summary, from memory; services and cloud only for admins."""
        return Response(hub.state.footer_json(role), media_type="application/json")

    @app.get("/admin/health", response_model=OverviewEnvelope, responses=_ERRORS, tags=["health"])
    async def overview(_: Admin) -> OverviewEnvelope:
        return OverviewEnvelope(
            data=HealthOverview(
                overall=hub.state.overall, services=list(hub.state.services.values())
            )
        )

    @app.get(
        "/admin/health/{service}",
        response_model=DetailEnvelope,
        responses={**_ERRORS, 404: {"model": ErrorBody}},
        tags=["health"],
    )
    async def detail(service: str, _: Admin, hours: float = 24.0) -> DetailEnvelope:
        current = hub.state.services.get(service)
        if current is None:
            raise HTTPException(404, f"no service named {service!r}")
        if not 0 < hours <= 24 * 31:
            raise HTTPException(422, "hours must be in (0, 744]")
        history = await hub.store.history(
            service, utcnow() - timedelta(hours=hours), hub.config.hub.history_limit
        )
        windows = await hub.store.windows(service)
        open_window = next((w for w in reversed(windows) if w.ended_at is None), None)
        return DetailEnvelope(
            data=ServiceDetail(service=current, history=history, window=open_window)
        )

    @app.websocket("/api/v1/events")
    async def events(ws: WebSocket) -> None:
        await serve_events(hub, ws)

    _document_plain_422(app)
    return app


def _document_plain_422(app: FastAPI) -> None:
    """Routes also answer 422 with a plain ``detail`` message (a rule the model cannot
    express, e.g. "end must be after start"); say so in the schema, whose default allows only
    pydantic's list of errors, so the document matches what the hub sends."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            errors = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if errors is not None:
                listed = errors["properties"]["detail"]
                errors["properties"]["detail"] = {
                    "anyOf": [listed, {"type": "string"}],
                    "title": "Detail",
                }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
