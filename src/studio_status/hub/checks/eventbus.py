"""Event bus checker: a probe published on the hub's own bus must come back.

The bus is what every desktop's live view hangs on; a bus that accepts publishes but no
longer delivers them looks fine from every other angle, so the round trip is the test.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import EventBusSpec
from studio_status.protocol import HealthStatus

__all__ = ["BusProbe", "EventBusChecker"]

#: Publishes a probe on the bus and returns once it has been received back.
BusProbe = Callable[[], Awaitable[None]]


class EventBusChecker(GuardedChecker):
    kind = "eventbus"

    def __init__(
        self,
        spec: EventBusSpec,
        timeout: float,
        *,
        bus_probe: BusProbe,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec
        self._bus_probe = bus_probe

    async def probe(self, start: float) -> CheckResult:
        await self._bus_probe()
        latency = elapsed_ms(start, self.clock)
        details: dict[str, Any] = {"round_trip_ms": latency}
        if latency > self.spec.degraded_ms:
            message = f"slow round trip: {latency} ms (threshold {self.spec.degraded_ms} ms)"
            return CheckResult(HealthStatus.DEGRADED, latency, message, details)
        return CheckResult(HealthStatus.HEALTHY, latency, None, details)
