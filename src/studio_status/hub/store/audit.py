"""The audit trail: every admin action on the hub, who, what, when and with what result."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from studio_status.protocol.actions import AuditEntry

from .dialect import Conn
from .sqlite import SqlStore

__all__ = ["AuditStore"]


class AuditStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def add(
        self,
        at: datetime,
        actor: str,
        action: str,
        service: str | None,
        result: str,
        *,
        params: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        def write(conn: Conn) -> int:
            cur = conn.execute(
                "INSERT INTO audit_log (at, actor, action, service, params_json, result,"
                " detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    at.timestamp(),
                    actor,
                    action,
                    service,
                    json.dumps(params or {}, default=str),
                    result,
                    json.dumps(detail or {}, default=str),
                ),
            )
            return int(cur.lastrowid or 0)

        return await self._store.run(write)

    async def list(
        self,
        *,
        limit: int = 100,
        service: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Newest first; page with ``before_id`` (the last id of the previous page)."""

        def read(conn: Conn) -> list[AuditEntry]:
            sql = (
                "SELECT id, at, actor, action, service, params_json, result, detail_json"
                " FROM audit_log WHERE 1 = 1"
            )
            args: list[object] = []
            for column, value in (("service", service), ("action", action)):
                if value is not None:
                    sql += f" AND {column} = ?"
                    args.append(value)
            if before_id is not None:
                sql += " AND id < ?"
                args.append(before_id)
            rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
            return [
                AuditEntry(
                    id=r[0],
                    at=datetime.fromtimestamp(r[1], UTC),
                    actor=r[2],
                    action=r[3],
                    service=r[4],
                    params=json.loads(r[5]),
                    result=r[6],
                    detail=json.loads(r[7]),
                )
                for r in rows
            ]

        return await self._store.run(read)
