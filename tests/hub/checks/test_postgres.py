"""The PostgreSQL checker against a real server started for the session."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from studio_status.hub.checks.postgres import APPLICATION_NAME, PostgresChecker
from studio_status.hub.checks.specs import PostgresSpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer
from tests.hub.checks.helpers import BOUND, TIMEOUT, SteppingClock
from tests.hub.checks.servers import Behaviour, free_port
from tests.pgserver import PgServer

# Connecting includes a SCRAM handshake: give it more room than a bare HTTP request.
PG_TIMEOUT = TIMEOUT * 4


@pytest.mark.postgres
async def test_real_server_is_healthy_with_version(postgres_dsn: str) -> None:
    result = await PostgresChecker(PostgresSpec(dsn=postgres_dsn), PG_TIMEOUT).check()

    assert result.status is HealthStatus.HEALTHY, result.error_message
    assert result.details["server_version"][0].isdigit()
    assert result.details["in_recovery"] is False
    assert result.details["database"] == "postgres"
    assert 1 <= result.details["connections"] <= result.details["max_connections"]
    assert result.details["rows"] == 1


@pytest.mark.postgres
async def test_configured_query_is_run(postgres_dsn: str) -> None:
    spec = PostgresSpec(dsn=postgres_dsn, query="SELECT * FROM generate_series(1, 3)")
    result = await PostgresChecker(spec, PG_TIMEOUT).check()

    assert result.status is HealthStatus.HEALTHY
    assert result.details["rows"] == 3


@pytest.mark.postgres
async def test_slow_query_is_degraded(postgres_dsn: str) -> None:
    spec = PostgresSpec(dsn=postgres_dsn, degraded_ms=500)
    result = await PostgresChecker(spec, PG_TIMEOUT, clock=SteppingClock(0.75)).check()

    assert result.status is HealthStatus.DEGRADED
    assert result.error_message == "slow query: 750 ms (threshold 500 ms)"
    assert "server_version" in result.details


@pytest.mark.postgres
async def test_wrong_password_is_down(postgres_server: PgServer) -> None:
    spec = PostgresSpec(dsn=postgres_server.dsn_with(password="not-the-password"))
    result = await PostgresChecker(spec, PG_TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == (
        f'authentication failed: password authentication failed for user "{postgres_server.user}"'
    )
    assert "not-the-password" not in repr(result)


@pytest.mark.postgres
async def test_missing_database_is_down(postgres_server: PgServer) -> None:
    spec = PostgresSpec(dsn=postgres_server.dsn_with(database="no_such_db"))
    result = await PostgresChecker(spec, PG_TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert (result.error_message or "").startswith("database not found:")


@pytest.mark.postgres
async def test_failing_query_is_down(postgres_dsn: str) -> None:
    spec = PostgresSpec(dsn=postgres_dsn, query="SELECT * FROM no_such_table")
    result = await PostgresChecker(spec, PG_TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == (
        'query failed: UndefinedTableError: relation "no_such_table" does not exist'
    )


@pytest.mark.postgres
async def test_checks_leave_no_sessions_behind(postgres_dsn: str) -> None:
    checker = PostgresChecker(PostgresSpec(dsn=postgres_dsn), PG_TIMEOUT)
    before = (await checker.check()).details["connections"]
    for _ in range(3):
        await checker.check()
    after = (await checker.check()).details["connections"]

    assert after == before


async def test_refused_is_down() -> None:
    dsn = f"postgresql://studio:x@127.0.0.1:{free_port()}/postgres"
    result = await PostgresChecker(PostgresSpec(dsn=dsn), TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "connection refused"
    assert "studio:x" not in repr(result)


async def test_server_that_never_answers_times_out(start_server: StartServer) -> None:
    silent = await start_server(behaviour=Behaviour.SILENT)
    dsn = f"postgresql://studio:x@127.0.0.1:{silent.port}/postgres"
    started = time.monotonic()
    result = await PostgresChecker(PostgresSpec(dsn=dsn), TIMEOUT).check()
    elapsed = time.monotonic() - started

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"no answer within {TIMEOUT:g} s"
    assert elapsed < BOUND


async def checker_sessions(observer: asyncpg.Connection, *, waiting: bool = False) -> int:
    """The checker's sessions on the server; asked on a connection outside any transaction
    (inside one, ``pg_stat_activity`` is a snapshot taken at its first read)."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
    if waiting:
        query += " AND wait_event_type = 'Lock'"
    count: int = await observer.fetchval(query, APPLICATION_NAME)
    return count


async def until_no_checker_sessions(observer: asyncpg.Connection, limit: float) -> int:
    """Poll until the server has reaped the checker's sessions (it does so on its own
    schedule; there is no event to wait on), or ``limit`` seconds have passed."""
    deadline = time.monotonic() + limit
    # a server's table: there is no event to wait on
    while (count := await checker_sessions(observer)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return count


@contextlib.asynccontextmanager
async def locked_table(dsn: str, name: str) -> AsyncIterator[asyncpg.Connection]:
    """A table held in ACCESS EXCLUSIVE mode by an open transaction; yields an observer."""
    holder = await asyncpg.connect(dsn)
    observer = await asyncpg.connect(dsn)
    try:
        await holder.execute(f"CREATE TABLE IF NOT EXISTS {name} (x int)")
        await holder.execute("BEGIN")
        await holder.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        yield observer
    finally:
        await holder.execute("ROLLBACK")
        await holder.execute(f"DROP TABLE IF EXISTS {name}")
        await holder.close()
        await observer.close()


@pytest.mark.postgres
async def test_hung_query_is_cancelled_on_the_server(postgres_dsn: str) -> None:
    """A query waiting on a table lock: down within the timeout, and no backend left
    running it on the server (it used to stay, one more at every interval)."""
    async with locked_table(postgres_dsn, "held") as observer:
        spec = PostgresSpec(dsn=postgres_dsn, query="SELECT * FROM held")
        checks = [
            asyncio.ensure_future(PostgresChecker(spec, PG_TIMEOUT).check()) for _ in range(3)
        ]
        async with asyncio.timeout(10):  # all three reached the lock and wait on it
            while await checker_sessions(observer, waiting=True) < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        started = time.monotonic()
        results = await asyncio.gather(*checks)
        assert time.monotonic() - started < PG_TIMEOUT + BOUND
        for result in results:
            assert result.status is HealthStatus.DOWN
            assert "did not finish within" in (result.error_message or "")
        # the lock is still held: the queries ended because they were cancelled
        assert await until_no_checker_sessions(observer, 10) == 0


@pytest.mark.postgres
async def test_hung_query_cancelled_from_outside_leaves_no_backend(postgres_dsn: str) -> None:
    """The scheduler cancelling the check mid-query, long before the checker's own bound:
    the server notices the closed session and ends it too."""
    async with locked_table(postgres_dsn, "held2") as observer:
        spec = PostgresSpec(dsn=postgres_dsn, query="SELECT * FROM held2")
        task = asyncio.ensure_future(PostgresChecker(spec, 60).check())
        async with asyncio.timeout(30):
            while not await checker_sessions(observer, waiting=True):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await until_no_checker_sessions(observer, 10) == 0
