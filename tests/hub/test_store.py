"""The store, on SQLite and on PostgreSQL: windows close and open in one transaction, events and
tokens persist, the schema is versioned."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studio_status.hub.store import create_store
from studio_status.hub.store.alerts import AlertStore
from studio_status.hub.store.postgres import PostgresStore
from studio_status.hub.store.schema import MIGRATIONS
from studio_status.hub.store.sqlite import CheckWrite, SqliteStore, StoreError
from studio_status.protocol import Event, HealthStatus, Role
from tests.pgserver import PgServer

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def check(
    service: str, status: HealthStatus, minutes: float, error: str | None = None
) -> CheckWrite:
    return CheckWrite(service, status, 5, error, {"n": minutes}, T0 + timedelta(minutes=minutes))


async def test_every_check_recorded_and_windows_follow_transitions(database: Path | str) -> None:
    store = create_store(database)
    await store.open()
    try:
        await store.write_batch(
            [
                check("db", HealthStatus.HEALTHY, 0),
                check("db", HealthStatus.HEALTHY, 1),
                check("db", HealthStatus.DOWN, 2, "refused"),
            ],
            [],
        )
        await store.write_batch(
            [check("db", HealthStatus.DOWN, 3), check("db", HealthStatus.HEALTHY, 4)], []
        )
        history = await store.history("db", T0 - timedelta(hours=1), 100)
        assert [c.status for c in history] == [
            HealthStatus.HEALTHY,
            HealthStatus.HEALTHY,
            HealthStatus.DOWN,
            HealthStatus.DOWN,
            HealthStatus.HEALTHY,
        ]
        assert history[2].error_message == "refused" and history[2].details == {"n": 2}
        windows = await store.windows("db")
        assert [(w.status, w.duration_seconds) for w in windows] == [
            (HealthStatus.HEALTHY, 120),
            (HealthStatus.DOWN, 120),
            (HealthStatus.HEALTHY, None),
        ]
        assert windows[0].ended_at == T0 + timedelta(minutes=2)
        assert [w.ended_at for w in windows].count(None) == 1
        open_ = await store.open_windows()
        assert open_["db"].status is HealthStatus.HEALTHY
        assert open_["db"].started_at == T0 + timedelta(minutes=4)
        transitions = await store.recent_transitions(10)
        assert [(t.previous, t.status) for t in transitions] == [
            (None, HealthStatus.HEALTHY),
            (HealthStatus.HEALTHY, HealthStatus.DOWN),
            (HealthStatus.DOWN, HealthStatus.HEALTHY),
        ]
        last = await store.last_checks()
        assert last["db"].checked_at == T0 + timedelta(minutes=4)
    finally:
        await store.close()


async def test_one_open_window_per_service_is_a_database_rule(database: Path | str) -> None:
    store = create_store(database)
    await store.open()
    try:
        await store.write_batch([check("db", HealthStatus.HEALTHY, 0)], [])
        with pytest.raises(StoreError, match=r"(?i)unique"):
            await store.run(
                lambda c: c.execute(
                    "INSERT INTO uptime_records (service_name, status, started_at, created_at,"
                    " updated_at) VALUES ('db', 'down', 1, 1, 1)"
                )
            )
        assert len(await store.windows("db")) == 1
    finally:
        await store.close()


async def test_events_persist_and_page(database: Path | str) -> None:
    store = create_store(database)
    await store.open()
    events = [
        Event(seq=i, type="job.progress", ts=T0, data={"job_id": "j", "progress": i})
        for i in range(1, 6)
    ]
    await store.write_batch([], events)
    if isinstance(store, PostgresStore):
        # the database numbers events at commit, in commit order, whatever the bus said
        await store.write_batch([], [e.model_copy(update={"seq": 0}) for e in events[:2]])
        assert await store.max_seq() == 7
        assert [e.data["progress"] for e in await store.events_after(4, 10)] == [5, 1, 2]
        await store.run(lambda c: c.execute("DELETE FROM events WHERE seq > 5"))
    else:
        await store.write_batch([], events[:2])  # a retried batch must not duplicate
    assert await store.max_seq() == 5
    got = await store.events_after(2, 2)
    assert [e.seq for e in got] == [3, 4] and got[0].data["progress"] == 3
    hub_id = await store.hub_id()
    await store.close()
    again = create_store(database)
    await again.open()
    assert await again.hub_id() == hub_id
    assert await again.max_seq() == 5
    await again.close()


async def test_prune_batches_old_checks_and_trims_event_log(database: Path | str) -> None:
    store = create_store(database)
    await store.open()
    await store.write_batch(
        [check("db", HealthStatus.HEALTHY, m) for m in range(10)],
        [Event(seq=i, type="job.progress", ts=T0, data={"job_id": "j"}) for i in range(1, 11)],
    )
    cutoff = T0 + timedelta(minutes=6)
    assert await store.prune(cutoff, keep_events=3, batch=4) == 4
    assert await store.prune(cutoff, keep_events=3, batch=4) == 2
    assert await store.prune(cutoff, keep_events=3, batch=4) == 0
    assert len(await store.history("db", T0, 100)) == 4
    assert [e.seq for e in await store.events_after(0, 100)] == [8, 9, 10]
    assert len(await store.windows("db")) == 1  # windows outlive raw checks
    await store.close()


async def test_tokens(database: Path | str) -> None:
    store = create_store(database)
    await store.open()
    await store.add_token("abc", "ci", Role.CREATOR, "hash")
    row = await store.find_token("abc")
    assert row is not None and row.role is Role.CREATOR and not row.revoked
    assert await store.revoke_token("abc")
    assert not await store.revoke_token("abc")
    row = await store.find_token("abc")
    assert row is not None and row.revoked
    assert await store.find_token("nope") is None
    await store.close()


async def test_one_services_alert_state_reads_alone(database: Path | str) -> None:
    """A replica adopting a service reads that service's row (and nothing when it has none)."""
    store = create_store(database)
    await store.open()
    try:
        alerts = AlertStore(store)
        await alerts.save_states({"api": {"fails": 2}, "db": {"oks": 1}}, [], T0)
        assert await alerts.load_state("api") == {"fails": 2}
        assert await alerts.load_state("db") == {"oks": 1}
        assert await alerts.load_state("gone") is None
        assert await alerts.load_states() == {"api": {"fails": 2}, "db": {"oks": 1}}
    finally:
        await store.close()


async def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this hub"):
        await SqliteStore(path).open()


async def test_unopenable_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError, match="cannot open database"):
        await SqliteStore(tmp_path / "dir.sqlite3").open()


async def test_schema_is_current_after_open_and_reopen(database: Path | str) -> None:
    for _ in range(2):  # the second open finds every migration applied
        store = create_store(database)
        await store.open()
        try:
            version, needed = await store.schema_version()
            assert version == needed > 0
        finally:
            await store.close()


@pytest.mark.postgres
async def test_newer_postgres_schema_is_refused_clearly(postgres_server: PgServer) -> None:
    from tests.storedb import fresh_database

    with fresh_database(postgres_server) as dsn:
        store = create_store(dsn)
        await store.open()
        await store.run(lambda c: c.execute("UPDATE store_schema SET version = version + 1"))
        await store.close()
        with pytest.raises(StoreError, match="newer than this hub"):
            await create_store(dsn).open()


@pytest.mark.postgres
async def test_unreachable_postgres_is_a_store_error_without_the_password(
    postgres_server: PgServer,
) -> None:
    dsn = postgres_server.dsn_with(password="wrong-secret")
    with pytest.raises(StoreError, match="cannot open database") as caught:
        await create_store(dsn).open()
    assert "wrong-secret" not in str(caught.value)
    assert postgres_server.password not in str(caught.value)


async def test_an_old_sqlite_file_migrates_keeping_its_data(tmp_path: Path) -> None:
    """A file written by an older hub (schema version 1) is migrated, not replaced."""
    path = tmp_path / "hub.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version = 1;\nCOMMIT;")
    conn.execute(
        "INSERT INTO health_checks (service_name, status, details_json, checked_at)"
        " VALUES ('db', 'down', '{}', ?)",
        (T0.timestamp(),),
    )
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == (len(MIGRATIONS), len(MIGRATIONS))
        assert [c.status for c in await store.history("db", T0, 10)] == [HealthStatus.DOWN]
        await store.add_token("t1", "ci", Role.ADMIN, "hash")  # a table from migration 1
        assert (
            await store.run(lambda c: c.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])
            == 0
        )
    finally:
        await store.close()
