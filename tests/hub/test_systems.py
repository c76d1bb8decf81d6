"""External systems on a fake clock: flags → status, staleness → unknown, outages, retention,
restart, and the unique (timestamp, component) rule under concurrent writers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from studio_status.hub.config import HubConfig, HubSettings
from studio_status.hub.service import Hub
from studio_status.hub.store import create_store
from studio_status.hub.store import systems as db
from studio_status.hub.systems import SystemError, flag_status
from studio_status.protocol import Event, HealthStatus, Role
from studio_status.protocol.systems import (
    Availability,
    OutageIn,
    ReservationIn,
    SystemSnapshotIn,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextlib.asynccontextmanager
async def systems_hub(database: Path | str, clock: Clock) -> AsyncIterator[Hub]:
    hub = Hub(HubConfig(hub=HubSettings(database=database)), [], clock=clock)
    await hub.start(run_checks=False)
    try:
        yield hub
    finally:
        await hub.stop()


def snapshot(**fields: Any) -> SystemSnapshotIn:
    base: dict[str, Any] = {
        "availability": "online",
        "login_nodes": [{"name": "login1", "available": True, "users": 40}],
        "compute": [
            {
                "name": "cpu",
                "nodes_total": 2488,
                "nodes_available": 120,
                "nodes_down": 8,
                "nodes_allocated": 2300,
            }
        ],
        "utilization": {"cpu_percent": 91.5, "gpu_percent": 60, "memory_percent": 70},
        "jobs": {"running": 1200, "pending": 340},
        "active_users": 210,
        "queues": [
            {"name": "main", "running_jobs": 1000, "pending_jobs": 300},
            {"name": "develop", "running_jobs": 200, "pending_jobs": 40},
        ],
        "filesystems": [{"name": "glade", "capacity_tb": 100, "used_tb": 80}],
    }
    return SystemSnapshotIn.model_validate({**base, **fields})


def statuses(events: list[Event]) -> list[tuple[str, str]]:
    return [
        (e.data["service"], e.data["current"]["status"])
        for e in events
        if e.type == "service.health_changed"
    ]


async def drain(hub: Hub, queue: asyncio.Queue[Event]) -> list[Event]:
    """What reached ``queue`` once everything published is committed and delivered (on
    PostgreSQL events are numbered and fanned out at commit)."""
    await hub.settle()
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


@pytest.mark.parametrize(
    ("fields", "status", "why"),
    [
        ({}, HealthStatus.HEALTHY, None),
        ({"availability": "offline", "message": "power work"}, HealthStatus.DOWN, "power work"),
        ({"availability": "maintenance"}, HealthStatus.DEGRADED, "reported maintenance"),
        ({"filesystems": [{"name": "glade", "degraded": True}]}, HealthStatus.DEGRADED, "glade"),
        (
            {"filesystems": [{"name": "scratch", "available": False}]},
            HealthStatus.DEGRADED,
            "scratch",
        ),
        (
            {"login_nodes": [{"name": "l1", "available": False}, {"name": "l2"}]},
            HealthStatus.DEGRADED,
            "l1",
        ),
        ({"login_nodes": [{"name": "l1", "available": False}]}, HealthStatus.DOWN, "no login"),
    ],
)
def test_flags(fields: dict[str, Any], status: HealthStatus, why: str | None) -> None:
    got, reason = flag_status(snapshot(**fields).model_dump(mode="json"))
    assert got is status
    assert (reason is None) if why is None else (why in (reason or ""))


async def test_staleness_outages_and_restart(database: Path | str) -> None:
    clock = Clock()
    async with systems_hub(database, clock) as hub:
        sub = hub.bus.subscribe(Role.ADMIN, ["health", "system"])
        result = await hub.systems.ingest("derecho", snapshot())
        assert result.created and result.status is HealthStatus.HEALTHY
        derecho = hub.state.services["derecho"]
        assert (derecho.kind, derecho.status) == ("system", HealthStatus.HEALTHY)
        events = await drain(hub, sub.queue)
        assert statuses(events) == [("derecho", "healthy")]
        [snap] = [e for e in events if e.type == "system.snapshot"]
        assert snap.data["summary"]["jobs_pending"] == 340

        clock.advance(minutes=10)
        await hub.systems.refresh()  # exactly at the limit: still fresh
        assert hub.state.services["derecho"].status is HealthStatus.HEALTHY
        clock.advance(seconds=1)
        await hub.systems.refresh()
        stale = hub.state.services["derecho"]
        assert stale.status is HealthStatus.UNKNOWN and "no snapshot for 10 min" in (
            stale.error_message or ""
        )
        assert statuses(await drain(hub, sub.queue)) == [("derecho", "unknown")]
        assert hub.systems.summaries()[0].stale

        await hub.systems.ingest("derecho", snapshot(timestamp=clock.now))
        assert hub.state.services["derecho"].status is HealthStatus.HEALTHY
        # a late backfill of an older timestamp is stored but does not steer the status
        await hub.systems.ingest(
            "derecho", snapshot(timestamp=T0 + timedelta(minutes=5), availability="offline")
        )
        assert hub.state.services["derecho"].status is HealthStatus.HEALTHY

        outage = await hub.systems.report_outage(
            OutageIn(system="derecho", severity="major", title="cooling failure")
        )
        assert hub.state.services["derecho"].status is HealthStatus.DOWN
        assert "cooling failure" in (hub.state.services["derecho"].error_message or "")
        planned = await hub.systems.report_outage(
            OutageIn(
                system="casper",
                severity="maintenance",
                status="scheduled",
                title="OS upgrade",
                start_time=clock.now + timedelta(hours=1),
                end_time=clock.now + timedelta(hours=3),
            )
        )
        assert hub.state.services["casper"].status is HealthStatus.UNKNOWN  # no data, not yet
        clock.advance(hours=1)
        await hub.systems.refresh()
        casper = hub.state.services["casper"]
        assert casper.status is HealthStatus.DEGRADED and "OS upgrade" in (
            casper.error_message or ""
        )
        resolved = await hub.systems.report_outage(
            OutageIn(
                id=outage.id,
                system="derecho",
                severity="major",
                status="resolved",
                title="cooling failure",
            )
        )
        assert resolved.start_time == outage.start_time and resolved.end_time == clock.now
        changed = [e for e in await drain(hub, sub.queue) if e.type == "system.outage_changed"]
        assert [e.data["previous_status"] for e in changed] == [None, None, "investigating"]
        assert [o.id for o in await hub.systems.outages_view(None, None)] == [planned.id]
        assert len(await hub.systems.outages_view("derecho", 1)) == 1
        await hub.writer.flush()
    async with systems_hub(database, clock) as again:
        # known systems are services again at once, with their reading restored
        assert again.state.services["derecho"].kind == "system"
        assert again.state.services["casper"].status is HealthStatus.DEGRADED
        await again.systems.refresh()
        assert again.state.services["derecho"].status is HealthStatus.UNKNOWN  # 1 h old


async def test_names_validation_and_retention(database: Path | str) -> None:
    clock = Clock()
    async with systems_hub(database, clock) as hub:
        hub.state.ensure_service("database", "DB", "http")
        for name, status in [
            ("Derecho", 422),
            ("footer", 404),
            ("outages", 404),
            ("database", 409),
        ]:
            with pytest.raises(SystemError) as caught:
                await hub.systems.ingest(name, snapshot())
            assert caught.value.status == status, name
        with pytest.raises(SystemError, match="future"):
            await hub.systems.ingest("derecho", snapshot(timestamp=clock.now + timedelta(hours=1)))
        with pytest.raises(SystemError, match="retention"):
            await hub.systems.ingest("derecho", snapshot(timestamp=clock.now - timedelta(days=8)))

        naive = (clock.now - timedelta(minutes=5)).replace(tzinfo=None)
        assert (await hub.systems.ingest("derecho", snapshot(timestamp=naive))).timestamp == (
            clock.now - timedelta(minutes=5)
        )
        await hub.systems.ingest("derecho", snapshot())
        await hub.systems.add_reservation(
            ReservationIn(
                system="derecho",
                name="hackathon",
                start_time=clock.now,
                end_time=clock.now + timedelta(hours=2),
                node_count=64,
            )
        )
        await hub.systems.report_outage(OutageIn(system="derecho", title="blip", status="resolved"))
        clock.advance(days=3)
        await hub.systems.ingest("derecho", snapshot())
        assert len(await hub.systems.history("derecho", hours=24 * 7)) == 3
        assert await hub.systems.prune() == 0
        clock.advance(days=5)  # the first two snapshots (and their rows) are now 8 days old
        assert (
            await hub.systems.prune() == 2 + 2 * 5 + 1 + 1
        )  # snapshots, components, outage, reservation
        points = await hub.systems.history("derecho", hours=24 * 30)
        assert [p.timestamp for p in points] == [clock.now - timedelta(days=5)]
        assert points[0].jobs_running == 1200 and points[0].cpu_percent == 91.5
        assert await hub.systems.reservations_view(None) == []


async def test_concurrent_writers_keep_one_row_per_timestamp_and_component(
    database: Path | str,
) -> None:
    """Two stores on one database (two threads or pools, their own connections) race on the
    same keys."""
    stores = [create_store(database), create_store(database)]
    for store in stores:
        await store.open()
    try:
        at = T0

        def snap(n: int) -> tuple[db.StoredSnapshot, list[db.Component]]:
            data = {"n": n}
            comps = [("queue", q, {"n": n, "q": q}) for q in ("main", "develop", "gpu")]
            return (
                db.StoredSnapshot(
                    "casper", at, at, Availability.ONLINE, HealthStatus.HEALTHY, data
                ),
                comps,
            )

        created = await asyncio.gather(
            *(db.put_snapshot(stores[n % 2], *snap(n)) for n in range(40))
        )
        assert created.count(True) == 1
        count = await stores[0].run(
            lambda c: c.execute("SELECT COUNT(*) FROM system_snapshots").fetchone()[0]
        )
        assert count == 1
        rows = await stores[0].run(
            lambda c: c.execute("SELECT name, data_json FROM system_components").fetchall()
        )
        assert sorted(r[0] for r in rows) == ["develop", "gpu", "main"]
        winner = await db.latest(stores[0], "casper")
        assert winner is not None
        # the components belong to the same post as the snapshot row: never a mix
        assert {r[1] for r in rows} == {
            f'{{"n": {winner.data["n"]}, "q": "{q}"}}' for q in ("main", "develop", "gpu")
        }
    finally:
        for store in stores:
            await store.close()
