"""Copy a SQLite hub database into PostgreSQL: a team that outgrows one file keeps its
history (checks, uptime windows and rollups, events, alerts, tokens, audit, settings).

Both sides are first brought to this hub's schema version by their own migrations, so the
copy is table for table and column for column. It runs in one PostgreSQL transaction (all
or nothing) into a database that holds no hub data yet, keeps every id (and moves the
identity sequences past them), and keeps the hub id, so clients resume across the move.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .postgres import PostgresStore, redact_dsn
from .sqlite import SqliteStore, StoreError

__all__ = ["LABELS", "CopyReport", "copy_sqlite_to_postgres"]

_BATCH = 5000

#: what each table holds, in the user's words (for the report)
LABELS: dict[str, str] = {
    "health_checks": "health checks",
    "uptime_records": "uptime windows",
    "uptime_rollups": "uptime rollup buckets",
    "hub_runs": "hub run spans",
    "events": "events",
    "api_tokens": "API tokens",
    "meta": "hub settings (hub id, rollup watermark)",
    "jobs": "jobs",
    "workflows": "workflows",
    "cloud_spend": "cloud spend days",
    "cloud_rate": "cloud cost-rate samples",
    "cloud_state": "cloud state",
    "system_snapshots": "system snapshots",
    "system_components": "system components",
    "system_outages": "system outages",
    "system_reservations": "system reservations",
    "audit_log": "audit entries",
    "health_alert_configs": "alert configs",
    "alert_state": "alert states",
    "alert_outbox": "webhook outbox rows",
    "alert_mutes": "mutes",
    "maintenance_windows": "maintenance windows",
    "activity_feed": "activity items",
    "user_dashboards": "dashboards",
}


@dataclass
class CopyReport:
    source: Path
    target: str
    rows: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"copied {self.source} into {self.target}:"]
        for table, count in self.rows.items():
            out.append(f"  {count:>9}  {LABELS.get(table, table)}")
        out.append(f"  {sum(self.rows.values()):>9}  rows in all")
        return out


async def copy_sqlite_to_postgres(
    source: Path, dsn: str, *, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy ``source`` into the PostgreSQL database at ``dsn`` (which must hold no hub
    data). Raises :class:`StoreError` with the reason when it cannot."""
    if not await asyncio.to_thread(source.is_file):
        raise StoreError(f"{source}: no such SQLite database")
    # migrate both to this hub's version (the SQLite file in place, as a hub start would)
    for store in (SqliteStore(source), PostgresStore(dsn)):
        await store.open()
        await store.close()

    return await asyncio.to_thread(_copy, source, dsn, progress)


def _copy(source: Path, dsn: str, progress: Callable[[str, int], None] | None) -> CopyReport:
    import psycopg

    report = CopyReport(source, redact_dsn(dsn))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in src.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        ordered = [t for t in LABELS if t in tables] + [t for t in tables if t not in LABELS]
        with psycopg.connect(dsn, autocommit=False) as dst:
            _refuse_if_used(dst, ordered)
            for table in ordered:
                count = _copy_table(src, dst, table)
                report.rows[table] = count
                if progress is not None:
                    progress(table, count)
            dst.commit()
    except psycopg.Error as exc:
        raise StoreError(f"copy into {redact_dsn(dsn)} failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {source}: {exc}") from exc
    finally:
        src.close()
    return report


def _refuse_if_used(dst: Any, tables: list[str]) -> None:
    for table in tables:
        if table == "meta":
            continue
        if dst.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0]:
            raise StoreError(
                f"the PostgreSQL database already holds hub data ({LABELS.get(table, table)});"
                " copy into a new, empty database"
            )
    # a hub may have started against it once: its own hub id and marks give way to the copy
    dst.execute("DELETE FROM meta")


def _copy_table(src: sqlite3.Connection, dst: Any, table: str) -> int:
    columns = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(["%s"] * len(columns))})'
    cur = src.execute(f'SELECT {names} FROM "{table}"')
    count = 0
    with dst.cursor() as out:
        while rows := cur.fetchmany(_BATCH):
            out.executemany(insert, rows)
            count += len(rows)
    if "id" not in columns:
        return count
    sequence = dst.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
    if sequence is not None:
        # identity columns: the next generated id follows the copied ones
        dst.execute(
            f'SELECT setval(%s, MAX(id)) FROM "{table}" HAVING MAX(id) IS NOT NULL', (sequence,)
        )
    return count
