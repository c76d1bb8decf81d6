"""The process's pace: how fast the demo's simulated studio runs against real time.

``studio-status demo --speed N`` shows a day's incidents in minutes. Every part of the
process that dates or schedules what the studio does (the hub, its simulator, the app's
store, the notification policy, the texts) reads time through
:func:`studio_status.protocol.utcnow`, which asks here; so the hub's thread and the UI's
thread agree on one clock without being handed it. The paced clock starts at the real time
of :func:`set_speed` and runs ``N`` times faster from there, measured on
:func:`time.monotonic` (never jumps, the same in every thread).

What is about the machine, not the studio, stays real: heartbeats, staleness, timeouts,
backoff, and the client's wall clock (it compares wall and monotonic to notice a resume
from sleep). Without a speed (every process but a sped-up demo) nothing here changes
anything. No Qt, no pydantic: the protocol imports it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["MAX_SPEED", "Pace", "monotonic", "now", "paced", "real", "set_speed", "sleep", "speed"]

#: the fastest a demo may run: beyond it the plant's slow answers and the checks' own work
#: are no longer small against the simulated seconds between them
MAX_SPEED = 60.0


class Pace:
    """A clock that runs ``speed`` times real time from the moment it was made."""

    def __init__(
        self,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not 1.0 <= speed <= MAX_SPEED:
            raise ValueError(f"the speed must be between 1 and {MAX_SPEED:g}, got {speed:g}")
        self.speed = speed
        self._monotonic = monotonic
        self._start = monotonic()
        #: the real time at which the paced clock started (it read the same then)
        self.epoch = wall()

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=(self._monotonic() - self._start) * self.speed)

    def real(self, seconds: float) -> float:
        """Paced seconds as real seconds (what a timer must wait)."""
        return seconds / self.speed

    def paced(self, seconds: float) -> float:
        """Real seconds as paced seconds (what a real wait was in the demo's time)."""
        return seconds * self.speed


class _Process:
    """The one pace of this process (None: real time)."""

    pace: Pace | None = None


def set_speed(value: float | None) -> Pace | None:
    """Run this process's clock at ``value`` times real time from now (None or 1: real)."""
    _Process.pace = None if value is None or value == 1.0 else Pace(value)
    return _Process.pace


def speed() -> float:
    pace = _Process.pace
    return 1.0 if pace is None else pace.speed


def now() -> datetime:
    """The process's time: paced when a speed was set, else the real UTC time."""
    pace = _Process.pace
    return datetime.now(UTC) if pace is None else pace.now()


def real(seconds: float) -> float:
    """``seconds`` of the process's time, in real seconds."""
    pace = _Process.pace
    return seconds if pace is None else pace.real(seconds)


def paced(seconds: float) -> float:
    """``seconds`` of real time, in the process's time."""
    pace = _Process.pace
    return seconds if pace is None else pace.paced(seconds)


def monotonic() -> float:
    """A monotonic clock in the process's seconds (intervals the studio lives by)."""
    return paced(time.monotonic())


async def sleep(seconds: float) -> None:
    """:func:`asyncio.sleep` for ``seconds`` of the process's time."""
    await asyncio.sleep(real(seconds))
