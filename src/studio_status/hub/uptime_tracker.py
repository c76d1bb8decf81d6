"""Keeps uptime rollups current, answers uptime reports, and guards against false downtime.

Rollups are built by their own task from windows the writer already committed, never on
the probe path: a slow or locked database delays the rollup, not a check. The task only
rolls up to a minute boundary it can vouch for (the writer idle, so every check before
that moment is in the windows); queries add the short live tail after the watermark from
the windows themselves, so a report is exact up to the period's start alignment.

Coverage: the hub records the spans it was running (``hub_runs``); time outside them is
``no_data``. Without that, a window open across a hub outage would count the whole outage
as whatever the service last was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from studio_status.protocol import HealthStatus
from studio_status.protocol.uptime import (
    ErrorSeen,
    OutageWindow,
    ServiceUptime,
    SpanState,
    TimelineSpan,
    UptimeReport,
)

from .checks.base import CheckResult
from .health_settings import HealthSettings
from .state import HealthState
from .store.sqlite import SqlStore, StoreError
from .store.uptime import RESOLUTIONS, BucketRow, UptimeStore
from .uptime import (
    Interval,
    Segment,
    Tally,
    bucket_plan,
    build_segments,
    floor_to,
    split_buckets,
    tally,
)
from .writer import StoreWriter

__all__ = ["PERIODS", "MaintenanceLookup", "UptimeTracker"]

log = logging.getLogger("hub.uptime")

#: period name -> (length in seconds, bucket resolution its start is aligned to)
PERIODS: Final[dict[str, tuple[int, int]]] = {
    "24h": (86400, 60),
    "7d": (7 * 86400, 3600),
    "30d": (30 * 86400, 3600),
}
#: how long each bucket resolution is kept
BUCKET_KEEP: Final[dict[int, float]] = {60: 2 * 86400.0, 3600: 35 * 86400.0}
MAX_OUTAGES = 200
CATCH_UP_CHUNK = 86400.0

MaintenanceLookup = Callable[[str, float, float], list[Interval]]


def _no_maintenance(_service: str, _start: float, _end: float) -> list[Interval]:
    return []


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class UptimeTracker:
    def __init__(
        self,
        store: SqlStore,
        writer: StoreWriter,
        state: HealthState,
        settings: HealthSettings,
        *,
        clock: Callable[[], datetime],
        maintenance: MaintenanceLookup = _no_maintenance,
    ) -> None:
        self.store = UptimeStore(store)
        self._writer = writer
        self._state = state
        self.settings = settings
        self._clock = clock
        self.maintenance = maintenance
        self._run_id: int | None = None
        self._run_started: float | None = None
        self._watermark: float | None = None
        #: replicas: whether this one rolls up now (the leader); None: always (one hub)
        self.rolls: Callable[[], bool] | None = None
        if settings.connectivity_service and settings.connectivity_service not in state.services:
            log.warning(
                "connectivity_service %r is not a configured service; ignored",
                settings.connectivity_service,
            )

    @property
    def _services(self) -> list[str]:
        """Every service the state knows, including ones that join at run time (pushed
        external systems), so their windows get rolled up too."""
        return list(self._state.services)

    def _now(self) -> float:
        return self._clock().timestamp()

    # -- probe path (memory only) -----------------------------------------------------

    def adjust(self, name: str, result: CheckResult) -> CheckResult:
        """A failure seen while the hub's own connectivity check is down says nothing
        about the service: record it as ``unknown`` so it never reads as downtime."""
        conn = self.settings.connectivity_service
        if (
            conn is None
            or name == conn
            or result.status is not HealthStatus.DOWN
            or conn not in self._state.services
            or self._state.services[conn].status is not HealthStatus.DOWN
        ):
            return result
        return CheckResult(
            HealthStatus.UNKNOWN,
            latency_ms=result.latency_ms,
            error_message=f"hub connectivity lost ({conn} down): {result.error_message or 'down'}",
            details={**result.details, "connectivity_lost": True},
        )

    # -- background -------------------------------------------------------------------

    async def start(self) -> None:
        now = self._now()
        self._run_id = await self.store.start_run(now)
        self._run_started = now

    async def finish(self) -> None:
        """Mark the run alive up to now on a clean stop, so the rest is not no-data."""
        if self._run_id is not None:
            await self.store.touch_run(self._run_id, self._now())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rollup_every_seconds)
            try:
                if self._run_id is not None:
                    await self.store.touch_run(self._run_id, self._now())
                await self.roll_turn()
            except StoreError as exc:  # the writer reports storage trouble; retry next round
                log.warning("uptime rollup skipped: %s", exc)

    async def coverage(self, start: float, end: float) -> list[Interval]:
        # this run's alive_at in the table lags by up to a touch interval: use memory
        out = [
            iv for run_id, iv in await self.store.runs_between(start, end) if run_id != self._run_id
        ]
        if self._run_started is not None:
            out.append(Interval(self._run_started, self._now()))
        return out

    async def roll_turn(self) -> bool:
        """Roll up if it is this hub's turn: always for one hub; of replicas, the leader's,
        from the database's watermark (another replica may have moved it since)."""
        if self.rolls is None:
            return await self.roll_once()
        if not self.rolls():
            return False
        self._watermark = None
        return await self.roll_once()

    async def roll_once(self) -> bool:
        """Roll completed minutes into the buckets; False when the writer has a backlog
        (its uncommitted checks could still change those minutes)."""
        if self._writer.pending or self._writer.failing:
            return False
        target = floor_to(self._now(), 60)
        wm = self._watermark
        if wm is None:
            wm = await self.store.watermark()
        if wm is None:
            first = await self.store.first_window_start()
            wm = floor_to(first, 60) if first is not None else target
        runs = await self.coverage(wm, target)
        # skip stretches the hub never ran: nothing to roll there
        wm = max(wm, floor_to(min(r.start for r in runs), 60)) if runs else max(wm, target)
        while wm < target:
            end = min(target, wm + CATCH_UP_CHUNK)
            await self._roll(wm, end)
            wm = end
        if self._watermark != wm:
            if self._watermark is None or wm > self._watermark:
                await self.store.add_buckets([], wm)
            self._watermark = wm
        return True

    async def _roll(self, start: float, end: float) -> None:
        windows = await self.store.windows_between(start, end, self._services)
        coverage = await self.coverage(start, end)
        rows: list[BucketRow] = []
        for name in self._services:
            segs = build_segments(
                windows.get(name, []),
                start,
                end,
                coverage=coverage,
                maintenance=self.maintenance(name, start, end),
            )
            for res in RESOLUTIONS:
                rows.extend(BucketRow(name, res, b, t) for b, t in split_buckets(segs, res).items())
        await self.store.add_buckets(rows, end)
        self._watermark = end

    async def prune(self, now: datetime) -> None:
        windows_before = now - timedelta(days=self.settings.window_retention_days)
        ts = now.timestamp()
        buckets_before = {
            60: ts - BUCKET_KEEP[60],
            3600: ts - BUCKET_KEEP[3600],
            86400: windows_before.timestamp(),
        }
        deleted = -1
        while deleted != 0:  # one batch per transaction, the API's reads go in between
            deleted = await self.store.prune(windows_before, buckets_before)

    # -- reports ----------------------------------------------------------------------

    async def tallies(self, period: str, services: Sequence[str]) -> tuple[float, dict[str, Tally]]:
        """Seconds per state per service over ``period`` (ending now) and the period start."""
        length, res = PERIODS[period]
        now = self._now()
        start = floor_to(now - length, res)
        wm = self._watermark if self._watermark is not None else await self.store.watermark()
        out = {name: Tally() for name in services}
        tail_start = start
        if wm is not None and wm > start:
            tail_start = min(wm, now)
            for bucket_res, lo, hi in bucket_plan(start, tail_start, res):
                totals = await self.store.bucket_totals(bucket_res, lo, hi, services)
                for name, t in totals.items():
                    out[name].merge(t)
        windows = await self.store.windows_between(tail_start, now, services)
        coverage = await self.coverage(tail_start, now)
        for name in services:
            segs = build_segments(
                windows.get(name, []),
                tail_start,
                now,
                coverage=coverage,
                maintenance=self.maintenance(name, tail_start, now),
            )
            out[name].merge(tally(segs))
        return start, out

    async def report(
        self, period: str, services: Sequence[str], *, timeline: bool = True
    ) -> UptimeReport:
        w = self.settings.degraded_weight
        now = self._now()
        figures: dict[str, dict[str, Tally]] = {}
        start = now
        for name in PERIODS:
            period_start, figures[name] = await self.tallies(name, services)
            if name == period:
                start = period_start
        out: list[ServiceUptime] = []
        windows = await self.store.windows_between(start, now, services) if timeline else {}
        coverage = await self.coverage(start, now) if timeline else []
        for name in services:
            chosen = figures[period][name]
            entry = ServiceUptime(
                service=name,
                uptime_percent=chosen.percent(w),
                seconds=chosen.to_wire(now - start),
                uptime_24h=figures["24h"][name].percent(w),
                uptime_7d=figures["7d"][name].percent(w),
                uptime_30d=figures["30d"][name].percent(w),
            )
            if timeline:
                segs = build_segments(
                    windows.get(name, []),
                    start,
                    now,
                    coverage=coverage,
                    maintenance=self.maintenance(name, start, now),
                )
                entry.timeline = [
                    TimelineSpan(state=s.state, start=_dt(s.start), end=_dt(s.end)) for s in segs
                ]
                entry.outages = await self._outages(name, segs, now)
            out.append(entry)
        return UptimeReport(
            period=period, start=_dt(start), end=_dt(now), degraded_weight=w, services=out
        )

    async def _outages(self, name: str, segs: list[Segment], now: float) -> list[OutageWindow]:
        bad = [s for s in segs if s.state in (SpanState.DOWN, SpanState.DEGRADED)][-MAX_OUTAGES:]
        current = self._state.services.get(name)
        out = []
        for seg in bad:
            errors = await self.store.errors_between(name, seg.start, seg.end)
            ongoing = (
                seg.end >= now and current is not None and current.status.value == seg.state.value
            )
            out.append(
                OutageWindow(
                    status=HealthStatus(seg.state.value),
                    start=_dt(seg.start),
                    end=_dt(seg.end),
                    duration_seconds=seg.seconds,
                    ongoing=ongoing,
                    errors=[
                        ErrorSeen(
                            message=e.message,
                            count=e.count,
                            first_at=_dt(e.first_at),
                            last_at=_dt(e.last_at),
                        )
                        for e in errors
                    ],
                )
            )
        return out
