"""Maintenance windows: one-off or recurring, per service or global.

During a window checks still run and show, but alert notices are held and the time is left
out of uptime (it reads ``maintenance`` on the timeline). Windows come from the config
(``[[health.maintenance]]``) and from the API (stored); recurring ones repeat every
``every_seconds`` from their first start until ``until``.

Rollups already written are not revised when a window is added for past time; schedule
windows ahead (the timeline, computed from the windows, shows them either way).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from studio_status.protocol.alerts import MaintenanceIn, MaintenanceWindow

from .uptime import Interval, merge_intervals

__all__ = ["MaintenanceBook"]


class MaintenanceBook:
    def __init__(self, configured: Iterable[MaintenanceIn] = ()) -> None:
        self.windows: dict[str, MaintenanceWindow] = {}
        for i, w in enumerate(configured):
            self.put(
                MaintenanceWindow(
                    id=f"config-{i + 1}",
                    created_by="config",
                    source="config",
                    **w.model_dump(),
                )
            )

    def put(self, window: MaintenanceWindow) -> None:
        self.windows[window.id] = window

    def remove(self, window_id: str) -> MaintenanceWindow | None:
        return self.windows.pop(window_id, None)

    def intervals(self, service: str, start: float, end: float) -> list[Interval]:
        """The maintenance time of ``service`` within ``[start, end)`` (epoch seconds)."""
        out: list[Interval] = []
        for w in self.windows.values():
            if w.service is not None and w.service != service:
                continue
            first, length = w.start.timestamp(), (w.end - w.start).total_seconds()
            if length <= 0:
                continue
            if not w.every_seconds:
                occurrences: Iterable[float] = [first]
            else:
                stop = end if w.until is None else min(end, w.until.timestamp())
                k = max(0, math.floor((start - first - length) / w.every_seconds))
                occurrences = (
                    first + i * w.every_seconds
                    for i in range(k, k + 1 + math.ceil((stop - start) / w.every_seconds) + 1)
                    if first + i * w.every_seconds < stop
                )
            for s in occurrences:
                a, b = max(s, start), min(s + length, end)
                if b > a:
                    out.append(Interval(a, b))
        return merge_intervals(out)

    def active(self, service: str, at: datetime) -> bool:
        t = at.timestamp()
        return bool(self.intervals(service, t, t + 1e-3))
