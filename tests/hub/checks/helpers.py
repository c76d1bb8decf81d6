"""Time units and a fake clock shared by the checker tests."""

from __future__ import annotations

import os

#: Scales every timeout in these tests, for slow CI machines (STUDIO_STATUS_TEST_TIME_SCALE=3).
SCALE = float(os.environ.get("STUDIO_STATUS_TEST_TIME_SCALE", "1"))
#: A checker timeout short enough to keep the suite fast, long enough for loopback work.
TIMEOUT = 0.5 * SCALE
#: Generous bound on how long a timed-out check may take in total.
BOUND = TIMEOUT + 1.5 * SCALE


class SteppingClock:
    """Advances by ``step`` seconds each time it is read: every measured span is ``step``."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now
