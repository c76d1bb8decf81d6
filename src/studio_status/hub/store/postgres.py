"""The store on PostgreSQL: the same queries as SQLite's (:class:`~.sqlite.SqlStore`),
over a psycopg 3 connection pool.

The store modules' queries are plain functions of a connection, run as one unit (often one
transaction). On SQLite they run on the store's one thread; here each takes a connection
from a pool on a small thread pool of the same size, so the event loop never waits on the
network and several queries (an API read while the writer commits) run at once. The SQL
differences are :mod:`.dialect`'s; the schema is :mod:`.schema_pg`'s, applied under an
advisory lock so that hubs starting together against one database migrate it once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from studio_status.protocol import Event

from .dialect import Conn, PgConn
from .schema_pg import MIGRATIONS
from .sqlite import SqlStore, StoreError

__all__ = ["PostgresStore", "is_postgres_url", "redact_dsn"]

T = TypeVar("T")

# pg_advisory_xact_lock key held while migrating: "studio-status schema"
MIGRATION_LOCK = 0x5354_5354_0001
_CONNECT_TIMEOUT = 10.0


def is_postgres_url(value: str) -> bool:
    return re.match(r"^postgres(ql)?://", value) is not None


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", dsn)


class PostgresStore(SqlStore):
    """The store on a PostgreSQL database named by a ``postgresql://`` URL."""

    def __init__(self, dsn: str, *, pool_size: int = 4) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="hub-pg")
        self._pool: Any = None  # psycopg_pool.ConnectionPool once open
        #: this replica's id, named in event notifications (set by the hub)
        self.replica_id: str | None = None

    @property
    def location(self) -> str:
        return redact_dsn(self.dsn)

    def __repr__(self) -> str:
        return f"PostgresStore({redact_dsn(self.dsn)!r})"

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def run(self, fn: Callable[[Conn], T]) -> T:
        import psycopg
        import psycopg_pool

        pool = self._pool

        def call() -> T:
            if pool is None:
                raise StoreError("store is not open")
            try:
                with pool.connection() as raw:
                    conn = PgConn(raw)
                    try:
                        return fn(conn)
                    except BaseException:
                        if conn.in_transaction and not raw.closed:
                            raw.execute("ROLLBACK")
                        raise
            except psycopg_pool.PoolTimeout as exc:
                raise StoreError(f"database unreachable: {exc}") from exc
            except psycopg.Error as exc:
                raise StoreError(f"{type(exc).__name__}: {exc}".strip()) from exc

        return await self._call(call)

    async def open(self) -> None:
        import psycopg
        import psycopg_pool

        def connect() -> Any:
            pool = psycopg_pool.ConnectionPool(
                self.dsn,
                min_size=1,
                max_size=self.pool_size,
                kwargs={"autocommit": True, "connect_timeout": int(_CONNECT_TIMEOUT)},
                open=False,
                timeout=_CONNECT_TIMEOUT,
                name="studio-status-hub",
            )
            try:
                pool.open(wait=True, timeout=_CONNECT_TIMEOUT)
                with pool.connection() as raw:
                    _migrate(raw)
            except BaseException:
                pool.close()
                raise
            return pool

        try:
            self._pool = await self._call(connect)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(
                f"cannot open database {redact_dsn(self.dsn)}: {_first_line(exc)}"
            ) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await self._call(pool.close)
        self._executor.shutdown(wait=True)

    def _write_events(self, conn: Conn, events: Sequence[Event]) -> None:
        """Number ``events`` from the shared counter, store them, and notify every replica.

        ``UPDATE event_counter`` locks its one row until this transaction ends, so of two
        replicas committing events at once the second waits for the first to commit (or roll
        back, which gives its numbers back): seqs are handed out in commit order and no seq
        is ever skipped. The notification is delivered at commit, after the rows are
        visible, and PostgreSQL delivers notifications in commit order.
        """
        from .cluster_pg import EVENTS_CHANNEL, encode_events

        last = int(
            conn.execute(
                "UPDATE event_counter SET seq = seq + ? WHERE id = 1 RETURNING seq", (len(events),)
            ).fetchone()[0]
        )
        first = last - len(events) + 1
        numbered = [e.model_copy(update={"seq": first + i}) for i, e in enumerate(events)]
        super()._write_events(conn, numbered)
        payload = encode_events(numbered, self.replica_id)
        conn.execute("SELECT pg_notify(?, ?)", (EVENTS_CHANNEL, payload))

    async def begin_run(self) -> tuple[str, bool]:
        """The group's hub id, kept for good: on PostgreSQL no event reaches a client before
        it is committed, so a replica that died leaves no seq that could come to mean
        another event, and clients resume across any replica's death or restart."""
        return await self.hub_id(), True

    async def mark_clean_end(self) -> None:
        """Nothing to mark (see :meth:`begin_run`)."""

    async def schema_version(self) -> tuple[int, int]:
        version = await self.run(
            lambda c: int(c.execute("SELECT version FROM store_schema").fetchone()[0])
        )
        return version, len(MIGRATIONS)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _migrate(raw: Any) -> None:
    """Bring the schema to this hub's version in one transaction (PostgreSQL's DDL is
    transactional: a failed migration leaves the previous version intact)."""
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        raw.execute("CREATE TABLE IF NOT EXISTS store_schema (version INTEGER NOT NULL)")
        row = raw.execute("SELECT version FROM store_schema").fetchone()
        if row is None:
            raw.execute("INSERT INTO store_schema (version) VALUES (0)")
            version = 0
        else:
            version = int(row[0])
        if version > len(MIGRATIONS):
            raise StoreError(
                f"database schema version {version} is newer than this hub ({len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            raw.execute(script)
            raw.execute("UPDATE store_schema SET version = %s", (number,))
