"""Alert storage: per-service configs, persisted alert state, the webhook outbox, mutes and
maintenance windows.

The outbox makes external sends durable: a notice is first a row, then a delivery attempt;
a hub that restarts mid-retry picks the row up again, and a row counts as sent only once a
send succeeded (``sent_at``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from studio_status.protocol.alerts import AlertConfig, MaintenanceWindow, Mute

from .dialect import Conn
from .sqlite import SqlStore

__all__ = ["AlertStore", "OutboxRow"]


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    alert_id: str
    service: str
    kind: str
    url: str
    payload: dict[str, Any]
    attempts: int
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None


class AlertStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- configs ----------------------------------------------------------------------

    async def load_configs(self) -> dict[str, AlertConfig]:
        def read(conn: Conn) -> dict[str, AlertConfig]:
            out = {}
            for name, delay, url, channels, enabled, extra in conn.execute(
                "SELECT service_name, escalation_delay_seconds, webhook_url,"
                " notification_channels_json, enabled, data_json FROM health_alert_configs"
            ):
                out[name] = AlertConfig.model_validate(
                    {
                        **json.loads(extra),
                        "escalation_delay_seconds": delay,
                        "webhook_url": url,
                        "channels": json.loads(channels),
                        "enabled": bool(enabled),
                    }
                )
            return out

        return await self._store.run(read)

    async def save_config(self, service: str, config: AlertConfig, at: datetime) -> None:
        core = {"escalation_delay_seconds", "webhook_url", "channels", "enabled"}
        extra = config.model_dump(mode="json", exclude=core)
        ts = at.timestamp()
        await self._store.run(
            lambda c: c.execute(
                "INSERT INTO health_alert_configs (service_name, escalation_delay_seconds,"
                " webhook_url, notification_channels_json, enabled, data_json, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(service_name) DO UPDATE"
                " SET escalation_delay_seconds = excluded.escalation_delay_seconds,"
                " webhook_url = excluded.webhook_url,"
                " notification_channels_json = excluded.notification_channels_json,"
                " enabled = excluded.enabled, data_json = excluded.data_json,"
                " updated_at = excluded.updated_at",
                (
                    service,
                    config.escalation_delay_seconds,
                    None if config.webhook_url is None else str(config.webhook_url),
                    json.dumps(config.channels),
                    int(config.enabled),
                    json.dumps(extra),
                    ts,
                    ts,
                ),
            )
        )

    # -- state ------------------------------------------------------------------------

    async def load_states(self) -> dict[str, dict[str, Any]]:
        def read(conn: Conn) -> dict[str, dict[str, Any]]:
            rows = conn.execute("SELECT service_name, data_json FROM alert_state").fetchall()
            return {r[0]: json.loads(r[1]) for r in rows}

        return await self._store.run(read)

    async def load_state(self, service: str) -> dict[str, Any] | None:
        """One service's saved state: a replica adopting a service reads its row, not the
        group's every row (an adoption per service would read all of them each time)."""

        def read(conn: Conn) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT data_json FROM alert_state WHERE service_name = ?", (service,)
            ).fetchone()
            return None if row is None else dict(json.loads(row[0]))

        return await self._store.run(read)

    async def save_states(
        self,
        states: dict[str, dict[str, Any]],
        outbox: Sequence[tuple[str, str, str, str, dict[str, Any]]],
        at: datetime,
    ) -> None:
        """States and the notices they produced, in one transaction: a state that says
        "escalated" never exists without its outbox row. ``outbox`` rows are
        (alert_id, service, kind, url, payload)."""
        ts = at.timestamp()

        def write(conn: Conn) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO alert_state (service_name, data_json, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(service_name) DO UPDATE SET data_json = excluded.data_json,"
                " updated_at = excluded.updated_at",
                [(name, json.dumps(data, default=str), ts) for name, data in states.items()],
            )
            conn.executemany(
                "INSERT INTO alert_outbox (alert_id, service_name, kind, url, payload_json,"
                " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(a, s, k, u, json.dumps(p, default=str), ts, ts) for a, s, k, u, p in outbox],
            )
            conn.execute("COMMIT")

        await self._store.run(write)

    # -- outbox -----------------------------------------------------------------------

    async def due(
        self,
        now: datetime,
        limit: int = 50,
        *,
        owner: str = "hub",
        lease_seconds: float = 120.0,
        alert_id: str | None = None,
    ) -> list[OutboxRow]:
        """Claim up to ``limit`` due rows for ``owner`` for ``lease_seconds`` and return them.

        The claim is one conditional UPDATE: on PostgreSQL the candidate rows are locked
        ``FOR UPDATE SKIP LOCKED`` (another hub claiming at the same moment takes other
        rows) and the outer condition is checked again on the locked row, so of several
        hubs sharing the database exactly one sends each notice. A claim that is never
        marked sent (the hub died mid-send) lapses after ``lease_seconds``, and the row is
        tried again. ``alert_id`` claims only that notice's rows."""
        ts = now.timestamp()
        only = "" if alert_id is None else " AND alert_id = ?"

        def claim(conn: Conn) -> list[OutboxRow]:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(
                "UPDATE alert_outbox SET claimed_by = ?, claimed_until = ?"
                " WHERE id IN (SELECT id FROM alert_outbox WHERE sent_at IS NULL"
                " AND failed_at IS NULL AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                + only
                + " ORDER BY id LIMIT ? /*SKIP LOCKED*/)"
                " AND sent_at IS NULL AND failed_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                " RETURNING id, alert_id, service_name, kind, url, payload_json, attempts",
                (
                    owner,
                    ts + lease_seconds,
                    ts,
                    ts,
                    *([] if alert_id is None else [alert_id]),
                    limit,
                    ts,
                ),
            ).fetchall()
            conn.execute("COMMIT")
            return sorted(
                (OutboxRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows),
                key=lambda r: r.id,
            )

        return await self._store.run(claim)

    async def next_due(self) -> datetime | None:
        """When the earliest unsent notice may next be claimed (its retry time, or the end
        of another sender's claim), None when nothing waits: what lets an idle hub sleep
        until then instead of claiming an empty outbox every few seconds."""

        def read(conn: Conn) -> float | None:
            row = conn.execute(
                "SELECT MIN(CASE WHEN claimed_until IS NOT NULL"
                " AND claimed_until > next_attempt_at THEN claimed_until"
                " ELSE next_attempt_at END)"
                " FROM alert_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            ).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return _dt(await self._store.run(read))

    async def outbox(self, limit: int = 200) -> list[OutboxRow]:
        def read(conn: Conn) -> list[OutboxRow]:
            rows = conn.execute(
                "SELECT id, alert_id, service_name, kind, url, payload_json, attempts, sent_at,"
                " failed_at, last_error FROM alert_outbox ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                OutboxRow(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    json.loads(r[5]),
                    r[6],
                    _dt(r[7]),
                    _dt(r[8]),
                    r[9],
                )
                for r in reversed(rows)
            ]

        return await self._store.run(read)

    async def mark_sent(self, row_id: int, at: datetime) -> None:
        await self._store.run(
            lambda c: c.execute(
                "UPDATE alert_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL,"
                " claimed_until = NULL WHERE id = ?",
                (at.timestamp(), row_id),
            )
        )

    async def mark_attempt(
        self, row_id: int, error: str, next_at: datetime | None, failed_at: datetime | None
    ) -> None:
        await self._store.run(
            lambda c: c.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at), failed_at = ?,"
                " claimed_until = NULL WHERE id = ?",
                (
                    error,
                    None if next_at is None else next_at.timestamp(),
                    None if failed_at is None else failed_at.timestamp(),
                    row_id,
                ),
            )
        )

    # -- mutes ------------------------------------------------------------------------

    async def load_mutes(self) -> list[Mute]:
        def read(conn: Conn) -> list[Mute]:
            rows = conn.execute(
                "SELECT scope, until_at, reason, set_by, set_at FROM alert_mutes"
            ).fetchall()
            return [
                Mute(
                    service=None if r[0] == "*" else r[0],
                    until=_dt(r[1]),
                    reason=r[2],
                    set_by=r[3],
                    set_at=datetime.fromtimestamp(r[4], UTC),
                )
                for r in rows
            ]

        return await self._store.run(read)

    async def set_mute(self, mute: Mute) -> None:
        await self._store.run(
            lambda c: c.execute(
                "INSERT INTO alert_mutes (scope, until_at, reason, set_by, set_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET"
                " until_at = excluded.until_at, reason = excluded.reason,"
                " set_by = excluded.set_by, set_at = excluded.set_at",
                (
                    mute.service or "*",
                    None if mute.until is None else mute.until.timestamp(),
                    mute.reason,
                    mute.set_by,
                    mute.set_at.timestamp(),
                ),
            )
        )

    async def clear_mute(self, service: str | None) -> bool:
        return await self._store.run(
            lambda c: (
                c.execute("DELETE FROM alert_mutes WHERE scope = ?", (service or "*",)).rowcount > 0
            )
        )

    # -- maintenance ------------------------------------------------------------------

    async def load_maintenance(self) -> list[MaintenanceWindow]:
        def read(conn: Conn) -> list[MaintenanceWindow]:
            rows = conn.execute(
                "SELECT id, service_name, start_at, end_at, every_seconds, until_at, reason,"
                " created_by FROM maintenance_windows ORDER BY start_at"
            ).fetchall()
            return [
                MaintenanceWindow(
                    id=r[0],
                    service=r[1],
                    start=datetime.fromtimestamp(r[2], UTC),
                    end=datetime.fromtimestamp(r[3], UTC),
                    every_seconds=r[4],
                    until=_dt(r[5]),
                    reason=r[6],
                    created_by=r[7],
                )
                for r in rows
            ]

        return await self._store.run(read)

    async def add_maintenance(self, window: MaintenanceWindow, at: datetime) -> None:
        await self._store.run(
            lambda c: c.execute(
                "INSERT INTO maintenance_windows (id, service_name, start_at, end_at,"
                " every_seconds, until_at, reason, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    window.id,
                    window.service,
                    window.start.timestamp(),
                    window.end.timestamp(),
                    window.every_seconds,
                    None if window.until is None else window.until.timestamp(),
                    window.reason,
                    window.created_by,
                    at.timestamp(),
                ),
            )
        )

    async def delete_maintenance(self, window_id: str) -> bool:
        return await self._store.run(
            lambda c: (
                c.execute("DELETE FROM maintenance_windows WHERE id = ?", (window_id,)).rowcount > 0
            )
        )
