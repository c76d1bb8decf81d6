"""Coalesce a burst of changes into at most one callback per interval.

A burst of thousands of events must not mean thousands of repaints: the first change
schedules a flush after ``interval``; later changes inside that interval ride along.
Works on any asyncio loop (the app's qasync loop included), so it is testable without Qt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Coalescer"]


class Coalescer:
    """Calls ``callback`` at most once per ``interval`` seconds after :meth:`poke`."""

    def __init__(self, callback: Callable[[], None], interval: float = 1 / 40) -> None:
        self._callback = callback
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._last = float("-inf")
        self.flushes = 0

    def poke(self) -> None:
        """Note a change; the callback runs on the next slot, never re-entrantly."""
        if self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self._interval - loop.time())
        self._handle = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        self._handle = None
        self._last = asyncio.get_running_loop().time()
        self.flushes += 1
        self._callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
