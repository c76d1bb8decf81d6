"""The ComfyUI checker against a loopback server that answers with a real capture.

The server applies ComfyUI's own rule (403 when an ``Origin`` header's host differs from
``Host``), so a checker that leaked an ``Origin`` would fail these tests as it would fail
against a real instance.
"""

from __future__ import annotations

import copy
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from studio_status.hub.checks._common import TARGET_SHARE
from studio_status.hub.checks.comfyui import ComfyUIChecker, parse_system_stats
from studio_status.hub.checks.specs import ComfyUISpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer
from tests.hub.checks.helpers import BOUND, TIMEOUT
from tests.hub.checks.servers import Behaviour, Handler, Request, Response, free_port

MB = 1024 * 1024


def comfyui(body: dict[str, Any], *, delay: float = 0.0) -> Handler:
    async def handle(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            return Response(403, b"Forbidden")
        if request.path in ("/system_stats", "/api/system_stats"):
            return Response.json(body) if not delay else _delayed(body, delay)
        return Response(404, b"404: Not Found")

    return handle


def _delayed(body: dict[str, Any], delay: float) -> Response:
    response = Response.json(body)
    response.delay = delay
    return response


def gpu_body(real: dict[str, Any], *, free_mb: int, total_mb: int = 24576) -> dict[str, Any]:
    """The captured body with its CPU device swapped for a CUDA card."""
    body = copy.deepcopy(real)
    body["devices"][0].update(
        name="cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
        type="cuda",
        index=0,
        vram_total=total_mb * MB,
        vram_free=free_mb * MB,
    )
    return body


def spec(*urls: str, **extra: Any) -> ComfyUISpec:
    return ComfyUISpec(urls=list(urls), **extra)


async def run(checker: ComfyUIChecker) -> Any:
    try:
        return await checker.check()
    finally:
        await checker.aclose()


def test_parse_the_captured_body(system_stats_body: dict[str, Any]) -> None:
    info = parse_system_stats(system_stats_body)

    assert info["version"] == "0.33.0"
    assert info["device_name"] == "cpu"
    assert info["device_type"] == "cpu"
    assert info["vram_total_mb"] == 25276510208 // MB
    assert info["vram_free_mb"] == 23605493760 // MB


async def test_captured_cpu_instance_is_healthy(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(system_stats_body))
    # A CPU device reports RAM as VRAM: an impossible VRAM floor must not apply to it.
    result = await run(ComfyUIChecker(spec(server.url, vram_free_min_mb=10**9), TIMEOUT))

    assert result.status is HealthStatus.HEALTHY, result.error_message
    assert result.details["instances"] == 1
    assert result.details["total"] == 1
    assert result.details["version"] == "0.33.0"
    instance = result.details["per_instance"][0]
    assert instance["url"] == server.url
    assert instance["online"] is True
    assert instance["device_type"] == "cpu"
    assert [r.path for r in server.requests] == ["/system_stats"]
    assert "origin" not in server.requests[0].headers


async def test_no_origin_header_even_from_a_client_that_sets_one(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(system_stats_body))
    async with httpx.AsyncClient(headers={"Origin": "http://studio.example"}) as client:
        result = await run(ComfyUIChecker(spec(server.url), TIMEOUT, http=client))

    assert result.status is HealthStatus.HEALTHY, result.error_message
    assert "origin" not in server.requests[0].headers


async def test_forbidden_answer_is_explained(start_server: StartServer) -> None:
    async def forbidden(_request: Request) -> Response:
        return Response(403, b"Forbidden")

    server = await start_server(forbidden)
    result = await run(ComfyUIChecker(spec(server.url), TIMEOUT))

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"{server.url}: HTTP 403 (ComfyUI rejects a foreign Origin)"


async def test_gpu_with_low_free_vram_is_degraded(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(gpu_body(system_stats_body, free_mb=300)))
    result = await run(ComfyUIChecker(spec(server.url, vram_free_min_mb=512), TIMEOUT))

    assert result.status is HealthStatus.DEGRADED
    assert result.error_message == f"{server.url}: low VRAM: 300 MB free (minimum 512 MB)"
    assert result.details["instances"] == 1
    assert result.details["vram_free_mb"] == 300


async def test_gpu_with_enough_vram_is_healthy(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(gpu_body(system_stats_body, free_mb=20000)))
    result = await run(ComfyUIChecker(spec(server.url), TIMEOUT))

    assert result.status is HealthStatus.HEALTHY
    assert result.details["device_name"].startswith("cuda:0")


async def test_device_without_vram_figures_skips_the_floor(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(gpu_body(system_stats_body, free_mb=0, total_mb=0)))
    result = await run(ComfyUIChecker(spec(server.url), TIMEOUT))

    assert result.status is HealthStatus.HEALTHY


async def test_slow_instance_is_degraded(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    server = await start_server(comfyui(system_stats_body, delay=0.05))
    result = await run(ComfyUIChecker(spec(server.url, degraded_ms=10), TIMEOUT))

    assert result.status is HealthStatus.DEGRADED
    assert "slow:" in (result.error_message or "")


async def test_some_instances_down_is_degraded_none_is_down(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    up = await start_server(comfyui(system_stats_body))
    refused = f"http://127.0.0.1:{free_port()}"

    some = await run(ComfyUIChecker(spec(up.url, refused), TIMEOUT))
    none = await run(ComfyUIChecker(spec(refused, "http://nonexistent.invalid:8188"), TIMEOUT))

    assert some.status is HealthStatus.DEGRADED
    assert some.details["instances"] == 1
    assert some.details["total"] == 2
    assert some.error_message == f"{refused}: connection refused"
    assert none.status is HealthStatus.DOWN
    assert none.details["instances"] == 0
    assert none.details["total"] == 2
    assert [i["online"] for i in none.details["per_instance"]] == [False, False]


async def test_non_comfyui_answer_is_offline(start_server: StartServer) -> None:
    async def html(_request: Request) -> Response:
        return Response(200, b"<html>nginx welcome page</html>", "text/html")

    server = await start_server(html)
    result = await run(ComfyUIChecker(spec(server.url), TIMEOUT))

    assert result.status is HealthStatus.DOWN
    assert "unexpected /system_stats response" in (result.error_message or "")


async def test_hung_instance_does_not_hide_a_healthy_one(
    start_server: StartServer, system_stats_body: dict[str, Any]
) -> None:
    up = await start_server(comfyui(system_stats_body))
    hung = await start_server(behaviour=Behaviour.HANG)

    started = time.monotonic()
    result = await run(ComfyUIChecker(spec(hung.url, up.url), TIMEOUT))
    elapsed = time.monotonic() - started

    assert result.status is HealthStatus.DEGRADED
    assert result.details["instances"] == 1
    assert result.error_message == f"{hung.url}: no answer within {TIMEOUT * TARGET_SHARE:g} s"
    assert elapsed < BOUND
