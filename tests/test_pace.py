"""The process's pace (``demo --speed``): one clock, N times real time, on a fake monotonic."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from studio_status import pace
from studio_status.protocol import utcnow

EPOCH = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(autouse=True)
def _real_afterwards() -> Iterator[None]:
    yield
    pace.set_speed(None)


def test_the_paced_clock_starts_at_the_real_time_and_runs_n_times_faster() -> None:
    mono = FakeMonotonic()
    p = pace.Pace(20, monotonic=mono, wall=lambda: EPOCH)
    assert p.now() == EPOCH  # the moment it was set, it reads the real time
    mono.t += 1.5
    assert p.now() == EPOCH + timedelta(seconds=30)
    mono.t += 30
    assert p.now() == EPOCH + timedelta(seconds=630)  # ten demo minutes in 31.5 s
    assert p.real(600) == 30.0
    assert p.paced(30) == 600.0


def test_the_paced_clock_never_goes_back_whatever_the_wall_clock_does() -> None:
    mono = FakeMonotonic()
    wall = [EPOCH]
    p = pace.Pace(10, monotonic=mono, wall=lambda: wall[0])
    seen = [p.now()]
    for _ in range(5):
        wall[0] -= timedelta(hours=1)  # NTP steps the wall clock back: not our time
        mono.t += 0.25
        seen.append(p.now())
    assert seen == sorted(seen) and seen[-1] == EPOCH + timedelta(seconds=12.5)


@pytest.mark.parametrize("speed", [0.5, 0.0, -3.0, 61.0, float("nan"), float("inf")])
def test_a_speed_outside_one_to_sixty_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="between 1 and 60"):
        pace.Pace(speed)


def test_without_a_speed_everything_is_real() -> None:
    assert pace.set_speed(None) is None and pace.set_speed(1.0) is None
    assert pace.speed() == 1.0
    assert pace.real(5.0) == 5.0 and pace.paced(5.0) == 5.0
    before = datetime.now(UTC)
    assert before <= utcnow() <= datetime.now(UTC)


def test_utcnow_is_the_process_pace_in_every_thread() -> None:
    """The hub's thread and the UI's read one clock: a demo second is 1/N of a real one in
    both, and neither is ahead of the other."""
    paced = pace.set_speed(50)
    assert paced is not None and pace.speed() == 50
    assert pace.real(50) == 1.0 and pace.paced(1.0) == 50
    first = utcnow()
    other: list[datetime] = []
    thread = threading.Thread(target=lambda: other.append(utcnow()))
    thread.start()
    thread.join()
    last = utcnow()
    assert first <= other[0] <= last
    assert first >= paced.epoch
    # the paced clock is ahead of the real one by (N - 1) times the real time elapsed
    real_elapsed = (datetime.now(UTC) - paced.epoch).total_seconds()
    assert (last - paced.epoch).total_seconds() <= 50 * real_elapsed + 0.05


def test_sleep_waits_the_paced_seconds_in_real_time() -> None:
    pace.set_speed(40)

    async def timed() -> float:
        loop = asyncio.get_running_loop()
        began = loop.time()
        await pace.sleep(2.0)  # 2 demo seconds: 50 ms
        return loop.time() - began

    took = asyncio.run(timed())
    assert 0.045 <= took < 1.0


def test_monotonic_intervals_are_paced() -> None:
    pace.set_speed(None)
    a = pace.monotonic()
    pace.set_speed(30)
    b0 = pace.monotonic()
    assert b0 > a  # scaled, never behind
    threading.Event().wait(0.02)
    assert pace.monotonic() - b0 >= 30 * 0.02
