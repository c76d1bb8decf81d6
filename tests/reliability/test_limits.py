"""Push and ingest limits: 413 for an oversized body, 429 past a token's rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from studio_status.hub.limits import LimitSettings, RequestLimits
from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, run_hub


def job(n: int) -> dict[str, object]:
    return {"event_id": f"e{n}", "kind": "created", "job_id": f"j{n}"}


async def test_body_size_and_rate_per_token(tmp_path: Path, target: Target) -> None:
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        max_body_bytes=4096,
        push_burst=3,
        push_rate_per_second=0.01,
    ) as running:
        first = await running.token(Role.ADMIN)
        second = await running.token(Role.ADMIN)
        async with running.http(first) as http, running.http(second) as other:
            big = {**job(0), "error": "x" * 5000}
            r = await http.post("/api/v1/jobs/events", json=big)
            assert r.status_code == 413
            assert "4096" in r.json()["detail"]

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted
                yield b'{"event_id": "e9", "kind": "created", "job_id": "j9", "error": "'
                for _ in range(10):
                    yield b"y" * 1000
                yield b'"}'

            r = await http.post(
                "/api/v1/jobs/events",
                content=chunks(),
                headers={"Content-Type": "application/json"},
            )
            assert r.status_code == 413
            # the burst (the two 413s above were counted too: 3 in all), then 429
            r = await http.post("/api/v1/jobs/events", json=job(1))
            assert r.status_code == 200
            r = await http.post("/api/v1/jobs/events", json=job(2))
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 1
            # another token has its own allowance; reads are never limited
            assert (await other.post("/api/v1/jobs/events", json=job(3))).status_code == 200
            for _ in range(5):
                assert (await http.get("/api/v1/status/footer")).status_code == 200
            # nothing was applied from the refused requests
            assert set(running.hub.jobs.jobs) == {"j1", "j3"}


async def test_bucket_refills_at_its_rate() -> None:
    now = [0.0]

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not reached in this test")

    limits = RequestLimits(app, LimitSettings(rate_per_second=2.0, burst=2), clock=lambda: now[0])
    assert limits._take("k") == 0 and limits._take("k") == 0
    assert limits._take("k") == 0.5
    now[0] += 0.5
    assert limits._take("k") == 0
    assert limits._take("other") == 0


async def test_unlimited_paths_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limits = RequestLimits(app, LimitSettings(burst=1, rate_per_second=0.001))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=limits)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        for _ in range(3):
            await http.post("/admin/health/api/recheck", json={})
            await http.get("/api/v1/status/footer")
    await asyncio.sleep(0)
    assert len(seen) == 6
