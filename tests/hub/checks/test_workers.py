from __future__ import annotations

import time
from typing import Any

import pytest

from studio_status.hub.checks._common import TARGET_SHARE
from studio_status.hub.checks.specs import WorkersSpec
from studio_status.hub.checks.workers import WorkersChecker
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer
from tests.hub.checks.helpers import BOUND, SCALE, TIMEOUT
from tests.hub.checks.servers import Behaviour, Request, Response, free_port


async def unavailable(_request: Request) -> Response:
    return Response(503, b"draining")


#: for checks whose workers all answer: a slow, loaded machine must not turn a prompt
#: answer into "no answer" (each worker gets only TARGET_SHARE of the check's timeout)
ANSWERING = 10.0 * SCALE


async def run(urls: list[str], limit: float = ANSWERING, **extra: Any) -> Any:
    checker = WorkersChecker(WorkersSpec(urls=urls, **extra), limit)  # type: ignore[arg-type]
    try:
        return await checker.check()
    finally:
        await checker.aclose()


async def workers(start_server: StartServer, up: int, failing: int) -> list[str]:
    urls = [f"{(await start_server()).url}/healthz" for _ in range(up)]
    urls += [f"{(await start_server(unavailable)).url}/healthz" for _ in range(failing)]
    return urls


async def test_all_online_is_healthy(start_server: StartServer) -> None:
    result = await run(await workers(start_server, 3, 0))

    assert result.status is HealthStatus.HEALTHY
    assert result.error_message is None
    assert (result.details["online"], result.details["total"]) == (3, 3)
    assert all(w["online"] and w["status_code"] == 200 for w in result.details["workers"])


@pytest.mark.parametrize(
    ("up", "failing", "expected"),
    [
        (2, 1, HealthStatus.DEGRADED),  # 0.67: below 1.0, not below 0.5
        (1, 1, HealthStatus.DEGRADED),  # exactly 0.5 is not below 0.5
        (1, 2, HealthStatus.DOWN),
        (0, 2, HealthStatus.DOWN),
    ],
)
async def test_share_online_decides_with_default_lines(
    start_server: StartServer, up: int, failing: int, expected: HealthStatus
) -> None:
    result = await run(await workers(start_server, up, failing))

    assert result.status is expected
    assert result.details["online"] == up
    assert result.details["total"] == up + failing
    assert result.error_message is not None
    assert result.error_message.startswith(f"{up}/{up + failing} workers online")
    assert "HTTP 503" in result.error_message


async def test_custom_lines(start_server: StartServer) -> None:
    urls = await workers(start_server, 3, 1)  # 0.75 online

    assert (await run(urls, degraded_below=0.75)).status is HealthStatus.HEALTHY
    assert (await run(urls, degraded_below=0.8, down_below=0.8)).status is HealthStatus.DOWN


async def test_unreachable_and_hung_workers_count_as_offline(start_server: StartServer) -> None:
    ok = await start_server()
    hung = await start_server(behaviour=Behaviour.HANG)
    refused = f"http://127.0.0.1:{free_port()}/"

    started = time.monotonic()
    result = await run([f"{ok.url}/", f"{hung.url}/", refused], TIMEOUT, down_below=0.3)
    elapsed = time.monotonic() - started

    assert result.status is HealthStatus.DEGRADED
    by_url = {w["url"]: w for w in result.details["workers"]}
    assert by_url[f"{hung.url}/"]["error"] == f"no answer within {TIMEOUT * TARGET_SHARE:g} s"
    assert by_url[refused]["error"] == "connection refused"
    assert by_url[f"{ok.url}/"]["online"] is True
    assert elapsed < BOUND
