"""PostgreSQL checker: a real connection and a real query, as the application would make.

A fresh connection per check (no pool) is deliberate: "can a new client log in" is the
question, and a pooled connection would keep answering after ``max_connections`` is reached
or ``pg_hba.conf`` has been broken.

A query that hangs (a table lock, a stuck server) must not leave a backend behind at every
interval: the session's ``statement_timeout`` makes the server itself give up on the query
within the check's timeout, the query's own timeout sends a cancel request, and the
connection is closed either way.
"""

from __future__ import annotations

import math
import time
from typing import Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import PostgresSpec
from studio_status.protocol import HealthStatus

__all__ = ["APPLICATION_NAME", "PostgresChecker"]

#: how the checker's sessions show in ``pg_stat_activity``
APPLICATION_NAME = "studio-status check"
_CHECK_INTERVAL = "client_connection_check_interval"

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
        # the real clock, not the injectable latency clock: this is the time actually left
        deadline = time.monotonic() + self.timeout
        try:
            conn = await self._connect(with_check_interval=True)
        except asyncpg.PostgresError as exc:
            if _CHECK_INTERVAL not in str(exc):
                return self._failed(start, _describe_pg_error(exc))
            try:  # a server older than 14 does not know the setting
                conn = await self._connect(with_check_interval=False)
            except asyncpg.PostgresError as exc:
                return self._failed(start, _describe_pg_error(exc))
        try:
            result = await self._query(conn, start, deadline)
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

    async def _connect(self, *, with_check_interval: bool) -> Any:
        asyncpg = _asyncpg()
        settings = {
            "application_name": APPLICATION_NAME,
            # the server cancels a hung query itself, even if this side is gone
            "statement_timeout": str(math.ceil(self.timeout * 1000)),
        }
        if with_check_interval:
            # and notices within a second that a cancelled check closed its socket
            settings[_CHECK_INTERVAL] = "1000"
        return await asyncpg.connect(self.spec.dsn, timeout=self.timeout, server_settings=settings)

    async def _query(self, conn: Any, start: float, deadline: float) -> CheckResult:
        asyncpg = _asyncpg()
        # a little before the guard's own timeout, so the query's cancel is the one that fires
        left = max(0.01, deadline - time.monotonic() - 0.05)
        try:
            # on its timeout asyncpg sends the server a cancel request for the query
            rows = await conn.fetch(self.spec.query, timeout=left)
        except (TimeoutError, asyncpg.QueryCanceledError):
            return self._failed(
                start,
                f"query did not finish within {self.timeout:g} s (cancelled on the server)",
            )
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
