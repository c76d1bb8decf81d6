"""Uptime through a real hub object and SQLite file on a fake clock: rollups agree with the
windows, hub downtime is no-data, connectivity loss is unknown, retention keeps windows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from studio_status.hub.checks.base import CheckResult
from studio_status.hub.config import HubConfig, HubSettings, ServiceConfig
from studio_status.hub.health_settings import HealthSettings
from studio_status.hub.service import Hub
from studio_status.hub.store.uptime import UptimeStore
from studio_status.protocol import HealthStatus
from studio_status.protocol.uptime import SpanState
from tests.hub.checks.servers import free_port
from tests.hub.fakeclock import T0, FakeClock

H = 3600.0


def service(name: str) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {
            "name": name,
            "interval_seconds": 3600,
            "check": {"kind": "tcp", "host": "127.0.0.1", "port": free_port()},
        }
    )


def make_hub(database: Path | str, clock: FakeClock, **health: object) -> Hub:
    config = HubConfig(
        hub=HubSettings(database=database),
        services=[service("api"), service("gateway")],
        health=HealthSettings.model_validate(health),
    )
    return Hub(config, config.services, clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def hub(database: Path | str, clock: FakeClock) -> AsyncIterator[Hub]:
    h = make_hub(database, clock, connectivity_service="gateway")
    await h.start(run_checks=False)
    yield h
    await h.stop()


def rec(hub: Hub, clock: FakeClock, name: str, status: HealthStatus, error: str = "") -> None:
    hub.record(name, CheckResult(status, error_message=error or None), clock())


async def play_day(hub: Hub, clock: FakeClock) -> None:
    """api: 6 h healthy, 2 h degraded, 1 h down, 1 h healthy (now = T0 + 10 h)."""
    for status, hours in (
        (HealthStatus.HEALTHY, 6),
        (HealthStatus.DEGRADED, 2),
        (HealthStatus.DOWN, 1),
        (HealthStatus.HEALTHY, 1),
    ):
        rec(hub, clock, "api", status, "refused" if status is HealthStatus.DOWN else "")
        clock.advance(hours=hours / 2)
        rec(hub, clock, "api", status, "refused" if status is HealthStatus.DOWN else "")
        clock.advance(hours=hours / 2)
    await hub.settle()


async def test_report_is_time_weighted_before_and_after_rollup(hub: Hub, clock: FakeClock) -> None:
    await play_day(hub, clock)
    before = await hub.uptime.report("24h", ["api"])
    api = before.services[0]
    assert api.uptime_percent == pytest.approx(80.0)  # (7 + 0.5 * 2) / 10
    assert api.seconds.healthy == 7 * H and api.seconds.down == H
    assert api.seconds.no_data == pytest.approx(14 * H)  # the period reaches before T0
    assert await hub.uptime.roll_once()
    after = await hub.uptime.report("24h", ["api"])
    assert after.services[0].uptime_percent == pytest.approx(80.0)
    assert after.services[0].seconds == api.seconds
    totals = await UptimeStore(hub.store).bucket_totals(3600, T0.timestamp(), 1e12, ["api"])
    assert totals["api"].total == pytest.approx(10 * H)
    # the live tail after the watermark counts too
    clock.advance(hours=0.5)
    later = (await hub.uptime.report("7d", ["api"])).services[0]
    assert later.uptime_percent == pytest.approx(100 * 8.5 / 10.5)
    assert later.uptime_7d == later.uptime_percent and later.uptime_30d == later.uptime_percent


async def test_timeline_and_outage_with_errors(hub: Hub, clock: FakeClock) -> None:
    await play_day(hub, clock)
    report = await hub.uptime.report("24h", ["api"])
    api = report.services[0]
    assert api.timeline is not None and api.outages is not None
    assert [s.state.value for s in api.timeline] == [
        "no_data",
        "healthy",
        "degraded",
        "down",
        "healthy",
    ]
    assert api.timeline[0].start == report.start and api.timeline[-1].end == report.end
    down = [o for o in api.outages if o.status is HealthStatus.DOWN]
    assert len(down) == 1
    assert down[0].start == T0 + timedelta(hours=8) and down[0].duration_seconds == H
    assert [(e.message, e.count) for e in down[0].errors] == [("refused", 2)]
    assert not down[0].ongoing


async def test_hub_downtime_is_no_data(database: Path | str, clock: FakeClock) -> None:
    first = make_hub(database, clock)
    await first.start(run_checks=False)
    rec(first, clock, "api", HealthStatus.HEALTHY)
    clock.advance(hours=2)
    rec(first, clock, "api", HealthStatus.HEALTHY)
    await first.stop()
    clock.advance(hours=3)  # hub off: the open healthy window must not count
    second = make_hub(database, clock)
    await second.start(run_checks=False)
    try:
        rec(second, clock, "api", HealthStatus.DOWN, "refused")
        clock.advance(hours=1)
        await second.settle()  # replicas: what the event sets off is written too
        assert await second.uptime.roll_once()
        api = (await second.uptime.report("24h", ["api"])).services[0]
        assert api.seconds.healthy == pytest.approx(2 * H)
        assert api.seconds.down == pytest.approx(H)
        assert api.uptime_percent == pytest.approx(100 * 2 / 3)
        assert api.timeline is not None
        assert [s.state.value for s in api.timeline][-3:] == ["healthy", "no_data", "down"]
    finally:
        await second.stop()


async def test_connectivity_loss_records_unknown_not_down(hub: Hub, clock: FakeClock) -> None:
    rec(hub, clock, "gateway", HealthStatus.HEALTHY)
    rec(hub, clock, "api", HealthStatus.HEALTHY)
    clock.advance(hours=1)
    rec(hub, clock, "gateway", HealthStatus.DOWN, "no route to host")
    rec(hub, clock, "api", HealthStatus.DOWN, "connect timeout")
    assert hub.state.services["gateway"].status is HealthStatus.DOWN
    api = hub.state.services["api"]
    assert api.status is HealthStatus.UNKNOWN
    assert api.error_message is not None and "connectivity lost" in api.error_message
    clock.advance(hours=1)
    rec(hub, clock, "gateway", HealthStatus.HEALTHY)
    rec(hub, clock, "api", HealthStatus.DOWN, "refused")  # now it is the service
    assert hub.state.services["api"].status is HealthStatus.DOWN
    clock.advance(hours=1)
    await hub.writer.flush()
    report = (await hub.uptime.report("24h", ["api"])).services[0]
    assert report.seconds.unknown == H and report.seconds.down == H
    assert report.uptime_percent == pytest.approx(50.0)


async def test_rollup_waits_for_the_writer(hub: Hub, clock: FakeClock) -> None:
    rec(hub, clock, "api", HealthStatus.HEALTHY)
    clock.advance(hours=1)
    assert hub.writer.pending  # handed to the writer, not committed yet
    assert not await hub.uptime.roll_once()
    await hub.settle()
    assert await hub.uptime.roll_once()


async def test_retention_drops_old_windows_and_buckets_keeps_open(
    hub: Hub, clock: FakeClock
) -> None:
    await play_day(hub, clock)
    assert await hub.uptime.roll_once()
    clock.advance(days=401)
    await hub.uptime.prune(clock())
    windows = await hub.store.windows("api")
    assert [(w.status, w.ended_at) for w in windows] == [(HealthStatus.HEALTHY, None)]
    ustore = UptimeStore(hub.store)
    for res in (60, 3600, 86400):
        assert await ustore.bucket_totals(res, 0, 1e12) == {}


async def test_thirty_days_from_daily_and_hourly_rollups_match_the_windows(
    hub: Hub, clock: FakeClock
) -> None:
    # ten days of an hour-and-a-half rhythm that straddles day boundaries, rolled up, then
    # the 30-day figures (whole days from daily buckets, edges hourly, tail from windows)
    # must be what the raw windows say
    clock.advance(hours=5, minutes=17)
    states = (HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.HEALTHY, HealthStatus.DOWN)
    for i in range(160):
        rec(hub, clock, "api", states[i % 4])
        clock.advance(minutes=90)
    await hub.settle()
    assert await hub.uptime.roll_once()
    clock.advance(minutes=7)  # a live tail after the watermark
    rec(hub, clock, "api", HealthStatus.DOWN)
    await hub.writer.flush()
    start, figures = await hub.uptime.tallies("30d", ["api"])
    now = clock().timestamp()
    windows = await hub.uptime.store.windows_between(start, now, ["api"])
    from studio_status.hub.uptime import build_segments, tally

    truth = tally(
        build_segments(windows["api"], start, now, coverage=await hub.uptime.coverage(start, now))
    )
    got = figures["api"]
    for state in ("healthy", "degraded", "down"):
        assert getattr(got.to_wire(), state) == pytest.approx(getattr(truth.to_wire(), state))
    assert got.percent(0.5) == pytest.approx(truth.percent(0.5))
    assert got.get(SpanState.DOWN) > 0 and got.get(SpanState.DEGRADED) > 0


async def test_windows_between_returns_exactly_the_windows_that_overlap(tmp_path: Path) -> None:
    """Before, touching, straddling, inside, open, and after the range: only overlaps."""
    from studio_status.hub.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "hub.sqlite3")
    await store.open()
    try:
        rows = [  # (service, status, started_at, ended_at)
            ("api", "healthy", 0.0, 50.0),  # ends before the range
            ("api", "down", 50.0, 100.0),  # ends where the range starts: no overlap
            ("api", "degraded", 100.0, 150.0),  # starts with the range
            ("db", "healthy", 20.0, 120.0),  # straddles the start
            ("db", "down", 120.0, 180.0),  # inside
            ("db", "healthy", 180.0, None),  # open
            ("gw", "healthy", 200.0, None),  # starts at the range's end: no overlap
            ("gw", "down", 10.0, 200.0),
        ]
        await store.run(
            lambda c: c.executemany(
                "INSERT INTO uptime_records (service_name, status, started_at, ended_at,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)",
                rows,
            )
        )
        windows = await UptimeStore(store).windows_between(100.0, 200.0)
        seen = {
            name: [(w.status.value, w.start, w.end) for w in spans]
            for name, spans in windows.items()
        }
        assert seen == {
            "api": [("degraded", 100.0, 150.0)],
            "db": [("healthy", 20.0, 120.0), ("down", 120.0, 180.0), ("healthy", 180.0, None)],
            "gw": [("down", 10.0, 200.0)],
        }
        only = await UptimeStore(store).windows_between(100.0, 200.0, ["db"])
        assert list(only) == ["db"] and len(only["db"]) == 3
    finally:
        await store.close()
