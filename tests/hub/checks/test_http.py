from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest

from studio_status.hub.checks.http import DRAIN_LIMIT, HttpChecker
from studio_status.hub.checks.specs import HttpSpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer
from tests.hub.checks.helpers import BOUND, TIMEOUT, SteppingClock
from tests.hub.checks.servers import Behaviour, Request, Response, free_port
from tests.hub.checks.tls import ca_and_leaf, self_signed


def checker(url: str, **spec: object) -> HttpChecker:
    return HttpChecker(HttpSpec(url=url, **spec), TIMEOUT)  # type: ignore[arg-type]


async def test_healthy_endpoint_reports_status_version_and_url(start_server: StartServer) -> None:
    server = await start_server()
    check = checker(f"{server.url}/health")
    try:
        result = await check.check()
    finally:
        await check.aclose()

    assert result.status is HealthStatus.HEALTHY
    assert result.error_message is None
    assert isinstance(result.latency_ms, int)
    assert result.details["status_code"] == 200
    assert result.details["http_version"] == "HTTP/1.1"
    assert result.details["url"] == f"{server.url}/health"
    assert [r.path for r in server.requests] == ["/health"]


async def test_unexpected_status_is_down(start_server: StartServer) -> None:
    async def failing(_request: Request) -> Response:
        return Response(503, b"maintenance")

    server = await start_server(failing)
    check = checker(server.url)
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "HTTP 503 Service Unavailable (expected 200)"
    assert result.details["status_code"] == 503


async def test_expected_status_list_and_head(start_server: StartServer) -> None:
    async def no_content(_request: Request) -> Response:
        return Response(204)

    server = await start_server(no_content)
    check = checker(server.url, method="HEAD", expect_status=[200, 204])
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.HEALTHY
    assert server.requests[0].method == "HEAD"


async def test_body_marker_found_and_missing(start_server: StartServer) -> None:
    async def page(_request: Request) -> Response:
        return Response(200, b"<html>status: all systems go</html>", "text/html")

    server = await start_server(page)
    found = checker(server.url, body_contains="all systems go")
    missing = checker(server.url, body_contains="database ok")
    try:
        assert (await found.check()).status is HealthStatus.HEALTHY
        result = await missing.check()
    finally:
        await found.aclose()
        await missing.aclose()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "response body does not contain 'database ok'"


async def test_slow_answer_is_degraded(start_server: StartServer) -> None:
    async def slow(_request: Request) -> Response:
        return Response(200, b"ok", delay=0.05)

    server = await start_server(slow)
    check = checker(server.url, degraded_ms=10)
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DEGRADED
    assert result.latency_ms is not None and result.latency_ms >= 50
    assert "slow response" in (result.error_message or "")


async def test_latency_threshold_uses_the_checker_clock(start_server: StartServer) -> None:
    server = await start_server()
    check = HttpChecker(
        HttpSpec(url=server.url, degraded_ms=1000),  # type: ignore[arg-type]
        TIMEOUT,
        clock=SteppingClock(1.5),
    )
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DEGRADED
    assert result.latency_ms == 1500


async def test_connection_refused_is_down() -> None:
    check = checker(f"http://127.0.0.1:{free_port()}/")
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "connection refused"
    assert result.details["url"].startswith("http://127.0.0.1:")


async def test_unresolvable_host_is_down() -> None:
    check = checker("http://nonexistent.invalid/health")
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert (result.error_message or "").startswith("DNS lookup failed")


async def test_hung_server_times_out_in_bounded_time(start_server: StartServer) -> None:
    server = await start_server(behaviour=Behaviour.HANG)
    check = checker(server.url)
    started = time.monotonic()
    result = await check.check()
    elapsed = time.monotonic() - started
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"no answer within {TIMEOUT:g} s"
    assert TIMEOUT * 0.9 <= elapsed < BOUND
    assert len(server.requests) == 1


async def test_silent_server_times_out(start_server: StartServer) -> None:
    server = await start_server(behaviour=Behaviour.SILENT)
    check = checker(server.url)
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert "no answer within" in (result.error_message or "")


async def test_connection_reset_is_down(start_server: StartServer) -> None:
    server = await start_server(behaviour=Behaviour.RESET)
    check = checker(server.url)
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    message = result.error_message or ""
    assert "reset" in message or "disconnected" in message, message


async def test_garbage_answer_is_down(start_server: StartServer) -> None:
    server = await start_server(behaviour=Behaviour.GARBAGE)
    check = checker(server.url)
    result = await check.check()
    await check.aclose()

    assert result.status is HealthStatus.DOWN
    assert (result.error_message or "").startswith("invalid HTTP response")


async def test_self_signed_certificate_is_down_unless_verification_is_off(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = await start_server(tls=self_signed(tmp_path).server_context())
    verifying = checker(server.url)
    trusting = checker(server.url, verify_tls=False)
    try:
        refused = await verifying.check()
        accepted = await trusting.check()
    finally:
        await verifying.aclose()
        await trusting.aclose()

    assert refused.status is HealthStatus.DOWN
    assert refused.error_message == "TLS certificate verification failed: self-signed certificate"
    assert accepted.status is HealthStatus.HEALTHY
    assert accepted.details["url"].startswith("https://")


async def test_certificate_from_trusted_ca_is_healthy(
    start_server: StartServer, tmp_path: Path
) -> None:
    ca, leaf = ca_and_leaf(tmp_path)
    server = await start_server(tls=leaf.server_context())
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca)) as client:
        check = HttpChecker(HttpSpec(url=server.url), TIMEOUT, http=client)  # type: ignore[arg-type]
        result = await check.check()
        await check.aclose()

    assert result.status is HealthStatus.HEALTHY


async def test_expired_certificate_is_down(start_server: StartServer, tmp_path: Path) -> None:
    ca, leaf = ca_and_leaf(tmp_path, expired=True)
    server = await start_server(tls=leaf.server_context())
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca)) as client:
        check = HttpChecker(HttpSpec(url=server.url), TIMEOUT, http=client)  # type: ignore[arg-type]
        result = await check.check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "TLS certificate verification failed: certificate has expired"


async def test_uses_the_injected_client_and_leaves_it_open(start_server: StartServer) -> None:
    server = await start_server()
    async with httpx.AsyncClient(headers={"X-Studio-Hub": "shared"}) as client:
        check = HttpChecker(
            HttpSpec(url=server.url, headers={"Authorization": "Bearer probe"}),  # type: ignore[arg-type]
            TIMEOUT,
            http=client,
        )
        assert (await check.check()).status is HealthStatus.HEALTHY
        await check.aclose()
        assert not client.is_closed

    headers = server.requests[0].headers
    assert headers["x-studio-hub"] == "shared"
    assert headers["authorization"] == "Bearer probe"


async def test_small_bodies_are_read_so_the_connection_is_kept(start_server: StartServer) -> None:
    # a hub checking hundreds of services must not open a connection per check
    big = b"x" * (4 * DRAIN_LIMIT)

    async def handler(request: Request) -> Response:
        return Response(200, big if request.path == "/big" else b"ok\n")

    server = await start_server(handler)
    async with httpx.AsyncClient() as client:
        small = HttpChecker(HttpSpec(url=f"{server.url}/health"), TIMEOUT, http=client)  # type: ignore[arg-type]
        for _ in range(5):
            assert (await small.check()).status is HealthStatus.HEALTHY
        assert server.connections == 1
        # a page too big to drain is left unread: its connection goes (the first reuses the
        # kept one, the second needs a new one), the check still passes
        large = HttpChecker(HttpSpec(url=f"{server.url}/big"), TIMEOUT, http=client)  # type: ignore[arg-type]
        for _ in range(2):
            assert (await large.check()).status is HealthStatus.HEALTHY
        assert server.connections == 2
        assert (await small.check()).status is HealthStatus.HEALTHY
        assert server.connections == 3  # nothing was left to keep
        assert len(server.requests) == 8


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/", "http://nonexistent.invalid/"])
async def test_diagnose_reports_the_same_failure(url: str) -> None:
    check = checker(url)
    report = await check.diagnose()
    await check.aclose()

    assert report["status"] == "down"
    assert report["error_message"]
