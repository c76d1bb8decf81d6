"""``GET /metrics``: the Prometheus scrape endpoint (``docs/metrics.md``).

Never open to the network by default: an admin token or the dedicated scrape token
(``[metrics]``) is required, and only a hub configured with ``loopback_open`` lets a scraper
on its own machine in without one.
"""

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from studio_status.protocol import Role

from .gate import Gate
from .service import Hub

__all__ = ["metrics_router"]

_bearer = HTTPBearer(
    auto_error=False, description="An admin token or the dedicated metrics token ([metrics])"
)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_router(hub: Hub) -> APIRouter:
    settings = hub.config.metrics
    scrape_token = settings.scrape_token()
    router = APIRouter(tags=["metrics"])
    if not settings.enabled:
        return router

    async def allowed(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if settings.loopback_open and _loopback(request):
            return
        presented = credentials.credentials if credentials is not None else None
        if (
            presented is not None
            and scrape_token is not None
            and hmac.compare_digest(presented.encode(), scrape_token.encode())
        ):
            return
        role = await hub.auth.authenticate(presented) if presented else None
        if role is None:
            gate: Gate = request.app.state.gate
            gate.refuse_anonymous(request)
            raise HTTPException(
                401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        if role is not Role.ADMIN:
            raise HTTPException(403, "requires role admin or the metrics token")

    @router.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {}}, "description": "Metrics"},
            401: {"description": "No token, or an unknown or revoked one"},
            403: {"description": "The token's role may not scrape"},
            429: {"description": "Too many refused attempts from this address"},
        },
        dependencies=[Depends(allowed)],
    )
    async def metrics() -> Response:
        """The hub's figures in the Prometheus text exposition format."""
        body, content_type = await hub.metrics.render()
        return Response(body, media_type=content_type)

    return router
