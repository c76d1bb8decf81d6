"""``studio-status hub migrate-db``: a SQLite hub's history, alerts, tokens and settings are
copied into a real PostgreSQL and read back the same through the store."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studio_status.hub.store.alerts import AlertStore
from studio_status.hub.store.audit import AuditStore
from studio_status.hub.store.sqlite import CheckWrite, SqlStore
from studio_status.hub.store.uptime import BucketRow, UptimeStore
from studio_status.hub.uptime import Tally
from studio_status.protocol import Event, HealthStatus, Role
from studio_status.protocol.alerts import AlertConfig, MaintenanceWindow, Mute
from studio_status.protocol.uptime import SpanState
from tests.pgserver import PgServer
from tests.storedb import fresh_database, open_store
from tests.userenv import fresh_user_env

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio_status", "hub", *args],
        env=fresh_user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def fill(store: SqlStore) -> None:
    """A small hub's life: checks with a transition, events, a token, an audit entry, alert
    config, state and outbox, a mute, maintenance, rollup buckets and a hub run."""
    at = [T0 + timedelta(minutes=m) for m in range(4)]
    statuses = [HealthStatus.HEALTHY, HealthStatus.HEALTHY, HealthStatus.DOWN, HealthStatus.DOWN]
    await store.write_batch(
        [
            CheckWrite("db", s, 5, "refused" if s is HealthStatus.DOWN else None, {"m": i}, at[i])
            for i, s in enumerate(statuses)
        ],
        [
            Event(seq=n, type="job.progress", ts=T0, data={"job_id": "j", "progress": n})
            for n in range(1, 6)
        ],
    )
    await store.add_token("tok1", "ci", Role.CREATOR, "hash1")
    await store.begin_run()
    await AuditStore(store).add(T0, "admin", "restart", "db", "ok", params={"why": "test"})
    alerts = AlertStore(store)
    await alerts.save_config("db", AlertConfig(escalation_delay_seconds=60), T0)
    await alerts.save_states(
        {"db": {"phase": "escalated"}},
        [("a1", "db", "escalation", "http://127.0.0.1:9/hook", {"text": "db down"})],
        T0,
    )
    await alerts.set_mute(Mute(service="db", reason="noisy", set_by="admin", set_at=T0))
    await alerts.add_maintenance(
        MaintenanceWindow(
            id="m1", service="db", start=T0, end=T0 + timedelta(hours=1), created_by="admin"
        ),
        T0,
    )
    tally = Tally()
    tally.add(SpanState.HEALTHY, 120.0)
    uptime = UptimeStore(store)
    await uptime.add_buckets([BucketRow("db", 60, int(T0.timestamp()), tally)], T0.timestamp())
    await uptime.start_run(T0.timestamp())


async def read_all(store: SqlStore) -> dict[str, object]:
    alerts, uptime = AlertStore(store), UptimeStore(store)
    start, end = T0.timestamp() - 60, T0.timestamp() + 3600
    return {
        "history": await store.history("db", T0 - timedelta(hours=1), 100),
        "windows": await store.windows("db"),
        "events": await store.events_after(0, 100),
        "tokens": await store.list_tokens(),
        "hub_id": await store.hub_id(),
        "audit": await AuditStore(store).list(),
        "configs": await alerts.load_configs(),
        "states": await alerts.load_states(),
        "outbox": await alerts.outbox(),
        "mutes": await alerts.load_mutes(),
        "maintenance": await alerts.load_maintenance(),
        "buckets": await uptime.bucket_totals(60, start, end),
        "watermark": await uptime.watermark(),
        "runs": await uptime.runs_between(start, end),
    }


async def test_copy_keeps_everything_and_says_what_it_copied(
    tmp_path: Path, postgres_server: PgServer
) -> None:
    source = tmp_path / "hub.sqlite3"
    async with open_store(source) as sqlite:
        await fill(sqlite)
        before = await read_all(sqlite)
    with fresh_database(postgres_server) as dsn:
        done = cli(tmp_path, "migrate-db", "--from", str(source), "--to", dsn)
        assert done.returncode == 0, done.stderr
        report = done.stdout
        assert postgres_server.password not in report
        copied = [
            "4  health checks",
            "2  uptime windows",
            "5  events",
            "1  API tokens",
            "1  audit entries",
            "1  webhook outbox rows",
            "1  mutes",
            "1  maintenance windows",
            "1  uptime rollup buckets",
            "1  alert configs",
        ]
        for line in copied:
            assert line in report, report
        async with open_store(dsn) as pg:
            assert await read_all(pg) == before
            # new rows get new ids after the copied ones, not a clash
            new_id = await AuditStore(pg).add(T0, "admin", "mute", "db", "ok")
            assert new_id == max(e.id for e in before["audit"]) + 1  # type: ignore[attr-defined]
        again = cli(tmp_path, "migrate-db", "--from", str(source), "--to", dsn)
        assert again.returncode == 1
        assert "already holds hub data" in again.stderr


def test_copy_needs_a_postgresql_target(tmp_path: Path) -> None:
    done = cli(tmp_path, "migrate-db", "--from", str(tmp_path / "hub.sqlite3"))
    assert done.returncode == 2
    assert "--to postgresql://" in done.stderr
