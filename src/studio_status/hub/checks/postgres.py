"""PostgreSQL checker: a real connection and a real query, as the application would make.

A fresh connection per check (no pool) is deliberate: "can a new client log in" is the
question, and a pooled connection would keep answering after ``max_connections`` is reached
or ``pg_hba.conf`` has been broken.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import PostgresSpec
from studio_status.protocol import HealthStatus

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresChecker"]

# One round trip for everything cheap that helps a diagnosis.
_INFO_QUERY = """
SELECT current_setting('server_version') AS server_version,
       pg_is_in_recovery() AS in_recovery,
       current_database() AS database,
       (SELECT count(*) FROM pg_stat_activity) AS connections,
       current_setting('max_connections')::int AS max_connections
"""


def _asyncpg() -> Any:
    """asyncpg, imported when a PostgreSQL check first runs: a hub without one (the app's
    own hub) never loads it (11 MB)."""
    import asyncpg

    return asyncpg


def _describe_pg_error(exc: Exception) -> str:
    asyncpg = _asyncpg()
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return f"authentication failed: {exc}"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return f"authorization failed: {exc}"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"database not found: {exc}"
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return f"too many connections: {exc}"
    return f"{type(exc).__name__}: {exc}"


class PostgresChecker(GuardedChecker):
    kind = "postgres"

    def __init__(
        self, spec: PostgresSpec, timeout: float, *, clock: Clock = time.perf_counter
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec

    async def probe(self, start: float) -> CheckResult:
        asyncpg = _asyncpg()
        try:
            conn = await asyncpg.connect(self.spec.dsn, timeout=self.timeout)
        except asyncpg.PostgresError as exc:
            return self._failed(start, _describe_pg_error(exc))
        try:
            result = await self._query(conn, start)
        except BaseException:
            # A hung or cancelled session must not wait for a polite goodbye.
            conn.terminate()
            raise
        try:
            await conn.close(timeout=self.timeout)
        except Exception:
            # The answer is in; a server slow to say goodbye must not turn it into a failure.
            conn.terminate()
        return result

    async def _query(self, conn: asyncpg.Connection, start: float) -> CheckResult:
        asyncpg = _asyncpg()
        try:
            rows = await conn.fetch(self.spec.query)
        except asyncpg.PostgresError as exc:
            return self._failed(start, f"query failed: {_describe_pg_error(exc)}")
        latency = elapsed_ms(start, self.clock)
        info = await conn.fetchrow(_INFO_QUERY)

        details: dict[str, Any] = {"rows": len(rows)}
        if info is not None:
            details.update(
                server_version=info["server_version"],
                in_recovery=info["in_recovery"],
                database=info["database"],
                connections=info["connections"],
                max_connections=info["max_connections"],
            )
        if latency > self.spec.degraded_ms:
            message = f"slow query: {latency} ms (threshold {self.spec.degraded_ms} ms)"
            return CheckResult(HealthStatus.DEGRADED, latency, message, details)
        return CheckResult(HealthStatus.HEALTHY, latency, None, details)

    def _failed(self, start: float, message: str) -> CheckResult:
        return CheckResult(HealthStatus.DOWN, elapsed_ms(start, self.clock), message, {})
