"""The PostgreSQL checker against a real server started for the session."""

from __future__ import annotations

import time

import pytest

from studio_status.hub.checks.postgres import PostgresChecker
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
