"""Time as the client sees it, injectable so backoff and staleness are tested on fake clocks.

Two clocks on purpose: ``monotonic`` measures intervals (staleness, throttling) and never
jumps; ``wall`` is compared against it to notice a suspend/resume or a clock change, after
which a socket that looks open is usually dead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks and :func:`asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
