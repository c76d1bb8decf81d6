"""Worker fleet checker: status by the share of worker endpoints that answer.

One worker down in a fleet of ten is worth a warning, not a red light; the spec's
``degraded_below`` / ``down_below`` shares say where the lines are for this studio.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from studio_status.hub.checks._common import (
    TARGET_SHARE,
    Clock,
    GuardedChecker,
    HttpClientHolder,
    describe_error,
    elapsed_ms,
)
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import WorkersSpec
from studio_status.protocol import HealthStatus

__all__ = ["WorkersChecker"]


class WorkersChecker(GuardedChecker):
    kind = "workers"
    # Each worker is bounded by its share of ``timeout`` (``TARGET_SHARE``), so a hung one is
    # one target down, reported with the others before the service's own timeout fires.

    def __init__(
        self,
        spec: WorkersSpec,
        timeout: float,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.target_timeout = timeout * TARGET_SHARE
        self.spec = spec
        self.urls = [str(url) for url in spec.urls]
        self._http = HttpClientHolder(http)

    def base_details(self) -> dict[str, Any]:
        return {"online": 0, "total": len(self.urls)}

    async def probe(self, start: float) -> CheckResult:
        workers = await asyncio.gather(*(self._probe_worker(url) for url in self.urls))
        latency = elapsed_ms(start, self.clock)
        online = sum(1 for w in workers if w["online"])
        total = len(workers)
        share = online / total
        details: dict[str, Any] = {"online": online, "total": total, "workers": workers}
        if share < self.spec.down_below:
            status = HealthStatus.DOWN
        elif share < self.spec.degraded_below:
            status = HealthStatus.DEGRADED
        else:
            status = HealthStatus.HEALTHY
        message = None
        if status is not HealthStatus.HEALTHY:
            offline = "; ".join(f"{w['url']}: {w['error']}" for w in workers if not w["online"])
            message = f"{online}/{total} workers online ({offline})"
        return CheckResult(status, latency, message, details)

    async def _probe_worker(self, url: str) -> dict[str, Any]:
        start = self.clock()
        entry: dict[str, Any] = {"url": url, "online": False}
        try:
            async with asyncio.timeout(self.target_timeout):
                response = await self._http.client.get(url, timeout=self.target_timeout)
        except Exception as exc:
            entry["latency_ms"] = elapsed_ms(start, self.clock)
            entry["error"] = describe_error(exc, timeout=self.target_timeout)
            return entry
        entry["latency_ms"] = elapsed_ms(start, self.clock)
        entry["status_code"] = response.status_code
        if response.is_success:
            entry["online"] = True
        else:
            entry["error"] = f"HTTP {response.status_code}"
        return entry

    async def aclose(self) -> None:
        await self._http.aclose()
