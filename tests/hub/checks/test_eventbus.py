"""The event bus checker with a real asyncio publish/subscribe round trip."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from studio_status.hub.checks.eventbus import EventBusChecker
from studio_status.hub.checks.specs import EventBusSpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.helpers import TIMEOUT, SteppingClock


@dataclass
class QueueBus:
    """A small bus: publishers put on a queue, one delivery task hands events to subscribers."""

    queue: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    waiters: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    delivered: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def deliver_forever(self) -> None:
        while True:
            topic, probe_id = await self.queue.get()
            self.delivered.append(topic)
            waiter = self.waiters.pop(probe_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def probe(self) -> None:
        probe_id = f"probe-{next(self._ids)}"
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[probe_id] = waiter
        try:
            await self.queue.put(("hub.probe", probe_id))
            await waiter
        finally:
            self.waiters.pop(probe_id, None)


@pytest.fixture
async def bus() -> AsyncIterator[QueueBus]:
    bus = QueueBus()
    delivery = asyncio.create_task(bus.deliver_forever())
    yield bus
    delivery.cancel()
    with pytest.raises(asyncio.CancelledError):
        await delivery


async def test_round_trip_is_healthy(bus: QueueBus) -> None:
    result = await EventBusChecker(EventBusSpec(), TIMEOUT, bus_probe=bus.probe).check()

    assert result.status is HealthStatus.HEALTHY
    assert bus.delivered == ["hub.probe"]
    assert result.details["round_trip_ms"] == result.latency_ms


async def test_slow_round_trip_is_degraded(bus: QueueBus) -> None:
    checker = EventBusChecker(
        EventBusSpec(degraded_ms=100), TIMEOUT, bus_probe=bus.probe, clock=SteppingClock(0.25)
    )
    result = await checker.check()

    assert result.status is HealthStatus.DEGRADED
    assert result.error_message == "slow round trip: 250 ms (threshold 100 ms)"


async def test_probe_never_delivered_is_down() -> None:
    stalled = QueueBus()  # no delivery task: publishes are accepted, never delivered
    result = await EventBusChecker(EventBusSpec(), TIMEOUT, bus_probe=stalled.probe).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"no answer within {TIMEOUT:g} s"
    assert stalled.waiters == {}  # the cancelled probe cleaned up after itself


async def test_failing_publish_is_down() -> None:
    async def broken() -> None:
        raise RuntimeError("bus is closed")

    result = await EventBusChecker(EventBusSpec(), TIMEOUT, bus_probe=broken).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "RuntimeError: bus is closed"
