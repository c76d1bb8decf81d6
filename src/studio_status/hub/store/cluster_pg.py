"""What several hub replicas on one PostgreSQL share beyond tables: notifications (the
event fan-out, settings changes) and session advisory locks (who checks what).

Each replica keeps two connections of its own besides the store's pool:

- the *listener* (``LISTEN``), whose notifications arrive in commit order;
- the *coordinator*, which holds the replica's advisory locks and names the replica in
  ``application_name``, so the live replicas are the sessions PostgreSQL has open. A
  replica that dies (SIGKILL, crash) loses its session when the kernel closes its socket:
  its locks are released and it leaves the member list at once, with no lease to run out.
  TCP keepalives bound the time a silent network loss takes to do the same.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from studio_status.protocol import Event

from .postgres import redact_dsn
from .sqlite import StoreError

__all__ = [
    "EVENTS_CHANNEL",
    "SETTINGS_CHANNEL",
    "Coordinator",
    "Listener",
    "decode_events",
    "encode_events",
    "lock_key",
]

EVENTS_CHANNEL = "studio_status_events"
SETTINGS_CHANNEL = "studio_status_settings"
APP_PREFIX = "studio-status-hub "
# pg_notify refuses payloads of 8000 bytes or more; beyond this, listeners fetch the rows
MAX_PAYLOAD = 7800
_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}


def lock_key(name: str) -> int:
    """A stable advisory lock key for ``name`` (a service, a role), in this app's space."""
    return (0x5353 << 32) | zlib.crc32(name.encode())


def encode_events(events: Sequence[Event], origin: str | None) -> str:
    """The notification for a committed batch: the events themselves when they fit, else
    the range of seqs for listeners to read from the table; ``origin`` names the replica
    that published them (it has applied them already)."""
    full = json.dumps(
        {"origin": origin, "events": [e.model_dump(mode="json") for e in events]}, default=str
    )
    if len(full.encode()) <= MAX_PAYLOAD:
        return full
    return json.dumps({"origin": origin, "from": events[0].seq, "to": events[-1].seq})


def decode_events(payload: str) -> tuple[list[Event], tuple[int, int] | None, str | None]:
    """(events carried, or the (first, last) seq range to fetch; the origin replica)."""
    data = json.loads(payload)
    origin = data.get("origin")
    if "events" in data:
        return [Event.model_validate(e) for e in data["events"]], None, origin
    return [], (int(data["from"]), int(data["to"])), origin


async def _connect(dsn: str, application_name: str) -> Any:
    import psycopg
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(
        dsn, application_name=application_name, connect_timeout=10, **_KEEPALIVE
    )
    try:
        return await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach {redact_dsn(dsn)}: {exc}") from exc


class Listener:
    """A ``LISTEN`` connection: :meth:`notifications` yields (channel, payload) in commit
    order until the connection fails (then it raises :class:`StoreError`)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: Any = None

    async def open(self) -> None:
        import psycopg

        self._conn = await _connect(self._dsn, application_name="studio-status-hub-listener")
        try:
            for channel in (EVENTS_CHANNEL, SETTINGS_CHANNEL):
                await self._conn.execute(f"LISTEN {channel}")
        except psycopg.Error as exc:
            await self.close()
            raise StoreError(f"cannot listen: {exc}") from exc

    async def notifications(self) -> AsyncIterator[tuple[str, str]]:
        import psycopg

        if self._conn is None:
            raise StoreError("listener is not open")
        try:
            async for note in self._conn.notifies():
                yield note.channel, note.payload
        except psycopg.Error as exc:
            raise StoreError(f"listener lost its connection: {exc}") from exc

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


class Coordinator:
    """The replica's own session: its name among the members and its advisory locks."""

    def __init__(self, dsn: str, replica_id: str) -> None:
        self._dsn = dsn
        self.replica_id = replica_id
        self._conn: Any = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    async def open(self) -> None:
        self._conn = await _connect(self._dsn, application_name=APP_PREFIX + self.replica_id)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()  # ends the session: every lock it held is released

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        import psycopg

        if self._conn is None:
            raise StoreError("coordinator is not open")
        try:
            cur = await self._conn.execute(sql, tuple(params))
            return list(await cur.fetchall()) if cur.description is not None else []
        except psycopg.Error as exc:
            await self.close()
            raise StoreError(f"coordinator lost its connection: {exc}") from exc

    async def members(self) -> list[str]:
        """The replica ids with an open session on this database, sorted."""
        rows = await self._query(
            "SELECT DISTINCT substr(application_name, %s) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE %s",
            (len(APP_PREFIX) + 1, APP_PREFIX + "%"),
        )
        return sorted(str(r[0]) for r in rows)

    async def try_lock(self, name: str) -> bool:
        rows = await self._query("SELECT pg_try_advisory_lock(%s)", (lock_key(name),))
        return bool(rows[0][0])

    async def try_lock_many(self, names: Sequence[str]) -> set[str]:
        """Try every name's lock in one round trip (a replica joining a group of thousands
        of services takes a third of them at once); the names now held."""
        if not names:
            return set()
        rows = await self._query(
            "SELECT i, pg_try_advisory_lock(k)"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
            ([lock_key(n) for n in names],),
        )
        return {names[int(r[0]) - 1] for r in rows if r[1]}

    async def unlock(self, name: str) -> None:
        await self._query("SELECT pg_advisory_unlock(%s)", (lock_key(name),))

    async def notify_settings(self, what: str) -> None:
        await self._query("SELECT pg_notify(%s, %s)", (SETTINGS_CHANNEL, what))
