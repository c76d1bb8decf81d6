"""Runs every service's checker on its own interval, each bounded by its own timeout.

One task per service: a hung target costs only its own timeout, never another service's
turn. A checker that raises is a bug in the checker, not evidence about the service, so it
reads ``unknown`` (with the error), not ``down``.

At most ``max_concurrent`` checks are in flight; the others wait for a slot, and a check's
timeout starts only when it has one, so waiting never reads as a slow target. Without the
bound, a thousand services starting together queue a thousand requests in the shared HTTP
pool, whose request assignment is quadratic in its queue: the hub spent a whole core there
and every check timed out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from studio_status import pace
from studio_status.protocol import HealthStatus, utcnow

from .checks.base import Checker, CheckResult
from .config import ServiceConfig

__all__ = ["Scheduler", "limit_for", "run_check", "spread"]

log = logging.getLogger("hub.checks")

ResultSink = Callable[[str, CheckResult, datetime], None]

#: beyond a checker's own bound (its timeout and grace), before the scheduler gives up on it
REPORT_MARGIN = 0.5


def limit_for(checker: Checker, timeout: float) -> float:
    """The scheduler's limit: a safety net behind the checker's own bound, never before it."""
    return timeout + checker.outer_grace + REPORT_MARGIN


def spread(name: str) -> float:
    """A stable fraction in ``[0, 1)`` for ``name``: its phase within the check interval
    (stable, so restarts keep the same rhythm)."""
    return zlib.crc32(name.encode()) / 2**32


async def run_check(checker: Checker, limit_seconds: float) -> CheckResult:
    """One bounded check; never raises (except cancellation)."""
    started = time.perf_counter()
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for returns the result and swallows a
        # cancel that lands as the check finishes, and the service's loop then outlives the
        # hub's shutdown (the process never exits)
        async with asyncio.timeout(limit_seconds):
            return await checker.check()
    except TimeoutError:
        return CheckResult(
            HealthStatus.DOWN,
            latency_ms=round((time.perf_counter() - started) * 1000),
            error_message=f"timed out after {limit_seconds:g}s",
        )
    except Exception as exc:
        log.exception("checker %s raised", checker.kind)
        return CheckResult(HealthStatus.UNKNOWN, error_message=f"checker failed: {exc!r}")


class Scheduler:
    def __init__(
        self,
        services: Sequence[ServiceConfig],
        checkers: dict[str, Checker],
        sink: ResultSink,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_concurrent: int = 64,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self._services = {s.name: s for s in services}
        #: replicas: whether this one checks ``name`` now (others' services only sleep)
        self._owns = owns
        self._slots = asyncio.Semaphore(max_concurrent)
        self.max_in_flight = 0  # the most checks seen in flight at once (tests, bench)
        self._in_flight = 0
        self._checkers = checkers
        self._sink = sink
        self._clock = clock
        self._sleep = sleep
        self._wake: dict[str, asyncio.Event] = {}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for name in self._services:
                self._wake[name] = asyncio.Event()
                group.create_task(self._loop(name), name=f"check:{name}")

    async def _loop(self, name: str) -> None:
        svc = self._services[name]
        wake = self._wake[name]
        # every service checks at once on start (statuses come fast), then each moves to
        # its own phase of the interval, once: a thousand services on 30 s become a steady
        # 33 checks a second instead of a thousand at every half minute
        phase = svc.interval_seconds * spread(name)
        while True:
            # in the process's seconds, like the sleep (a sped-up demo's checks keep its pace)
            begun = pace.monotonic()
            if self._owns is None or self._owns(name):
                await self.check_now(name)
            remaining = svc.interval_seconds - (pace.monotonic() - begun) + phase
            phase = 0.0
            wake.clear()
            if remaining > 0:
                sleeper = asyncio.ensure_future(self._sleep(remaining))
                waker = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    waker.cancel()

    async def check_now(self, name: str) -> CheckResult:
        """Run one check of ``name`` right now and hand the result to the sink."""
        svc = self._services[name]
        async with self._slots:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                checker = self._checkers[name]
                result = await run_check(checker, limit_for(checker, svc.timeout_seconds))
            finally:
                self._in_flight -= 1
        self._sink(name, result, self._clock())
        return result

    def poke(self, name: str) -> None:
        """Make the service's loop check again at once (e.g. after a recheck request)."""
        event = self._wake.get(name)
        if event is not None:
            event.set()
