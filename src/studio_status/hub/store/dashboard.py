"""SQL of the studio pulse: the activity feed, per-token dashboards, per-project job counts.

Runs on the store's one thread through :meth:`SqlStore.run`, like the other store
modules beside :mod:`.sqlite`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from studio_status.protocol.dashboard import ActivityItem

from .dialect import Conn
from .sqlite import SqlStore

__all__ = ["DashboardStore"]


class DashboardStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- activity ---------------------------------------------------------------------

    async def add_activity(self, items: Sequence[ActivityItem], keep: int) -> None:
        """Insert ``items`` and trim the feed to the newest ``keep`` rows."""

        def write(conn: Conn) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO activity_feed (id, ts, category, project_id, admin_only,"
                " data_json) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                [
                    (i.id, i.ts.timestamp(), i.category, i.project_id, int(i.admin_only),
                     i.model_dump_json())
                    for i in items
                ],
            )  # fmt: skip
            conn.execute(
                "DELETE FROM activity_feed WHERE id <= (SELECT MAX(id) FROM activity_feed) - ?",
                (keep,),
            )
            conn.execute("COMMIT")

        await self._store.run(write)

    async def activity(
        self,
        *,
        limit: int,
        offset: int,
        admin: bool,
        category: str | None = None,
        project_id: str | None = None,
    ) -> tuple[list[ActivityItem], bool]:
        """Newest first; returns the page and whether more follow."""

        def read(conn: Conn) -> tuple[list[ActivityItem], bool]:
            where: list[str] = []
            args: list[str] = []
            if not admin:
                where.append("admin_only = 0")
            if category is not None:
                where.append("category = ?")
                args.append(category)
            if project_id is not None:
                where.append("project_id = ?")
                args.append(project_id)
            sql = "SELECT data_json FROM activity_feed"
            if where:
                sql += " WHERE " + " AND ".join(where)
            rows = conn.execute(
                sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit + 1, offset)
            ).fetchall()
            items = [ActivityItem.model_validate_json(r[0]) for r in rows[:limit]]
            return items, len(rows) > limit

        return await self._store.run(read)

    # -- dashboards -------------------------------------------------------------------

    async def dashboard(self, token_id: str) -> tuple[dict[str, Any], datetime] | None:
        def read(conn: Conn) -> tuple[dict[str, Any], datetime] | None:
            row = conn.execute(
                "SELECT data_json, updated_at FROM user_dashboards WHERE token_id = ?",
                (token_id,),
            ).fetchone()
            if row is None:
                return None
            return json.loads(row[0]), datetime.fromtimestamp(row[1], UTC)

        return await self._store.run(read)

    async def save_dashboard(self, token_id: str, data: dict[str, Any], at: datetime) -> None:
        await self._store.run(
            lambda c: c.execute(
                "INSERT INTO user_dashboards (token_id, data_json, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(token_id) DO UPDATE SET data_json = excluded.data_json,"
                " updated_at = excluded.updated_at",
                (token_id, json.dumps(data), at.timestamp()),
            )
        )

    # -- projects ---------------------------------------------------------------------

    async def project_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """Jobs per project and status, of projects with a job updated since ``since``."""

        def read(conn: Conn) -> dict[str, dict[str, int]]:
            rows = conn.execute(
                "SELECT json_extract(data_json, '$.project'), status, COUNT(*) FROM jobs"
                " WHERE json_extract(data_json, '$.project') IN (SELECT DISTINCT"
                " json_extract(data_json, '$.project') FROM jobs WHERE updated_at >= ?)"
                " GROUP BY json_extract(data_json, '$.project'), status",
                (since.timestamp(),),
            ).fetchall()
            out: dict[str, dict[str, int]] = {}
            for project, status, count in rows:
                out.setdefault(str(project), {})[status] = int(count)
            return out

        return await self._store.run(read)
