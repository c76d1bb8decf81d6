"""Exponential backoff with jitter, the one copy the app and the hub share.

Every desktop that lost the hub at the same moment must not come back at the same moment,
and every source of a restarted hub must not knock on its database or ComfyUI in lockstep
(AWS architecture blog, "Exponential Backoff And Jitter"). So each delay is drawn from the
top ``spread`` of ``[0, cap]``, where ``cap = min(maximum, initial * 2**attempt)``:

* ``spread=1.0`` (full jitter, :data:`FULL`) — the client's reconnects: thousands of
  peers, the widest spread matters most.
* ``spread=0.5`` (equal jitter, :data:`EQUAL`) — the hub's retries: a handful of loops
  against one upstream each, where waiting less than half the cap would hammer a server
  that just said no.

:class:`Backoff` counts attempts for a loop that lives in memory; :func:`backoff_delay`
is the same rule for a loop whose attempt count is persisted (the alert outbox) or kept
by the caller (the cloud poller).
"""

from __future__ import annotations

import random
from typing import Final

__all__ = ["EQUAL", "FULL", "Backoff", "backoff_cap", "backoff_delay"]

FULL: Final = 1.0
EQUAL: Final = 0.5

_SYSTEM_RNG = random.Random()


def backoff_cap(attempt: int, initial: float, maximum: float) -> float:
    """Upper bound of the delay after ``attempt`` earlier failures (0 for the first)."""
    # min() before the power would overflow after ~1000 attempts; cap the exponent.
    return min(maximum, initial * 2.0 ** min(max(attempt, 0), 64))


def backoff_delay(
    attempt: int,
    initial: float,
    maximum: float,
    *,
    spread: float = FULL,
    rng: random.Random | None = None,
) -> float:
    """A jittered delay after ``attempt`` earlier failures."""
    cap = backoff_cap(attempt, initial, maximum)
    return (rng or _SYSTEM_RNG).uniform(cap * (1.0 - spread), cap)


class Backoff:
    """Delays for successive failed attempts; :meth:`reset` after an attempt that worked."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        rng: random.Random | None = None,
        *,
        spread: float = FULL,
    ) -> None:
        if initial < 0 or maximum < 0:
            raise ValueError("backoff delays must not be negative")
        if not 0.0 <= spread <= 1.0:
            raise ValueError("backoff spread must be between 0 and 1")
        self.initial = initial
        self.maximum = maximum
        self.spread = spread
        self._rng = rng if rng is not None else random.Random()
        self.attempts = 0

    def cap(self) -> float:
        """Upper bound of the next delay."""
        return backoff_cap(self.attempts, self.initial, self.maximum)

    def next(self) -> float:
        delay = backoff_delay(
            self.attempts, self.initial, self.maximum, spread=self.spread, rng=self._rng
        )
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
