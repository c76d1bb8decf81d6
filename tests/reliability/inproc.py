"""A real hub in this test's event loop on a port the test chooses, so it can be stopped
and started again where its clients expect it (``tests.hubrunner.run_hub`` picks a new
port each time)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from studio_status.hub.config import HubConfig, HubSettings, ServiceConfig
from studio_status.hub.server import bind, serve
from studio_status.hub.service import Hub
from tests.hubrunner import RunningHub


@contextlib.asynccontextmanager
async def hub_on_port(
    database: Path, services: Sequence[ServiceConfig], port: int, **settings: Any
) -> AsyncIterator[RunningHub]:
    config = HubConfig(
        hub=HubSettings(host="127.0.0.1", port=port, database=database, **settings),
        services=list(services),
    )
    token = secrets.token_urlsafe(16)
    ready: asyncio.Future[tuple[Hub, str]] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    sock = bind("127.0.0.1", port)

    def on_ready(hub: Hub, url: str) -> None:
        if not ready.done():
            ready.set_result((hub, url))

    task = asyncio.create_task(
        serve(config, bootstrap_token=token, on_ready=on_ready, stop=stop, sock=sock)
    )
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        if task.done():
            task.result()
        raise RuntimeError("hub did not start")
    hub, url = ready.result()
    try:
        yield RunningHub(hub, url, token, stop, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
