"""Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
Jitter"): every desktop that lost the hub at the same moment must not come back at the same
moment, so each delay is drawn uniformly from ``[0, min(maximum, initial * 2**attempt)]``.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays for successive failed attempts; :meth:`reset` after a connection that worked."""

    def __init__(
        self, initial: float = 0.5, maximum: float = 30.0, rng: random.Random | None = None
    ) -> None:
        if initial < 0 or maximum < 0:
            raise ValueError("backoff delays must not be negative")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng if rng is not None else random.Random()
        self.attempts = 0

    def cap(self) -> float:
        """Upper bound of the next delay."""
        # min() before the power would overflow after ~1000 attempts; cap the exponent.
        return min(self.maximum, self.initial * 2.0 ** min(self.attempts, 64))

    def next(self) -> float:
        delay = self._rng.uniform(0.0, self.cap())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
