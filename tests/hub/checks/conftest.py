from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hub.checks.servers import Behaviour, Handler, LoopbackServer, ok_handler
from tests.pgserver import PgServer, postgres_server_fixture

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures" / "capture-v0.33.0.jsonl"

postgres_server = postgres_server_fixture()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PgServer) -> str:
    return postgres_server.dsn


StartServer = Callable[..., Awaitable[LoopbackServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Starts loopback servers for one test and closes every one of them afterwards."""
    servers: list[LoopbackServer] = []

    async def start(
        handler: Handler = ok_handler,
        behaviour: Behaviour = Behaviour.RESPOND,
        tls: Any = None,
    ) -> LoopbackServer:
        server = await LoopbackServer(handler, behaviour, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture(scope="session")
def system_stats_body() -> dict[str, Any]:
    """The ``/system_stats`` body a real ComfyUI 0.33.0 (``--cpu``) answered while idle."""
    with CAPTURE.open() as lines:
        for line in lines:
            record = json.loads(line)
            if (
                record.get("phase") == "idle"
                and record.get("dir") == "http"
                and record.get("req") == "GET /system_stats"
            ):
                body: dict[str, Any] = record["body"]
                return body
    raise AssertionError(f"no idle /system_stats record in {CAPTURE}")
