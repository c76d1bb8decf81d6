"""Scheduling: a hung target costs only its own timeout; a throwing checker reads unknown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from studio_status.hub.checks import build_checker
from studio_status.hub.checks.base import Checker, CheckResult
from studio_status.hub.config import ServiceConfig
from studio_status.hub.scheduler import Scheduler, run_check, spread
from studio_status.protocol import HealthStatus
from tests.hub.checks.servers import Behaviour, LoopbackServer


def svc(name: str, url: str, interval: float, timeout: float) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {
            "name": name,
            "interval_seconds": interval,
            "timeout_seconds": timeout,
            "check": {"kind": "http", "url": url},
        }
    )


async def test_hung_target_times_out_while_others_keep_their_interval() -> None:
    hung = await LoopbackServer(behaviour=Behaviour.HANG).start()
    fast = await LoopbackServer().start()
    services = [svc("hung", hung.url, 0.1, 0.4), svc("fast", fast.url, 0.05, 0.2)]
    checkers = {s.name: build_checker(s.check, timeout=s.timeout_seconds) for s in services}
    results: dict[str, list[tuple[CheckResult, datetime]]] = {"hung": [], "fast": []}
    fast_checks_before_hung_result = asyncio.Event()
    hung_answered = asyncio.Event()

    def sink(name: str, result: CheckResult, at: datetime) -> None:
        results[name].append((result, at))
        if name == "hung":
            hung_answered.set()
        if name == "fast" and len(results["fast"]) >= 3 and not results["hung"]:
            fast_checks_before_hung_result.set()

    scheduler = Scheduler(services, checkers, sink)
    task = asyncio.create_task(scheduler.run())
    try:
        # the fast service is checked several times while the hung one is still waiting
        await asyncio.wait_for(fast_checks_before_hung_result.wait(), 5)
        await asyncio.wait_for(hung_answered.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for c in checkers.values():
            await c.aclose()
        await hung.close()
        await fast.close()
    hung_result = results["hung"][0][0]
    assert hung_result.status is HealthStatus.DOWN
    # the checker's own account (the scheduler's limit is only a net behind it)
    assert hung_result.error_message == "no answer within 0.4 s"
    assert all(r.status is HealthStatus.HEALTHY for r, _ in results["fast"])


class Exploding(Checker):
    kind = "exploding"

    async def check(self) -> CheckResult:
        raise RuntimeError("bug in checker")


async def test_throwing_checker_reads_unknown_not_down(caplog: object) -> None:
    result = await run_check(Exploding(1.0), 1.0)
    assert result.status is HealthStatus.UNKNOWN
    assert "bug in checker" in (result.error_message or "")


class Gated(Checker):
    """Answers when the test releases it, so a cancel can land in the same loop turn."""

    kind = "gated"

    def __init__(self) -> None:
        super().__init__(5.0)
        self.gate: asyncio.Future[CheckResult] = asyncio.get_running_loop().create_future()
        self.entered = asyncio.Event()

    async def check(self) -> CheckResult:
        self.entered.set()
        return await self.gate


class Quick(Checker):
    """Healthy at once (after one turn of the loop)."""

    kind = "quick"

    async def check(self) -> CheckResult:
        await asyncio.sleep(0)
        return CheckResult(HealthStatus.HEALTHY)


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[asyncio.Task[None]]:
    """The scheduler's run() in a task for the block, cancelled and awaited after it."""
    task = asyncio.create_task(scheduler.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_cancel_landing_as_the_check_finishes_still_cancels() -> None:
    # the hub hung on shutdown: 3.11's wait_for returned the finished check and dropped the
    # cancel, so the service's loop went on checking and the process never exited
    checker = Gated()
    task = asyncio.create_task(run_check(checker, 5.0))
    await checker.entered.wait()
    checker.gate.set_result(CheckResult(HealthStatus.HEALTHY))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled(), "the cancel was swallowed"


async def test_scheduler_stops_when_cancelled_as_checks_finish() -> None:
    checkers = {f"s{i}": Gated() for i in range(4)}
    services = [svc(name, "http://127.0.0.1:9", 0.05, 0.2) for name in checkers]
    results: list[str] = []
    scheduler = Scheduler(services, dict(checkers), lambda n, r, at: results.append(n))
    task = asyncio.create_task(scheduler.run())
    for checker in checkers.values():
        await checker.entered.wait()
    for checker in checkers.values():
        checker.gate.set_result(CheckResult(HealthStatus.HEALTHY))
    task.cancel()
    # a swallowed cancel keeps a service's loop (and so the group) alive for ever
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done, "a service loop outlived the cancel"
    assert task.cancelled()
    assert sorted(results) == sorted(checkers)  # each finished check still counted once


async def test_checks_in_flight_are_bounded_and_waiting_is_not_timing_out() -> None:
    # one slot: the slow check holds it well past the quick one's timeout, yet the quick
    # one is healthy, because its timeout starts when it gets the slot
    slow, quick = Gated(), Gated()
    quick.gate.set_result(CheckResult(HealthStatus.HEALTHY))
    results: dict[str, CheckResult] = {}
    both = asyncio.Event()

    def sink(name: str, result: CheckResult, _at: datetime) -> None:
        results.setdefault(name, result)
        if len(results) == 2:
            both.set()

    scheduler = Scheduler(
        [svc("slow", "http://127.0.0.1:9", 60, 30), svc("quick", "http://127.0.0.1:9", 60, 0.2)],
        {"slow": slow, "quick": quick},
        sink,
        max_concurrent=1,
    )
    async with running(scheduler):
        await slow.entered.wait()
        await asyncio.sleep(0.5)  # longer than quick's timeout, spent waiting for the slot
        assert "quick" not in results and not quick.entered.is_set()
        slow.gate.set_result(CheckResult(HealthStatus.HEALTHY))
        async with asyncio.timeout(5):
            await both.wait()
        assert results["quick"].status is HealthStatus.HEALTHY
        assert scheduler.max_in_flight == 1


async def test_a_crowd_of_services_stays_within_the_bound() -> None:
    names = [f"s{i}" for i in range(300)]
    seen: set[str] = set()
    done = asyncio.Event()

    def sink(name: str, _r: CheckResult, _at: datetime) -> None:
        seen.add(name)
        if len(seen) == len(names):
            done.set()

    scheduler = Scheduler(
        [svc(n, "http://127.0.0.1:9", 60, 5) for n in names],
        {n: Quick(5.0) for n in names},
        sink,
        max_concurrent=16,
    )
    async with running(scheduler):
        async with asyncio.timeout(10):
            await done.wait()
        assert scheduler.max_in_flight == 16


async def test_after_the_first_round_services_spread_over_the_interval() -> None:
    names = [f"svc-{i}" for i in range(200)]
    asked: list[float] = []
    all_asked = asyncio.Event()

    async def sleep(seconds: float) -> None:
        asked.append(seconds)
        if len(asked) == len(names):
            all_asked.set()
        await asyncio.Event().wait()  # never wakes on its own: only the first waits matter

    scheduler = Scheduler(
        [svc(n, "http://127.0.0.1:9", 30, 5) for n in names],
        {n: Quick(5.0) for n in names},
        lambda n, r, at: None,
        sleep=sleep,
    )
    async with running(scheduler):
        async with asyncio.timeout(10):
            await all_asked.wait()
        # everyone checked at once, then waits its interval plus a phase of its own
        assert all(30 - 1 < w < 60 for w in asked)
        phases = sorted(w - 30 for w in asked)
        assert phases[-1] - phases[0] > 25  # spread over (nearly) the whole interval
        assert len({round(p, 3) for p in phases}) > 190  # and hardly two alike
        # the phase is the name's own: a restart keeps the rhythm
        assert spread("svc-7") == spread("svc-7") and 0 <= spread("svc-7") < 1
