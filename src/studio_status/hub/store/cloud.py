"""Cloud cost storage: spend per UTC day, the cost-rate series, and the last known pods.

Functions over a :class:`SqlStore`, run on its one thread. Day totals are written as
absolute values (not increments), so a save that failed is healed by the next one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from studio_status.protocol.cloud import CostPoint

from .dialect import Conn
from .sqlite import SqlStore

__all__ = ["SavedCloud", "load", "rate_series", "save"]


@dataclass
class SavedCloud:
    days: dict[date, int] = field(default_factory=dict)
    ledger_at: datetime | None = None
    ledger_rate: int = 0
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_sample: CostPoint | None = None


def _point(row: Any) -> CostPoint:
    return CostPoint(
        at=datetime.fromtimestamp(row[0], UTC), cost_per_hour_cents=row[1], active_pods=row[2]
    )


async def load(store: SqlStore, days_since: datetime) -> SavedCloud:
    def read(conn: Conn) -> SavedCloud:
        saved = SavedCloud()
        for day, units in conn.execute(
            "SELECT day, units FROM cloud_spend WHERE day >= ?", (days_since.date().isoformat(),)
        ):
            saved.days[date.fromisoformat(day)] = int(units)
        row = conn.execute("SELECT value FROM cloud_state WHERE key = 'state'").fetchone()
        if row is not None:
            state = json.loads(row[0])
            ledger = state.get("ledger") or {}
            if ledger.get("at") is not None:
                saved.ledger_at = datetime.fromtimestamp(ledger["at"], UTC)
            saved.ledger_rate = int(ledger.get("rate") or 0)
            saved.providers = dict(state.get("providers") or {})
        last = conn.execute(
            "SELECT at, cost_per_hour_cents, active_pods FROM cloud_rate ORDER BY at DESC LIMIT 1"
        ).fetchone()
        saved.last_sample = None if last is None else _point(last)
        return saved

    return await store.run(read)


async def save(
    store: SqlStore,
    days: dict[str, int],
    sample: CostPoint | None,
    state: dict[str, Any],
    *,
    prune_before: datetime | None = None,
) -> None:
    def write(conn: Conn) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO cloud_spend (day, units) VALUES (?, ?)"
            " ON CONFLICT(day) DO UPDATE SET units = excluded.units",
            list(days.items()),
        )
        if sample is not None:
            conn.execute(
                "INSERT INTO cloud_rate (at, cost_per_hour_cents, active_pods) VALUES (?, ?, ?)"
                " ON CONFLICT(at) DO UPDATE SET cost_per_hour_cents = excluded"
                ".cost_per_hour_cents, active_pods = excluded.active_pods",
                (sample.at.timestamp(), sample.cost_per_hour_cents, sample.active_pods),
            )
        conn.execute(
            "INSERT INTO cloud_state (key, value) VALUES ('state', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (json.dumps(state),),
        )
        if prune_before is not None:
            conn.execute(
                "DELETE FROM cloud_spend WHERE day < ?", (prune_before.date().isoformat(),)
            )
            conn.execute("DELETE FROM cloud_rate WHERE at < ?", (prune_before.timestamp(),))
        conn.execute("COMMIT")

    await store.run(write)


async def rate_series(store: SqlStore, since: datetime, limit: int = 20_000) -> list[CostPoint]:
    """Samples since ``since``, oldest first, led by the rate in force at ``since`` (a step
    chart needs the value at its left edge)."""

    def read(conn: Conn) -> list[CostPoint]:
        start = since.timestamp()
        before = conn.execute(
            "SELECT at, cost_per_hour_cents, active_pods FROM cloud_rate WHERE at < ?"
            " ORDER BY at DESC LIMIT 1",
            (start,),
        ).fetchone()
        rows = conn.execute(
            "SELECT at, cost_per_hour_cents, active_pods FROM cloud_rate WHERE at >= ?"
            " ORDER BY at LIMIT ?",
            (start, limit),
        ).fetchall()
        points = [_point(r) for r in rows]
        if before is not None and (not points or points[0].at.timestamp() > start):
            points.insert(0, _point((start, before[1], before[2])))
        return points

    return await store.run(read)
