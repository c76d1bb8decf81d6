"""Uptime arithmetic, pure: status windows in, timeline segments and percentages out.

Definition (also in ``docs/uptime.md``)
---------------------------------------
Every instant of a period ``[start, end)`` of one service is in exactly one state, decided
in this order:

1. ``maintenance`` if it lies in a maintenance window (for the service or global);
2. ``no_data`` if the hub was not running then (outside every *coverage* interval: the
   spans the hub recorded itself alive in ``hub_runs``), or no status window covers it
   (before the service's first check);
3. otherwise the status of the ``uptime_records`` window covering it: ``healthy``,
   ``degraded``, ``down`` or ``unknown`` (unknown: the check could not tell, e.g. the hub
   lost its own connectivity).

With ``H``, ``D``, ``X`` the seconds healthy, degraded and down, and ``w`` the degraded
weight (default 0.5)::

    uptime % = 100 * (H + w * D) / (H + D + X)

``unknown``, ``no_data`` and ``maintenance`` are left out of the denominator (never counted
as up or down) and reported separately. When ``H + D + X`` is zero the uptime is None
("nothing to judge"), not 100 and not 0.

This is time-weighted on purpose: counting checks would weigh a five-minute outage seen by
one slow check the same as one second.

Times here are epoch seconds (floats), the store's own unit; the API converts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from studio_status.protocol import HealthStatus
from studio_status.protocol.uptime import SpanState, StateSeconds

__all__ = [
    "COUNTED",
    "DAY",
    "HOUR",
    "Interval",
    "Segment",
    "StatusSpan",
    "Tally",
    "bucket_plan",
    "build_segments",
    "floor_to",
    "merge_intervals",
    "split_buckets",
    "tally",
    "uptime_percent",
]

#: The hourly and daily rollups' resolutions (seconds).
HOUR = 3600
DAY = 86400

#: States that are in the denominator.
COUNTED = (SpanState.HEALTHY, SpanState.DEGRADED, SpanState.DOWN)


@dataclass(frozen=True)
class Interval:
    start: float
    end: float


@dataclass(frozen=True)
class StatusSpan:
    """One ``uptime_records`` window; ``end`` None while it is open."""

    status: HealthStatus
    start: float
    end: float | None = None


@dataclass(frozen=True)
class Segment:
    state: SpanState
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Tally:
    """Seconds per state. ``no_data`` is usually not stored but derived from the period."""

    seconds: dict[SpanState, float] = field(default_factory=dict)

    def add(self, state: SpanState, seconds: float) -> None:
        if seconds > 0:
            self.seconds[state] = self.seconds.get(state, 0.0) + seconds

    def merge(self, other: Tally) -> None:
        for state, secs in other.seconds.items():
            self.add(state, secs)

    def get(self, state: SpanState) -> float:
        return self.seconds.get(state, 0.0)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def percent(self, degraded_weight: float) -> float | None:
        return uptime_percent(self, degraded_weight)

    def to_wire(self, period_seconds: float | None = None) -> StateSeconds:
        """As the API shows it; with ``period_seconds`` the unaccounted rest is no_data."""
        values = {s.value: self.get(s) for s in SpanState}
        if period_seconds is not None:
            known = sum(v for k, v in values.items() if k != SpanState.NO_DATA.value)
            values[SpanState.NO_DATA.value] = max(0.0, period_seconds - known)
        return StateSeconds.model_validate(values)


def uptime_percent(t: Tally, degraded_weight: float) -> float | None:
    healthy, degraded, down = (t.get(s) for s in COUNTED)
    denominator = healthy + degraded + down
    if denominator <= 0:
        return None
    return 100.0 * (healthy + degraded_weight * degraded) / denominator


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-empty; touching intervals join."""
    out: list[Interval] = []
    for iv in sorted((i for i in intervals if i.end > i.start), key=lambda i: i.start):
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return out


class _Cursor:
    """Walks sorted, non-overlapping intervals with increasing probe points."""

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self._items = intervals
        self._i = 0

    def contains(self, t: float) -> bool:
        while self._i < len(self._items) and self._items[self._i].end <= t:
            self._i += 1
        return self._i < len(self._items) and self._items[self._i].start <= t


def build_segments(
    windows: Sequence[StatusSpan],
    start: float,
    end: float,
    *,
    coverage: Sequence[Interval] | None = None,
    maintenance: Sequence[Interval] = (),
) -> list[Segment]:
    """The period ``[start, end)`` cut into merged segments, per the module's definition.

    ``windows`` must be ordered by start and not overlap (the store guarantees both);
    ``coverage`` None means the hub watched the whole period (unit tests, live tails).
    """
    if end <= start:
        return []
    spans = [
        (w, w.start, end if w.end is None else min(w.end, end))
        for w in windows
        if (w.end is None or w.end > start) and w.start < end
    ]
    cover = merge_intervals(coverage) if coverage is not None else [Interval(start, end)]
    maint = merge_intervals(maintenance)
    points = {start, end}
    for _, s, e in spans:
        points.update((s, e))
    for iv in (*cover, *maint):
        points.update((iv.start, iv.end))
    cuts = sorted(p for p in points if start <= p <= end)

    in_cover, in_maint = _Cursor(cover), _Cursor(maint)
    wi = 0
    out: list[Segment] = []
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        mid = (a + b) / 2
        while wi < len(spans) and spans[wi][2] <= mid:
            wi += 1
        if in_maint.contains(mid):
            state = SpanState.MAINTENANCE
        elif not in_cover.contains(mid) or wi >= len(spans) or spans[wi][1] > mid:
            state = SpanState.NO_DATA
        else:
            state = SpanState(spans[wi][0].status.value)
        if out and out[-1].state is state and out[-1].end == a:
            out[-1] = Segment(state, out[-1].start, b)
        else:
            out.append(Segment(state, a, b))
    return out


def tally(segments: Iterable[Segment]) -> Tally:
    t = Tally()
    for seg in segments:
        t.add(seg.state, seg.seconds)
    return t


def floor_to(t: float, resolution: int) -> float:
    return math.floor(t / resolution) * resolution


def bucket_plan(start: float, end: float, resolution: int) -> list[tuple[int, float, float]]:
    """Which rollups to sum for ``[start, end)``: ``(resolution, from, to)`` ranges.

    The coarsest buckets that fit wholly inside (days, then hours), the period's own
    ``resolution`` only at the edges: thirty days at hourly resolution are 720 buckets per
    service, this way at most 29 + 48; a day at minute resolution 1 440, this way at most
    23 + 118. ``start`` is aligned to ``resolution``; ``end`` is the rollup watermark, and
    the bucket holding it may be partial, as the rollup job fills buckets up to it.
    """
    if end <= start:
        return []
    for coarse in (DAY, HOUR):
        if coarse <= resolution:
            continue
        lo = math.ceil(start / coarse) * coarse
        hi = floor_to(end, coarse)
        if hi > lo:
            return [
                *bucket_plan(start, lo, resolution),
                (coarse, lo, hi),
                *bucket_plan(hi, end, resolution),
            ]
    return [(resolution, start, end)]


def split_buckets(
    segments: Iterable[Segment], resolution: int, *, keep_no_data: bool = False
) -> dict[int, Tally]:
    """Seconds per state in each aligned bucket (bucket start in epoch seconds).

    ``no_data`` is dropped by default: the rollups store only what was seen, and a
    period's no-data is its length minus everything seen.
    """
    buckets: dict[int, Tally] = {}
    for seg in segments:
        if seg.state is SpanState.NO_DATA and not keep_no_data:
            continue
        a = seg.start
        while a < seg.end:
            bucket = floor_to(a, resolution)
            b = min(seg.end, bucket + resolution)
            buckets.setdefault(int(bucket), Tally()).add(seg.state, b - a)
            a = b
    return buckets
