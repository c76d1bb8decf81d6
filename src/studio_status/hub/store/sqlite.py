"""The hub's store queries (:class:`SqlStore`) and the SQLite engine under them.

The queries are written once in the SQL SQLite and PostgreSQL share (see :mod:`.dialect`);
:class:`SqliteStore` runs them on SQLite (WAL), :class:`~.postgres.PostgresStore` on
PostgreSQL. sqlite3 connections are not thread-safe and every call blocks, so SQLite access
goes through a single-thread executor: the event loop never waits on disk, and writes are
naturally serialised. Errors are translated into :class:`StoreError` at this edge.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from studio_status.protocol import (
    CheckRecord,
    Event,
    HealthStatus,
    JobInfo,
    Role,
    Transition,
    UptimeWindow,
    WorkflowInfo,
)

from .dialect import Conn
from .schema import MIGRATIONS

__all__ = ["CheckWrite", "SqlStore", "SqliteStore", "StoreError", "TokenRow"]

T = TypeVar("T")


class StoreError(RuntimeError):
    """The database failed (locked, read-only, disk full, corrupt)."""


@dataclass(frozen=True)
class CheckWrite:
    """One check to record; its window bookkeeping happens in the same transaction."""

    service: str
    status: HealthStatus
    latency_ms: int | None
    error_message: str | None
    details: dict[str, Any]
    checked_at: datetime


@dataclass(frozen=True)
class TokenRow:
    id: str
    name: str
    role: Role
    secret_hash: str
    revoked: bool


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _must_dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


class SqlStore(ABC):
    """The hub's durable store: checks, uptime windows, the event log, tokens, metadata.

    The queries, for either engine; a subclass supplies the connection (:meth:`run`), its
    life cycle and what cannot be shared (the run bookkeeping, the schema version).
    """

    @abstractmethod
    async def run(self, fn: Callable[[Conn], T]) -> T:
        """Run ``fn`` with a connection of the store's engine: for the store modules beside
        this one (uptime, alerts, audit), which keep their SQL out of this file."""

    async def _run(self, fn: Callable[[Conn], T]) -> T:
        return await self.run(fn)

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, for messages (never a password)."""

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> tuple[int, int]:
        """(the version the database is at, the version this hub needs)."""

    async def begin_run(self) -> tuple[str, bool]:
        """The hub id for this run, and whether the previous run ended cleanly.

        Events are published before they are committed, so a run that died (SIGKILL,
        power cut) may have sent clients events that never reached the file; the next run
        would number different events with the same seqs. So a run that did not end with
        :meth:`mark_clean_end` gets a fresh hub id: clients then take a snapshot instead of
        resuming over seqs that now mean something else. A clean end keeps the id, so
        clients resume across an ordinary restart.
        """

        def run(conn: Conn) -> tuple[str, bool]:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT value FROM meta WHERE key = 'hub_id'").fetchone()
            ended = conn.execute("SELECT value FROM meta WHERE key = 'clean_end'").fetchone()
            clean = ended is None or ended[0] == "1"  # None: a database from before the mark
            value = str(row[0]) if row is not None and clean else uuid.uuid4().hex
            conn.execute(_SET_META, ("hub_id", value))
            conn.execute(_SET_META, ("clean_end", "0"))
            conn.execute("COMMIT")
            return value, clean

        return await self._run(run)

    async def mark_clean_end(self) -> None:
        """Everything published was committed: the next run may keep the hub id."""
        await self._run(lambda c: c.execute(_SET_META, ("clean_end", "1")))

    # -- writes -----------------------------------------------------------------------

    async def write_batch(
        self,
        checks: Sequence[CheckWrite],
        events: Sequence[Event],
        jobs: Sequence[JobInfo] = (),
        workflows: Sequence[WorkflowInfo] = (),
    ) -> None:
        """Record checks (with their window changes), events and job states in one
        transaction, so a crash keeps all of a batch or none of it."""

        def write(conn: Conn) -> None:
            now = datetime.now(UTC).timestamp()
            conn.execute("BEGIN IMMEDIATE")
            for c in checks:
                at = _ts(c.checked_at)
                conn.execute(
                    "INSERT INTO health_checks (service_name, status, latency_ms, error_message,"
                    " details_json, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        c.service,
                        c.status.value,
                        c.latency_ms,
                        c.error_message,
                        json.dumps(c.details, default=str),
                        at,
                    ),
                )
                row = conn.execute(
                    "SELECT id, status, started_at FROM uptime_records"
                    " WHERE service_name = ? AND ended_at IS NULL",
                    (c.service,),
                ).fetchone()
                if row is not None and row[1] == c.status.value:
                    continue
                if row is not None:
                    end = max(at, row[2])
                    conn.execute(
                        "UPDATE uptime_records SET ended_at = ?, duration_seconds = ?,"
                        " updated_at = ? WHERE id = ?",
                        (end, round(end - row[2]), now, row[0]),
                    )
                conn.execute(
                    "INSERT INTO uptime_records (service_name, status, started_at, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?)",
                    (c.service, c.status.value, at, now, now),
                )
            for table, rows in (("jobs", jobs), ("workflows", workflows)):
                conn.executemany(
                    f"INSERT INTO {table} (id, status, updated_at, data_json) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET status = excluded.status,"
                    " updated_at = excluded.updated_at, data_json = excluded.data_json",
                    [(r.id, r.status.value, now, r.model_dump_json()) for r in rows],
                )
            if events:  # last: on PostgreSQL this takes the event counter's lock
                self._write_events(conn, events)
            conn.execute("COMMIT")

        await self._run(write)

    def _write_events(self, conn: Conn, events: Sequence[Event]) -> None:
        """Store events numbered by the bus (SQLite: one hub numbers them in memory)."""
        conn.executemany(
            "INSERT INTO events (seq, type, topic, ts, data_json)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING",
            [(e.seq, e.type, e.topic, _ts(e.ts), json.dumps(e.data, default=str)) for e in events],
        )

    async def prune(self, checks_before: datetime, keep_events: int, batch: int = 5000) -> int:
        """Delete one batch of old raw checks and trim the event log; returns rows deleted.

        Batched so a large backlog never holds the write lock for long; the caller loops.
        """

        def prune(conn: Conn) -> int:
            cur = conn.execute(
                "DELETE FROM health_checks WHERE id IN (SELECT id FROM health_checks"
                " WHERE checked_at < ? LIMIT ?)",
                (_ts(checks_before), batch),
            )
            deleted = cur.rowcount
            conn.execute(
                "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?",
                (keep_events,),
            )
            return deleted

        return await self._run(prune)

    # -- reads ------------------------------------------------------------------------

    async def open_windows(self) -> dict[str, UptimeWindow]:
        def read(conn: Conn) -> dict[str, UptimeWindow]:
            rows = conn.execute(
                "SELECT id, service_name, status, started_at FROM uptime_records"
                " WHERE ended_at IS NULL"
            ).fetchall()
            return {
                r[1]: UptimeWindow(
                    id=r[0], service_name=r[1], status=HealthStatus(r[2]), started_at=_must_dt(r[3])
                )
                for r in rows
            }

        return await self._run(read)

    async def last_checks(self) -> dict[str, CheckRecord]:
        def read(conn: Conn) -> dict[str, CheckRecord]:
            rows = conn.execute(
                "SELECT h.id, h.service_name, h.status, h.latency_ms, h.error_message,"
                " h.details_json, h.checked_at FROM health_checks h JOIN ("
                " SELECT service_name, MAX(checked_at) AS m FROM health_checks"
                " GROUP BY service_name) l"
                " ON h.service_name = l.service_name AND h.checked_at = l.m"
            ).fetchall()
            return {r[1]: _check(r) for r in rows}

        return await self._run(read)

    async def history(self, service: str, since: datetime, limit: int) -> list[CheckRecord]:
        """Checks of ``service`` since ``since``, newest last, at most ``limit``."""

        def read(conn: Conn) -> list[CheckRecord]:
            rows = conn.execute(
                "SELECT id, service_name, status, latency_ms, error_message, details_json,"
                " checked_at FROM health_checks WHERE service_name = ? AND checked_at >= ?"
                " ORDER BY checked_at DESC LIMIT ?",
                (service, _ts(since), limit),
            ).fetchall()
            return [_check(r) for r in reversed(rows)]

        return await self._run(read)

    async def windows(self, service: str | None = None) -> list[UptimeWindow]:
        def read(conn: Conn) -> list[UptimeWindow]:
            sql = (
                "SELECT id, service_name, status, started_at, ended_at, duration_seconds"
                " FROM uptime_records"
            )
            args: tuple[Any, ...] = ()
            if service is not None:
                sql += " WHERE service_name = ?"
                args = (service,)
            rows = conn.execute(sql + " ORDER BY started_at, id", args).fetchall()
            return [
                UptimeWindow(
                    id=r[0],
                    service_name=r[1],
                    status=HealthStatus(r[2]),
                    started_at=_must_dt(r[3]),
                    ended_at=_dt(r[4]),
                    duration_seconds=r[5],
                )
                for r in rows
            ]

        return await self._run(read)

    async def recent_transitions(self, limit: int) -> list[Transition]:
        """The newest window openings, oldest first, each with the status it replaced."""

        def read(conn: Conn) -> list[Transition]:
            rows = conn.execute(
                "SELECT u.service_name, u.status, u.started_at, ("
                " SELECT p.status FROM uptime_records p WHERE p.service_name = u.service_name"
                " AND p.started_at <= u.started_at AND p.id < u.id ORDER BY p.id DESC LIMIT 1)"
                " FROM uptime_records u ORDER BY u.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                Transition(
                    service=r[0],
                    status=HealthStatus(r[1]),
                    at=_must_dt(r[2]),
                    previous=HealthStatus(r[3]) if r[3] else None,
                )
                for r in reversed(rows)
            ]

        return await self._run(read)

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        def read(conn: Conn) -> list[Event]:
            rows = conn.execute(
                "SELECT seq, type, ts, data_json FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
            return [
                Event(seq=r[0], type=r[1], ts=_must_dt(r[2]), data=json.loads(r[3])) for r in rows
            ]

        return await self._run(read)

    async def oldest_event_seq(self) -> int | None:
        return await self._run(lambda c: c.execute("SELECT MIN(seq) FROM events").fetchone()[0])

    async def max_seq(self) -> int:
        return await self._run(
            lambda c: int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
        )

    async def hub_id(self) -> str:
        """A stable id for this database: a client may resume only against the same one."""

        def read(conn: Conn) -> str:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('hub_id', ?) ON CONFLICT (key) DO NOTHING",
                (uuid.uuid4().hex,),
            )  # the first hub to ask sets it; every later one (or a racing one) reads it
            return str(conn.execute("SELECT value FROM meta WHERE key = 'hub_id'").fetchone()[0])

        return await self._run(read)

    async def load_jobs(self, recent: int) -> tuple[list[JobInfo], list[WorkflowInfo]]:
        """Active jobs and workflows plus the ``recent`` newest finished ones (for the feed)."""

        def read(conn: Conn) -> tuple[list[JobInfo], list[WorkflowInfo]]:
            def rows(table: str) -> list[str]:
                active = conn.execute(
                    f"SELECT data_json FROM {table} WHERE status IN ('queued', 'running')"
                ).fetchall()
                done = conn.execute(
                    f"SELECT data_json FROM {table} WHERE status NOT IN ('queued', 'running')"
                    " ORDER BY updated_at DESC LIMIT ?",
                    (recent,),
                ).fetchall()
                return [r[0] for r in reversed(done)] + [r[0] for r in active]

            return (
                [JobInfo.model_validate_json(r) for r in rows("jobs")],
                [WorkflowInfo.model_validate_json(r) for r in rows("workflows")],
            )

        return await self._run(read)

    # -- tokens -----------------------------------------------------------------------

    async def add_token(self, token_id: str, name: str, role: Role, secret_hash: str) -> None:
        await self._run(
            lambda c: c.execute(
                "INSERT INTO api_tokens (id, name, role, secret_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_id, name, role.value, secret_hash, datetime.now(UTC).timestamp()),
            )
        )

    async def find_token(self, token_id: str) -> TokenRow | None:
        def read(conn: Conn) -> TokenRow | None:
            r = conn.execute(
                "SELECT id, name, role, secret_hash, revoked_at FROM api_tokens WHERE id = ?",
                (token_id,),
            ).fetchone()
            return None if r is None else TokenRow(r[0], r[1], Role(r[2]), r[3], r[4] is not None)

        return await self._run(read)

    async def list_tokens(self) -> list[TokenRow]:
        def read(conn: Conn) -> list[TokenRow]:
            rows = conn.execute(
                "SELECT id, name, role, secret_hash, revoked_at FROM api_tokens ORDER BY created_at"
            ).fetchall()
            return [TokenRow(r[0], r[1], Role(r[2]), r[3], r[4] is not None) for r in rows]

        return await self._run(read)

    async def revoke_token(self, token_id: str) -> bool:
        def write(conn: Conn) -> bool:
            cur = conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (datetime.now(UTC).timestamp(), token_id),
            )
            return cur.rowcount > 0

        return await self._run(write)


class SqliteStore(SqlStore):
    """The store on one SQLite file (WAL), driven from one dedicated thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-store")
        self._conn: sqlite3.Connection | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    # -- plumbing ---------------------------------------------------------------------

    async def run(self, fn: Callable[[Conn], T]) -> T:
        def call() -> T:
            if self._conn is None:
                raise StoreError("store is not open")
            try:
                return fn(self._conn)
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.rollback()
                raise StoreError(f"{type(exc).__name__}: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        def connect() -> None:
            conn: sqlite3.Connection | None = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=5000")
                conn.execute("PRAGMA foreign_keys=ON")
                _migrate(conn)
            except BaseException as exc:
                # a refused file (newer schema, not a database) must not leave its
                # connection open for the garbage collector to find
                if conn is not None:
                    conn.close()
                if isinstance(exc, sqlite3.Error | OSError):
                    raise StoreError(f"cannot open database {self.path}: {exc}") from exc
                raise
            self._conn = conn

        await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)

    async def schema_version(self) -> tuple[int, int]:
        version = await self._run(lambda c: int(c.execute("PRAGMA user_version").fetchone()[0]))
        return version, len(MIGRATIONS)


def _check(r: Sequence[Any]) -> CheckRecord:
    return CheckRecord(
        id=r[0],
        service_name=r[1],
        status=HealthStatus(r[2]),
        latency_ms=r[3],
        error_message=r[4],
        details=json.loads(r[5]) if r[5] else {},
        checked_at=_must_dt(r[6]),
    )


def _migrate(conn: sqlite3.Connection) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise StoreError(
            f"database schema version {version} is newer than this hub ({len(MIGRATIONS)})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
