"""External-system storage (seed 004): snapshots, their component rows, outages, reservations.

A snapshot and its components are written in one transaction with ``INSERT .. ON
CONFLICT`` on the unique (system, timestamp[, kind, name]) indexes, so concurrent writers
(two collectors, two hubs on one database) converge on exactly one row per key, and a
snapshot never carries another post's components. "New or not" is the insert's own row
count, never a read before it: under PostgreSQL two transactions could both read "absent".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from studio_status.protocol import HealthStatus
from studio_status.protocol.systems import Availability, Outage, Reservation

from .dialect import Conn
from .sqlite import SqlStore

__all__ = [
    "Component",
    "StoredSnapshot",
    "components",
    "delete_before",
    "get_outage",
    "history",
    "latest",
    "latest_per_system",
    "list_outages",
    "list_reservations",
    "put_outage",
    "put_reservation",
    "put_snapshot",
]

Component = tuple[str, str, dict[str, Any]]  # (kind, name, data)


@dataclass(frozen=True)
class StoredSnapshot:
    system: str
    timestamp: datetime
    received_at: datetime
    availability: Availability
    status: HealthStatus
    data: dict[str, Any]


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _snapshot(row: Any) -> StoredSnapshot:
    return StoredSnapshot(
        system=row[0],
        timestamp=_dt(row[1]),
        received_at=_dt(row[2]),
        availability=Availability(row[3]),
        status=HealthStatus(row[4]),
        data=json.loads(row[5]),
    )


_SNAP_COLS = "system, timestamp, received_at, availability, status, data_json"


async def put_snapshot(store: SqlStore, snap: StoredSnapshot, components: list[Component]) -> bool:
    """Insert or replace the snapshot at (system, timestamp); True when it was new."""

    def write(conn: Conn) -> bool:
        ts = snap.timestamp.timestamp()
        conn.execute("BEGIN IMMEDIATE")
        values = (
            snap.system,
            ts,
            snap.received_at.timestamp(),
            snap.availability.value,
            snap.status.value,
            json.dumps(snap.data),
        )
        # insert-or-nothing first: its row count says "new" even when another writer races
        # (PostgreSQL makes the loser wait for the winner's commit, then see its row)
        created = conn.execute(
            f"INSERT INTO system_snapshots ({_SNAP_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (system, timestamp) DO NOTHING",
            values,
        ).rowcount
        if not created:
            conn.execute(
                "UPDATE system_snapshots SET received_at = ?, availability = ?, status = ?,"
                " data_json = ? WHERE system = ? AND timestamp = ?",
                (*values[2:], snap.system, ts),
            )
        conn.execute(
            "DELETE FROM system_components WHERE system = ? AND timestamp = ?", (snap.system, ts)
        )
        conn.executemany(
            "INSERT INTO system_components (system, timestamp, kind, name, data_json)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(system, timestamp, kind, name)"
            " DO UPDATE SET data_json = excluded.data_json",
            [(snap.system, ts, kind, name, json.dumps(data)) for kind, name, data in components],
        )
        conn.execute("COMMIT")
        return created > 0

    return await store.run(write)


async def latest(store: SqlStore, system: str) -> StoredSnapshot | None:
    def read(conn: Conn) -> StoredSnapshot | None:
        row = conn.execute(
            f"SELECT {_SNAP_COLS} FROM system_snapshots WHERE system = ?"
            " ORDER BY timestamp DESC LIMIT 1",
            (system,),
        ).fetchone()
        return None if row is None else _snapshot(row)

    return await store.run(read)


async def latest_per_system(store: SqlStore) -> list[StoredSnapshot]:
    def read(conn: Conn) -> list[StoredSnapshot]:
        rows = conn.execute(
            f"SELECT {', '.join('s.' + c for c in _SNAP_COLS.split(', '))}"
            " FROM system_snapshots s JOIN (SELECT system, MAX(timestamp) AS m"
            " FROM system_snapshots GROUP BY system) l"
            " ON s.system = l.system AND s.timestamp = l.m ORDER BY s.system"
        ).fetchall()
        return [_snapshot(r) for r in rows]

    return await store.run(read)


async def history(
    store: SqlStore, system: str, since: datetime, limit: int
) -> list[StoredSnapshot]:
    """Snapshots since ``since``, oldest first, the newest ``limit`` of them."""

    def read(conn: Conn) -> list[StoredSnapshot]:
        rows = conn.execute(
            f"SELECT {_SNAP_COLS} FROM system_snapshots WHERE system = ? AND timestamp >= ?"
            " ORDER BY timestamp DESC LIMIT ?",
            (system, since.timestamp(), limit),
        ).fetchall()
        return [_snapshot(r) for r in reversed(rows)]

    return await store.run(read)


async def components(store: SqlStore, system: str, timestamp: datetime) -> list[Component]:
    def read(conn: Conn) -> list[Component]:
        rows = conn.execute(
            "SELECT kind, name, data_json FROM system_components"
            " WHERE system = ? AND timestamp = ? ORDER BY kind, name",
            (system, timestamp.timestamp()),
        ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    return await store.run(read)


async def put_outage(store: SqlStore, outage: Outage) -> None:
    """Insert or update by id."""

    def write(conn: Conn) -> None:
        conn.execute(
            "INSERT INTO system_outages (id, system, status, start_time, end_time, updated_at,"
            " data_json) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " system = excluded.system, status = excluded.status,"
            " start_time = excluded.start_time, end_time = excluded.end_time,"
            " updated_at = excluded.updated_at, data_json = excluded.data_json",
            (
                outage.id,
                outage.system,
                outage.status.value,
                outage.start_time.timestamp(),
                outage.end_time.timestamp() if outage.end_time else None,
                outage.updated_at.timestamp(),
                outage.model_dump_json(),
            ),
        )

    await store.run(write)


async def get_outage(store: SqlStore, outage_id: str) -> Outage | None:
    def read(conn: Conn) -> Outage | None:
        row = conn.execute(
            "SELECT data_json FROM system_outages WHERE id = ?", (outage_id,)
        ).fetchone()
        return None if row is None else Outage.model_validate_json(row[0])

    return await store.run(read)


async def list_outages(
    store: SqlStore, *, system: str | None = None, resolved_since: datetime | None = None
) -> list[Outage]:
    """Unresolved outages, plus those resolved since ``resolved_since`` when given."""

    def read(conn: Conn) -> list[Outage]:
        sql = "SELECT data_json FROM system_outages WHERE (status != 'resolved'"
        args: list[Any] = []
        if resolved_since is not None:
            sql += " OR COALESCE(end_time, updated_at) >= ?"
            args.append(resolved_since.timestamp())
        sql += ")"
        if system is not None:
            sql += " AND system = ?"
            args.append(system)
        rows = conn.execute(sql + " ORDER BY start_time DESC, id", args).fetchall()
        return [Outage.model_validate_json(r[0]) for r in rows]

    return await store.run(read)


async def put_reservation(store: SqlStore, reservation: Reservation) -> bool:
    """Insert or replace by (system, name); True when it was new."""

    def write(conn: Conn) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        key = (reservation.system, reservation.name)
        values = (
            reservation.start_time.timestamp(),
            reservation.end_time.timestamp(),
            reservation.model_dump_json(),
        )
        created = conn.execute(
            "INSERT INTO system_reservations (system, name, start_time, end_time, data_json)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (system, name) DO NOTHING",
            (*key, *values),
        ).rowcount
        if not created:
            conn.execute(
                "UPDATE system_reservations SET start_time = ?, end_time = ?, data_json = ?"
                " WHERE system = ? AND name = ?",
                (*values, *key),
            )
        conn.execute("COMMIT")
        return created > 0

    return await store.run(write)


async def list_reservations(
    store: SqlStore, *, ending_after: datetime, system: str | None = None
) -> list[Reservation]:
    """Current and upcoming reservations (those ending after ``ending_after``)."""

    def read(conn: Conn) -> list[Reservation]:
        sql = "SELECT data_json FROM system_reservations WHERE end_time > ?"
        args: list[Any] = [ending_after.timestamp()]
        if system is not None:
            sql += " AND system = ?"
            args.append(system)
        rows = conn.execute(sql + " ORDER BY start_time, system, name", args).fetchall()
        return [Reservation.model_validate_json(r[0]) for r in rows]

    return await store.run(read)


async def delete_before(store: SqlStore, cutoff: datetime, batch: int = 5000) -> int:
    """One batch of retention: snapshots and components older than ``cutoff``, outages
    resolved and reservations ended before it. Returns rows deleted; the caller loops."""

    def prune(conn: Conn) -> int:
        ts = cutoff.timestamp()
        deleted = 0
        for table in ("system_components", "system_snapshots"):
            deleted += conn.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table}"
                " WHERE timestamp < ? LIMIT ?)",
                (ts, batch),
            ).rowcount
        deleted += conn.execute(
            "DELETE FROM system_outages WHERE status = 'resolved'"
            " AND COALESCE(end_time, updated_at) < ?",
            (ts,),
        ).rowcount
        deleted += conn.execute(
            "DELETE FROM system_reservations WHERE end_time < ?", (ts,)
        ).rowcount
        return deleted

    return await store.run(prune)
