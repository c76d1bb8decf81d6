"""Scheduling: a hung target costs only its own timeout; a throwing checker reads unknown."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from studio_status.hub.checks import build_checker
from studio_status.hub.checks.base import Checker, CheckResult
from studio_status.hub.config import ServiceConfig
from studio_status.hub.scheduler import Scheduler, run_check
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
    assert "timed out" in (hung_result.error_message or "")
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
