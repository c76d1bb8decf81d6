"""TCP connect checker: the cheapest proof that something listens on a port."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import TcpSpec
from studio_status.protocol import HealthStatus

__all__ = ["TcpChecker"]


class TcpChecker(GuardedChecker):
    kind = "tcp"

    def __init__(self, spec: TcpSpec, timeout: float, *, clock: Clock = time.perf_counter) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec

    def base_details(self) -> dict[str, Any]:
        return {"host": self.spec.host, "port": self.spec.port}

    async def probe(self, start: float) -> CheckResult:
        _reader, writer = await asyncio.open_connection(self.spec.host, self.spec.port)
        latency = elapsed_ms(start, self.clock)
        peer = writer.get_extra_info("peername")
        writer.close()
        # The connect is what we measured; a peer slow to acknowledge the close is not news.
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        details = self.base_details()
        if isinstance(peer, tuple) and peer:
            details["address"] = str(peer[0])
        if latency > self.spec.degraded_ms:
            message = f"slow connect: {latency} ms (threshold {self.spec.degraded_ms} ms)"
            return CheckResult(HealthStatus.DEGRADED, latency, message, details)
        return CheckResult(HealthStatus.HEALTHY, latency, None, details)
