"""Push and ingest limits: 413 for an oversized body, 429 past a token's rate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from studio_status.hub.limits import LimitSettings, RateLimiter
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
            # the burst (the 413s, refused before anything was read, are not counted)
            for n in (1, 2, 4):
                r = await http.post("/api/v1/jobs/events", json=job(n))
                assert r.status_code == 200
            r = await http.post("/api/v1/jobs/events", json=job(5))
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 1
            # another token has its own allowance; reads and admin actions are not limited
            assert (await other.post("/api/v1/jobs/events", json=job(3))).status_code == 200
            for _ in range(5):
                assert (await http.get("/api/v1/status/footer")).status_code == 200
                assert (await http.post("/admin/health/api/recheck")).status_code == 200
            # nothing was applied from the refused requests
            assert set(running.hub.jobs.jobs) == {"j1", "j2", "j3", "j4"}


async def test_bogus_tokens_share_one_bucket_per_address(tmp_path: Path, target: Target) -> None:
    """A caller making up a token per request gets no bucket per token: after its address's
    burst it is told to slow down, on reads too, while valid tokens carry on."""
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        push_burst=3,
        push_rate_per_second=0.01,
    ) as running:
        valid = await running.token(Role.CREATOR)
        statuses = []
        for n in range(6):
            async with running.http(f"ss_{n:012x}_made-up-secret-{n}") as bogus:
                statuses.append((await bogus.get("/api/v1/status/footer")).status_code)
        assert statuses == [401, 401, 401, 429, 429, 429]
        async with running.http("ss_000000000000_made-up-again") as bogus:
            # the scrape endpoint has its own access rule but the same bucket
            assert (await bogus.get("/metrics")).status_code == 429
        async with running.http() as anonymous:
            r = await anonymous.post("/api/v1/jobs/events", content=b"{")
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        async with running.http(valid) as http:
            assert (await http.get("/api/v1/status/footer")).status_code == 200


async def test_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limits = RateLimiter(LimitSettings(rate_per_second=2.0, burst=2), clock=lambda: now[0])
    assert limits.take("k") == 0 and limits.take("k") == 0
    assert limits.take("k") == 0.5
    now[0] += 0.5
    assert limits.take("k") == 0
    assert limits.take("other") == 0
    assert len(limits) == 2
