"""The app's client when the hub is unreachable at start, lost mid-run, slow, or failing.

Real sockets throughout: a real hub on a fixed loopback port that the test stops and
starts, and a plain HTTP server that answers slowly or with 500s. The client must say
what is true (``ConnectionState`` and ``stale``), keep the last good data, and come back
by itself. Timeouts are configured short so "slow" (10 s) costs the test well under 1 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from studio_status.client import ConnectionState, StatusClient, StatusState, StatusStore
from studio_status.protocol import Role
from tests.hub.checks.servers import LoopbackServer, Request, Response, Target, free_port
from tests.hubrunner import http_service

from .inproc import hub_on_port
from .tape import wait_state

FOOTER: dict[str, Any] = {
    "jobs": {"running": 1, "queued": 0, "overall_progress": None},
    "workflows": {"active": 0, "current_stage": None},
}


def fast_client(url: str, store: StatusStore, token: str | None = None) -> StatusClient:
    return StatusClient(
        url,
        store,
        token=token,
        poll_interval=0.1,
        backoff_initial=0.05,
        backoff_max=0.2,
        open_timeout=0.3,
        request_timeout=0.3,
        heartbeat_seconds=0.2,
        watchdog_interval=0.1,
    )


def offline(state: StatusState) -> bool:
    return state.connection is ConnectionState.OFFLINE and state.stale


def live(state: StatusState) -> bool:
    return state.connection is ConnectionState.LIVE and not state.stale


async def test_unreachable_at_start_then_lost_mid_run(tmp_path: Path, target: Target) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    services = [http_service("api", f"{target.url}/")]
    db = tmp_path / "hub.sqlite3"
    store = StatusStore()
    async with hub_on_port(db, services, port) as running:
        token = await running.token(Role.ADMIN)
    client = fast_client(url, store, token)
    client.start()
    try:
        # nothing listens: honest OFFLINE, nothing to show, a reason given
        state = await wait_state(store, offline)
        assert state.footer is None
        assert client.last_error
        async with hub_on_port(db, services, port, heartbeat_seconds=0.2):
            state = await wait_state(store, live)  # came up by itself
            good = state.footer
            assert good is not None and good.services is not None
        # lost mid-run: the last good data stays, marked stale, and it says offline
        state = await wait_state(store, offline)
        assert state.footer == good
        assert state.offline_since is not None
        async with hub_on_port(db, services, port, heartbeat_seconds=0.2):
            await wait_state(store, live)
    finally:
        await client.aclose()


class Plain:
    """A hub that only answers REST (no event socket), slowly or with errors on demand."""

    def __init__(self) -> None:
        self.status = 200
        self.slow = False
        self.release = asyncio.Event()  # lets pending slow answers go at the end
        self.server = LoopbackServer(self.handle)

    async def handle(self, request: Request) -> Response:
        if self.slow:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 10.0)
        if not request.path.startswith("/api/v1/status/footer"):
            return Response(404, b"not found")
        if self.status == 200:
            return Response(200, json.dumps({"data": FOOTER}).encode(), "application/json")
        return Response(self.status, b'{"detail": "boom"}', "application/json")


@pytest.fixture
async def plain() -> AsyncIterator[Plain]:
    p = Plain()
    await p.server.start()
    yield p
    p.release.set()
    await p.server.close()


async def test_slow_and_failing_hub(plain: Plain) -> None:
    store = StatusStore()
    client = fast_client(plain.server.url, store, "ss_x_y")
    client.start()
    try:
        # REST answers, the socket does not exist here: POLLING, fresh
        state = await wait_state(
            store, lambda s: s.connection is ConnectionState.POLLING and not s.stale
        )
        good = state.footer
        assert good is not None and good.jobs.running == 1
        # answers after 10 s: the client gives up after its own timeout and says so
        plain.slow = True
        state = await wait_state(store, offline)
        assert state.footer == good
        assert client.last_error and "timed out" in client.last_error
        plain.slow = False
        plain.release.set()
        await wait_state(store, lambda s: s.connection is ConnectionState.POLLING and not s.stale)
        # 500s: offline and stale, the last good data kept
        plain.status = 500
        state = await wait_state(store, offline)
        assert state.footer == good
        # it recovers by itself
        plain.status = 200
        await wait_state(store, lambda s: s.connection is ConnectionState.POLLING and not s.stale)
    finally:
        await client.aclose()
