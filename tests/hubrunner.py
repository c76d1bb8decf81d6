"""Runs a real hub on a loopback port inside the test's event loop.

Tests get the real uvicorn server, the real socket endpoint and the real database (a SQLite
file, or PostgreSQL);
nothing is mocked. ``interval_seconds`` is long by default so that checks happen only at
start and when a test asks (``hub.recheck``): deterministic, no racing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from studio_status.hub.config import (
    HubConfig,
    HubSettings,
    JobsSettings,
    MetricsSettings,
    ServiceConfig,
)
from studio_status.hub.health_settings import HealthSettings
from studio_status.hub.server import bind, serve
from studio_status.hub.service import Hub
from studio_status.hub.sources.specs import SourcesConfig
from studio_status.protocol import HealthStatus, Role, Topic


@dataclass
class RunningHub:
    hub: Hub
    url: str
    admin_token: str
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/events"

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)

    async def token(self, role: Role) -> str:
        return await self.hub.auth.create(role, f"test-{role.value}")

    @contextlib.asynccontextmanager
    async def socket(
        self, token: str | None, topics: Sequence[str] = (), **hello: Any
    ) -> AsyncIterator[ClientConnection]:
        async with connect(self.ws_url, open_timeout=10) as ws:
            await ws.send(
                json.dumps({"type": "hello", "token": token, "topics": list(topics), **hello})
            )
            yield ws


async def until(condition: Callable[[], bool], limit: float = 15.0) -> None:
    """Wait for a state other tasks bring about (they run while this one yields)."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 (a state of several objects, no one event)
            await asyncio.sleep(0.02)


async def recv_json(ws: ClientConnection, limit: float = 10) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), limit)
    data: dict[str, Any] = json.loads(raw)
    return data


async def recv_until(ws: ClientConnection, kind: str, limit: float = 10) -> dict[str, Any]:
    """Next message of type ``kind``, skipping others (heartbeats, footer refreshes)."""
    async with asyncio.timeout(limit):
        while True:
            msg = await recv_json(ws)
            if msg.get("type") == kind:
                return msg


@contextlib.asynccontextmanager
async def run_hub(
    tmp_path: Path,
    services: Sequence[ServiceConfig],
    *,
    run_checks: bool = True,
    sources: SourcesConfig | None = None,
    health: HealthSettings | None = None,
    metrics: MetricsSettings | None = None,
    port: int = 0,
    database: Path | str | None = None,
    jobs: JobsSettings | None = None,
    serve_kw: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[RunningHub]:
    """``port`` 0 picks a free one; a fixed port lets a test stop the hub and start it again
    where its clients expect it. ``database``: a SQLite file or a PostgreSQL URL (the
    ``database`` fixture gives each in turn). ``serve_kw`` goes to :func:`serve` (a
    replay's ``clock`` and ``sleep``)."""
    config = HubConfig(
        hub=HubSettings(
            host="127.0.0.1", port=port, database=database or tmp_path / "hub.sqlite3", **settings
        ),
        services=list(services),
        sources=sources or SourcesConfig(),
        health=health or HealthSettings(),
        metrics=metrics or MetricsSettings(),
        jobs=jobs or JobsSettings(),
    )
    token = secrets.token_urlsafe(16)
    ready: asyncio.Future[tuple[Hub, str]] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    sock = bind("127.0.0.1", port)

    def on_ready(hub: Hub, url: str) -> None:
        if not ready.done():
            ready.set_result((hub, url))

    task = asyncio.create_task(
        serve(
            config,
            bootstrap_token=token,
            on_ready=on_ready,
            stop=stop,
            sock=sock,
            **(serve_kw or {}),
        )
    )
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        if task.done():
            task.result()
        raise RuntimeError("hub did not start")
    hub, url = ready.result()
    running = RunningHub(hub, url, token, stop, task)
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def wait_for_status(hub: Hub, name: str, status: HealthStatus, limit: float = 10) -> None:
    """Wait, on the hub's own bus, until service ``name`` reads ``status``."""
    sub = hub.bus.subscribe(Role.ADMIN, [Topic.HEALTH])
    try:
        async with asyncio.timeout(limit):
            while hub.state.services[name].status is not status:
                await sub.queue.get()
    finally:
        hub.bus.unsubscribe(sub)


def http_service(name: str, url: str, **kw: Any) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {
            "name": name,
            "interval_seconds": kw.pop("interval_seconds", 3600),
            "timeout_seconds": kw.pop("timeout_seconds", 2),
            "check": {"kind": "http", "url": url, **kw},
        }
    )
