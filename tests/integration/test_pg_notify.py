"""Seed 003 end to end: a real PostgreSQL with the seed's functions and triggers, rows
changed, events arriving on a real hub socket — and the listener surviving a killed backend.

The schema is the smallest one the seed's SQL runs on: ``public.import_job``,
``worker.tasks`` and ``worker.command_registry``. The seed's ``is_system_stable()``,
``notify_system_stability_change()`` and triggers are applied as written; the
``import_job_progress`` trigger (the seed names the channel, not its SQL) sends the row.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from websockets.asyncio.client import ClientConnection

from studio_status.client import ConnectionState, StatusClient, StatusStore
from studio_status.client.state import StatusState
from studio_status.hub.sources.pg_notify import PgNotifySource, PgPayloads, job_state
from studio_status.hub.sources.specs import PgNotifySpec, SourcesConfig
from studio_status.protocol import HealthStatus, Role, StabilityState
from studio_status.ui import formats
from tests.hubrunner import recv_json, recv_until, run_hub, wait_for_status
from tests.pgserver import PgServer, postgres_server_fixture
from tests.reliability.tape import wait_state

postgres_server = postgres_server_fixture()

SCHEMA = """
CREATE SCHEMA worker;
CREATE TABLE public.import_job (
    id SERIAL PRIMARY KEY,
    slug TEXT NOT NULL,
    state TEXT NOT NULL,
    total_rows INTEGER,
    imported_rows INTEGER,
    priority INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE worker.command_registry (command TEXT PRIMARY KEY, queue TEXT NOT NULL);
CREATE TABLE worker.tasks (
    id BIGSERIAL PRIMARY KEY,
    command TEXT NOT NULL REFERENCES worker.command_registry(command),
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    duration_ms INTEGER
);
INSERT INTO worker.command_registry VALUES ('derive_statistics', 'analytics');
"""

# seed 003, "Database Implementation" 1-3, as written
SEED_SQL = """
CREATE OR REPLACE FUNCTION public.is_system_stable()
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    has_active_jobs boolean;
BEGIN
    SELECT EXISTS (
        SELECT 1 FROM public.import_job
        WHERE state NOT IN ('finished', 'rejected', 'waiting_for_review', 'waiting_for_upload')

        UNION ALL

        SELECT 1 FROM worker.tasks t
        JOIN worker.command_registry cr ON t.command = cr.command
        WHERE cr.queue = 'analytics'
          AND t.state IN ('pending', 'processing')
        LIMIT 1
    ) INTO has_active_jobs;

    RETURN NOT has_active_jobs;
END;
$$;

CREATE OR REPLACE FUNCTION public.notify_system_stability_change()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    is_stable boolean;
BEGIN
    SELECT public.is_system_stable() INTO is_stable;
    PERFORM pg_notify(
        'system_stability',
        json_build_object('stable', is_stable)::text
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER notify_system_stability_on_import_job_change
AFTER INSERT OR UPDATE OF state ON public.import_job
FOR EACH STATEMENT
EXECUTE FUNCTION public.notify_system_stability_change();

CREATE TRIGGER notify_system_stability_on_task_change
AFTER INSERT OR UPDATE OF state ON worker.tasks
FOR EACH STATEMENT
EXECUTE FUNCTION public.notify_system_stability_change();
"""

PROGRESS_SQL = """
CREATE FUNCTION public.notify_import_job_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('import_job_progress', row_to_json(NEW)::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER notify_import_job_progress AFTER INSERT OR UPDATE ON public.import_job
FOR EACH ROW EXECUTE FUNCTION public.notify_import_job_progress();
"""


@pytest.fixture
async def platform_dsn(postgres_server: PgServer) -> AsyncIterator[str]:
    """A fresh database with the seed's schema, dropped afterwards."""
    name = f"platform_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        dsn = postgres_server.dsn_with(database=name)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(SCHEMA + SEED_SQL + PROGRESS_SQL)
        finally:
            await conn.close()
        yield dsn
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


async def next_event(ws: ClientConnection, *types: str) -> dict[str, Any]:
    """The next event of one of ``types`` (footer refreshes and heartbeats skipped)."""
    while True:
        msg = await recv_json(ws)
        if msg.get("type") in types:
            return msg


@pytest.mark.postgres
async def test_seed_triggers_reach_a_hub_socket_and_survive_a_killed_backend(
    tmp_path: Path, platform_dsn: str
) -> None:
    spec = PgNotifySpec(
        name="platform",
        dsn=platform_dsn,
        channels=["system_stability", "import_job_progress"],
        stability_query="SELECT public.is_system_stable()",
        reconnect_initial_seconds=0.05,
    )
    async with run_hub(tmp_path, [], sources=SourcesConfig(postgres=[spec])) as h:
        source = h.hub.sources[0]
        assert isinstance(source, PgNotifySource)
        while source.connects < 1:
            source.changed.clear()
            await source.changed.wait()
        assert source.payloads.stable is True  # from the stability query, before any NOTIFY
        creator = await h.token(Role.CREATOR)
        topics = ["system", "jobs", "job_progress"]
        async with h.socket(creator, topics) as ws:
            await recv_until(ws, "snapshot")

            db = await asyncpg.connect(platform_dsn)
            try:
                await db.execute(
                    "INSERT INTO import_job (slug, state, total_rows, imported_rows)"
                    " VALUES ('census-2026', 'analysing_data', 200, 0)"
                )
                events = [
                    await next_event(ws, "system.stability_changed", "job.status_changed")
                    for _ in range(2)
                ]
                by_type = {e["type"]: e["data"] for e in events}
                assert by_type["system.stability_changed"]["state"] == "processing"
                job = by_type["job.status_changed"]["job"]
                assert job["status"] == "running" and job["type"] == "census-2026"
                job_id = job["id"]
                assert job_id == "pg:platform:import_job_progress:1"

                await db.execute("UPDATE import_job SET imported_rows = 50 WHERE id = 1")
                progress = await next_event(ws, "job.progress")
                assert (progress["data"]["job_id"], progress["data"]["progress"]) == (job_id, 25.0)

                # the listener's backend is killed: it reconnects and asks again
                killed = await db.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'studio-status-hub:platform'"
                )
                assert killed == 1
                while source.connects < 2:
                    source.changed.clear()
                    await source.changed.wait()

                await db.execute(
                    "UPDATE import_job SET state = 'finished', imported_rows = 200 WHERE id = 1"
                )
                events = [
                    await next_event(ws, "system.stability_changed", "job.status_changed")
                    for _ in range(2)
                ]
                by_type = {e["type"]: e["data"] for e in events}
                assert by_type["system.stability_changed"]["state"] == "stable"
                assert by_type["job.status_changed"]["job"]["status"] == "completed"
                assert by_type["job.status_changed"]["job"]["progress"] == 100.0

                # an analytics task alone makes the system busy (no job row on that channel)
                await db.execute(
                    "INSERT INTO worker.tasks (command, state) VALUES ('derive_statistics',"
                    " 'processing')"
                )
                busy = await next_event(ws, "system.stability_changed")
                assert busy["data"]["state"] == "processing"
            finally:
                await db.close()
        assert source.connects == 2


def test_payload_rules() -> None:
    p = PgPayloads("db")
    assert p.stability('{"stable": true}') is not None
    assert p.stability('{"stable": true}') is None  # repeated: nothing new
    changed = p.stability('{"state": "processing", "active_jobs": 3}')
    assert changed is not None and changed.active_jobs == 3
    assert p.stability("not json at all") is None and p.ignored == 1
    assert job_state("waiting_for_upload") == "queued"
    assert job_state("importing_data") == "running"
    assert job_state("rejected") == "cancelled"
    (created,) = p.job("jobs", '{"id": 7, "state": "pending", "project": "trailer"}')
    assert (created.kind, created.job_id, created.project) == ("created", "pg:db:jobs:7", "trailer")
    started, progress = p.job("jobs", '{"id": 7, "state": "rendering", "progress": 12.5}')
    assert (started.kind, progress.progress) == ("started", 12.5)
    assert p.job("jobs", '{"id": 7, "state": "rendering", "progress": 12.5}') == []
    (failed,) = p.job("jobs", '{"id": 7, "state": "failed"}')
    assert (failed.kind, failed.error) == ("failed", "state failed")
    assert p.job("jobs", "[1, 2]") == [] and p.job("jobs", '{"state": "x"}') == []


@pytest.mark.postgres
def test_only_jobs_heard_on_the_open_connection_are_vouched_for() -> None:
    """A silent job is vouched for while the connection it was heard on holds; after a
    reconnect its end may have been missed, so it is not, until a row of it arrives."""
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    p = PgPayloads("db", active_job_ids=["pg:db:jobs:1"])  # known from the last hub run
    p.connected()
    p.job("jobs", '{"id": 2, "state": "importing_data"}')
    p.job("jobs", '{"id": 3, "state": "importing_data"}')
    p.job("jobs", '{"id": 3, "state": "finished"}')
    (alive,) = p.vouch(at)
    assert (alive.kind, alive.job_id, alive.at) == ("alive", "pg:db:jobs:2", at)
    p.connected()  # the connection was lost and reopened
    assert p.vouch(at) == []
    p.job("jobs", '{"id": 1, "state": "importing_data", "progress": 40}')
    assert [e.job_id for e in p.vouch(at)] == ["pg:db:jobs:1"]


async def until(source: PgNotifySource, done: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not done():
            source.changed.clear()
            await source.changed.wait()


@pytest.mark.postgres
async def test_listener_is_a_service_with_its_own_health_and_state_on_connect(
    tmp_path: Path, platform_dsn: str, postgres_server: PgServer
) -> None:
    """The listener's loss shows (its service goes down with the reason, and comes back),
    its backoff starts over after every connection that held, and every client gets the
    current stability state on connect: in the snapshot and from the REST route."""
    spec = PgNotifySpec(
        name="platform",
        dsn=platform_dsn,
        channels=["system_stability"],
        stability_query="SELECT public.is_system_stable()",
        reconnect_initial_seconds=0.05,
        reconnect_max_seconds=0.4,
    )
    async with run_hub(tmp_path, [], sources=SourcesConfig(postgres=[spec])) as h:
        hub = h.hub
        source = hub.sources[0]
        assert isinstance(source, PgNotifySource)
        await wait_for_status(hub, "pg_notify.platform", HealthStatus.HEALTHY, 20)
        creator = await h.token(Role.CREATOR)
        db = await asyncpg.connect(platform_dsn)
        server = await asyncpg.connect(postgres_server.dsn)
        name = await db.fetchval("SELECT current_database()")
        try:
            await db.execute("INSERT INTO import_job (slug, state) VALUES ('x', 'analysing')")
            await until(source, lambda: source.payloads.stable is False)
            async with h.socket(creator, ["system"]) as ws:
                snapshot = await recv_until(ws, "snapshot")
                assert snapshot["data"]["stability"] == {
                    "state": "processing",
                    "active_jobs": None,
                    "listening": True,
                }
            async with h.http(creator) as http:
                r = await http.get("/api/v1/status/stability")
                assert r.json()["data"]["state"] == "processing"

            # the listener loses its connection: its service says so, and why
            connects = source.connects
            await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'studio-status-hub:platform'"
            )
            await until(source, lambda: source.connects > connects)  # and it is back
            await wait_for_status(hub, "pg_notify.platform", HealthStatus.HEALTHY, 20)
            (down, up) = [t for t in hub.state.transitions if t.service == "pg_notify.platform"][
                -2:
            ]
            assert down.status is HealthStatus.DOWN and up.status is HealthStatus.HEALTHY
            assert "not listening" in (down.error_message or "")
            # it listened again: the next loss starts the backoff from its first step
            assert source.delay_cap == spec.reconnect_initial_seconds

            # a run of failed attempts doubles the wait up to the cap ...
            await server.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
            await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'studio-status-hub:platform'"
            )
            await until(source, lambda: source.delay_cap >= spec.reconnect_max_seconds)
            async with h.http(creator) as http:
                r = await http.get("/api/v1/status/stability")
                assert r.json()["data"] == {
                    "state": "processing",
                    "active_jobs": None,
                    "listening": False,
                }
            # ... and one connection that holds resets it
            await server.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
            connects = source.connects
            await until(source, lambda: source.connects > connects)
            await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'studio-status-hub:platform'"
            )
            await until(source, lambda: not source.connected)
            assert source.delay_cap == spec.reconnect_initial_seconds
        finally:
            await db.close()
            await server.close()


@pytest.mark.postgres
async def test_a_silent_job_keeps_its_lease_while_the_listener_holds(
    tmp_path: Path, platform_dsn: str
) -> None:
    """An import that writes no row for a while is not stalled: each keepalive of the
    connection it was heard on renews its lease."""
    spec = PgNotifySpec(
        name="platform",
        dsn=platform_dsn,
        channels=["import_job_progress"],
        keepalive_seconds=0.05,
    )
    async with run_hub(tmp_path, [], sources=SourcesConfig(postgres=[spec])) as h:
        source = h.hub.sources[0]
        assert isinstance(source, PgNotifySource)
        await until(source, lambda: source.connected)
        db = await asyncpg.connect(platform_dsn)
        try:
            job_id = "pg:platform:import_job_progress:" + str(
                await db.fetchval(
                    "INSERT INTO import_job (slug, state) VALUES ('x', 'importing_data')"
                    " RETURNING id"
                )
            )
        finally:
            await db.close()
        jobs = h.hub.jobs
        await until(source, lambda: jobs.vouched_at(job_id) is not None)
        first = jobs.vouched_at(job_id)
        assert first is not None
        await until(source, lambda: (jobs.vouched_at(job_id) or first) > first)
        assert jobs.jobs[job_id].status.value == "running"


async def test_stability_route_without_a_listener_is_404(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        assert (await http.get("/api/v1/status/stability")).status_code == 404
        async with h.socket(h.admin_token) as ws:
            assert (await recv_until(ws, "snapshot"))["data"]["stability"] is None


@pytest.mark.postgres
async def test_the_app_shows_stability_from_its_first_snapshot(
    tmp_path: Path, platform_dsn: str
) -> None:
    """A desktop client that connects while the platform is busy (or after it settled)
    says "Processing Data" (or "System Stable") from its first snapshot, with no change
    having to happen first; before, it said "System Stable" until the next change."""
    spec = PgNotifySpec(
        name="platform",
        dsn=platform_dsn,
        channels=["system_stability"],
        stability_query="SELECT public.is_system_stable()",
    )
    async with run_hub(tmp_path, [], sources=SourcesConfig(postgres=[spec])) as h:
        source = h.hub.sources[0]
        assert isinstance(source, PgNotifySource)
        await wait_for_status(h.hub, "pg_notify.platform", HealthStatus.HEALTHY, 20)
        creator = await h.token(Role.CREATOR)
        db = await asyncpg.connect(platform_dsn)
        try:
            await db.execute("INSERT INTO import_job (slug, state) VALUES ('x', 'analysing')")
            await until(source, lambda: source.payloads.stable is False)
            state = await first_live_state(h.url, creator)
            assert state.stability is StabilityState.PROCESSING
            assert formats.overall_text(state) == "Processing Data"

            await db.execute("UPDATE import_job SET state = 'finished'")
            await until(source, lambda: source.payloads.stable is True)
            state = await first_live_state(h.url, creator)
            assert state.stability is StabilityState.STABLE
            assert formats.overall_text(state) == "System Stable"
        finally:
            await db.close()


async def first_live_state(url: str, token: str) -> StatusState:
    """The store's state as the first snapshot left it (the client is closed right away)."""
    store = StatusStore()
    client = StatusClient(url, store, token=token, open_timeout=5, request_timeout=5)
    client.start()
    try:
        return await wait_state(store, lambda s: s.connection is ConnectionState.LIVE)
    finally:
        await client.aclose()
