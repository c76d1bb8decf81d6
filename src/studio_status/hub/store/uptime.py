"""Uptime storage: windows read by period, rollup buckets, hub run spans, retention.

Rollups hold seconds per state per (service, resolution, bucket). They are added to, never
rewritten, up to a *watermark* kept in ``meta``: everything before it is in the buckets,
everything after it is computed from the windows at query time. Adding the buckets and
moving the watermark happen in one transaction, so a crash cannot count a minute twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from studio_status.hub.uptime import Interval, StatusSpan, Tally
from studio_status.protocol import HealthStatus
from studio_status.protocol.uptime import SpanState

from .dialect import Conn
from .sqlite import SqlStore

__all__ = ["RESOLUTIONS", "BucketRow", "ErrorRow", "UptimeStore"]

#: bucket sizes in seconds: per minute (kept ~2 days), per hour (~35 days), per day
RESOLUTIONS = (60, 3600, 86400)

_STORED = (
    SpanState.HEALTHY,
    SpanState.DEGRADED,
    SpanState.DOWN,
    SpanState.UNKNOWN,
    SpanState.MAINTENANCE,
)
_COLS = ", ".join(f"{s.value}_s" for s in _STORED)
_WATERMARK = "uptime_rollup_watermark"


@dataclass(frozen=True)
class BucketRow:
    service: str
    resolution: int
    bucket_start: int
    tally: Tally


@dataclass(frozen=True)
class ErrorRow:
    message: str
    count: int
    first_at: float
    last_at: float


class UptimeStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def windows_between(
        self, start: float, end: float, services: Sequence[str] | None = None
    ) -> dict[str, list[StatusSpan]]:
        """Windows overlapping ``[start, end)``, per service, ordered by start.

        The open windows and those that ended after ``start`` are found through the
        ``ended_at`` index (the open ones are one per service): asked as one condition,
        SQLite read every window each service ever had to find the few that reach into a
        five-minute tail (24 ms of a 30-day, 200-service uptime query; now under 2).
        """

        def read(conn: Conn) -> dict[str, list[StatusSpan]]:
            sql = (
                "SELECT service_name, status, started_at, ended_at FROM uptime_records"
                " WHERE id IN (SELECT id FROM uptime_records WHERE ended_at IS NULL"
                " UNION ALL SELECT id FROM uptime_records WHERE ended_at > ?)"
                " AND started_at < ?"
            )
            args: list[object] = [start, end]
            if services is not None:
                sql += f" AND service_name IN ({', '.join('?' * len(services))})"
                args.extend(services)
            out: dict[str, list[StatusSpan]] = {}
            for name, status, s, e in conn.execute(sql + " ORDER BY started_at, id", args):
                out.setdefault(name, []).append(StatusSpan(HealthStatus(status), s, e))
            return out

        return await self._store.run(read)

    async def first_window_start(self) -> float | None:
        return await self._store.run(
            lambda c: c.execute("SELECT MIN(started_at) FROM uptime_records").fetchone()[0]
        )

    async def watermark(self) -> float | None:
        def read(conn: Conn) -> float | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (_WATERMARK,)).fetchone()
            return None if row is None else float(row[0])

        return await self._store.run(read)

    async def add_buckets(self, rows: Sequence[BucketRow], watermark: float) -> None:
        def write(conn: Conn) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"INSERT INTO uptime_rollups (service_name, resolution, bucket_start, {_COLS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (service_name, resolution, bucket_start) DO UPDATE SET "
                + ", ".join(
                    f"{s.value}_s = uptime_rollups.{s.value}_s + excluded.{s.value}_s"
                    for s in _STORED
                ),
                [
                    (r.service, r.resolution, r.bucket_start, *(r.tally.get(s) for s in _STORED))
                    for r in rows
                ],
            )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_WATERMARK, repr(watermark)),
            )
            conn.execute("COMMIT")

        await self._store.run(write)

    async def bucket_totals(
        self, resolution: int, start: float, end: float, services: Sequence[str] | None = None
    ) -> dict[str, Tally]:
        """Sum of buckets with ``start <= bucket_start < end``, per service."""

        def read(conn: Conn) -> dict[str, Tally]:
            sql = (
                f"SELECT service_name, {', '.join(f'SUM({s.value}_s)' for s in _STORED)}"
                " FROM uptime_rollups WHERE resolution = ? AND bucket_start >= ?"
                " AND bucket_start < ?"
            )
            args: list[object] = [resolution, start, end]
            if services is not None:
                sql += f" AND service_name IN ({', '.join('?' * len(services))})"
                args.extend(services)
            out: dict[str, Tally] = {}
            for row in conn.execute(sql + " GROUP BY service_name", args):
                t = Tally()
                for state, value in zip(_STORED, row[1:], strict=True):
                    t.add(state, float(value or 0.0))
                out[row[0]] = t
            return out

        return await self._store.run(read)

    # -- hub runs (coverage) ----------------------------------------------------------

    async def start_run(self, at: float) -> int:
        def write(conn: Conn) -> int:
            cur = conn.execute(
                "INSERT INTO hub_runs (started_at, alive_at) VALUES (?, ?)", (at, at)
            )
            return int(cur.lastrowid or 0)

        return await self._store.run(write)

    async def touch_run(self, run_id: int, at: float) -> None:
        await self._store.run(
            lambda c: c.execute(
                "UPDATE hub_runs SET alive_at = ? WHERE id = ? AND alive_at < ?",
                (at, run_id, at),
            )
        )

    async def runs_between(self, start: float, end: float) -> list[tuple[int, Interval]]:
        def read(conn: Conn) -> list[tuple[int, Interval]]:
            rows = conn.execute(
                "SELECT id, started_at, alive_at FROM hub_runs"
                " WHERE started_at < ? AND alive_at >= ? ORDER BY started_at",
                (end, start),
            ).fetchall()
            return [(r[0], Interval(r[1], r[2])) for r in rows]

        return await self._store.run(read)

    # -- errors seen ------------------------------------------------------------------

    async def errors_between(
        self, service: str, start: float, end: float, limit: int = 20
    ) -> list[ErrorRow]:
        def read(conn: Conn) -> list[ErrorRow]:
            rows = conn.execute(
                "SELECT error_message, COUNT(*), MIN(checked_at), MAX(checked_at)"
                " FROM health_checks WHERE service_name = ? AND checked_at >= ?"
                " AND checked_at < ? AND error_message IS NOT NULL"
                " GROUP BY error_message ORDER BY MIN(checked_at) LIMIT ?",
                (service, start, end, limit),
            ).fetchall()
            return [ErrorRow(r[0], r[1], r[2], r[3]) for r in rows]

        return await self._store.run(read)

    # -- retention --------------------------------------------------------------------

    async def prune(
        self, windows_before: datetime, buckets_before: dict[int, float], batch: int = 5000
    ) -> int:
        """One batch of old closed windows, buckets and runs; the caller loops until 0."""
        cutoff = windows_before.timestamp()

        def prune(conn: Conn) -> int:
            deleted = conn.execute(
                "DELETE FROM uptime_records WHERE id IN (SELECT id FROM uptime_records"
                " WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?)",
                (cutoff, batch),
            ).rowcount
            for resolution, before in buckets_before.items():
                deleted += conn.execute(
                    "DELETE FROM uptime_rollups WHERE (service_name, resolution,"
                    " bucket_start) IN (SELECT service_name, resolution, bucket_start"
                    " FROM uptime_rollups WHERE resolution = ? AND bucket_start < ? LIMIT ?)",
                    (resolution, before, batch),
                ).rowcount
            deleted += conn.execute("DELETE FROM hub_runs WHERE alive_at < ?", (cutoff,)).rowcount
            return deleted

        return await self._store.run(prune)
