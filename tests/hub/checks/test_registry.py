from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter

from studio_status.hub.checks import CheckSpec, build_checker
from studio_status.hub.checks.comfyui import ComfyUIChecker
from studio_status.hub.checks.command import CommandChecker
from studio_status.hub.checks.disk import DiskChecker
from studio_status.hub.checks.eventbus import EventBusChecker
from studio_status.hub.checks.http import HttpChecker
from studio_status.hub.checks.postgres import PostgresChecker
from studio_status.hub.checks.tcp import TcpChecker
from studio_status.hub.checks.workers import WorkersChecker
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer

SPECS = TypeAdapter(CheckSpec)


async def no_bus() -> None:
    return None


@pytest.mark.parametrize(
    ("config", "cls"),
    [
        ({"kind": "http", "url": "http://127.0.0.1:8000/health"}, HttpChecker),
        ({"kind": "tcp", "host": "127.0.0.1", "port": 5432}, TcpChecker),
        ({"kind": "postgres", "dsn": "postgresql://u@127.0.0.1/db"}, PostgresChecker),
        ({"kind": "disk", "path": "/"}, DiskChecker),
        ({"kind": "command", "argv": ["/usr/lib/nagios/plugins/check_load"]}, CommandChecker),
        ({"kind": "comfyui", "urls": ["http://127.0.0.1:8188"]}, ComfyUIChecker),
        ({"kind": "eventbus"}, EventBusChecker),
        ({"kind": "workers", "urls": ["http://127.0.0.1:9000/health"]}, WorkersChecker),
    ],
)
async def test_each_kind_builds_its_checker(config: dict[str, Any], cls: type) -> None:
    checker = build_checker(SPECS.validate_python(config), timeout=2.5, bus_probe=no_bus)
    try:
        assert isinstance(checker, cls)
        assert checker.kind == config["kind"]
        assert checker.timeout == 2.5
    finally:
        await checker.aclose()


def test_eventbus_without_a_probe_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="bus_probe"):
        build_checker(SPECS.validate_python({"kind": "eventbus"}), timeout=1)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        build_checker(SPECS.validate_python({"kind": "disk"}), timeout=0)


async def test_shared_client_reaches_http_checkers(start_server: StartServer) -> None:
    server = await start_server()
    async with httpx.AsyncClient(headers={"X-Hub": "1"}) as client:
        for config in (
            {"kind": "http", "url": server.url},
            {"kind": "workers", "urls": [server.url]},
        ):
            checker = build_checker(SPECS.validate_python(config), timeout=1, http=client)
            assert (await checker.check()).status is HealthStatus.HEALTHY
            await checker.aclose()
        assert not client.is_closed

    assert [r.headers.get("x-hub") for r in server.requests] == ["1", "1"]
