"""Replicas: rendezvous hashing spreads names evenly and moves only a leaver's names; the
event feed delivers what several replicas commit in one order, large batches included."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from studio_status.hub.bus import EventBus
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.cluster import LEADER, EventFeed, rendezvous_owner
from studio_status.hub.service import Hub
from studio_status.hub.store import create_store
from studio_status.hub.store.cluster_pg import decode_events, encode_events
from studio_status.hub.store.postgres import PostgresStore
from studio_status.hub.store.uptime import UptimeStore
from studio_status.protocol import Event, HealthStatus, Role
from studio_status.protocol.uptime import SpanState
from tests.hub.fakeclock import T0 as CLOCK_T0
from tests.hub.fakeclock import FakeClock
from tests.hub.test_uptime_tracker import make_hub
from tests.pgserver import PgServer
from tests.storedb import fresh_database

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_names_spread_over_members_and_only_a_leavers_names_move() -> None:
    names = [f"service-{i}" for i in range(300)]
    members = ["r1", "r2", "r3"]
    owners = {n: rendezvous_owner(n, members) for n in names}
    counts = {m: list(owners.values()).count(m) for m in members}
    assert all(70 <= c <= 130 for c in counts.values()), counts
    after = {n: rendezvous_owner(n, ["r1", "r3"]) for n in names}
    moved = [n for n in names if after[n] != owners[n]]
    assert moved == [n for n in names if owners[n] == "r2"]
    assert rendezvous_owner(LEADER, []) is None
    # the order members are listed in does not matter
    assert all(rendezvous_owner(n, ["r3", "r1", "r2"]) == owners[n] for n in names)


def test_a_batch_too_large_for_a_notification_is_sent_as_its_range() -> None:
    small = [Event(seq=1, type="job.progress", ts=T0, data={"job_id": "j"})]
    events, span, origin = decode_events(encode_events(small, "r1"))
    assert (events, span, origin) == (small, None, "r1")
    big = [
        Event(seq=n, type="job.progress", ts=T0, data={"job_id": "j", "note": "x" * 500})
        for n in range(1, 41)
    ]
    payload = encode_events(big, "r1")
    assert len(payload.encode()) < 8000  # pg_notify's limit
    assert decode_events(payload) == ([], (1, 40), "r1")


@pytest.mark.postgres
async def test_feed_delivers_every_committed_event_in_order_fetching_large_batches(
    postgres_server: PgServer,
) -> None:
    """Two stores (two replicas) commit batches, one too large to notify; a third
    replica's feed delivers all of them to its bus in seq order, none twice."""
    with fresh_database(postgres_server) as dsn:
        writers = [create_store(dsn), create_store(dsn)]
        reader = create_store(dsn)
        for store in (*writers, reader):
            await store.open()
        assert isinstance(reader, PostgresStore)
        bus = EventBus("hub", 0, numbered_by_store=True)
        seen: list[tuple[int, str | None]] = []
        feed = EventFeed(
            reader, on_event=lambda e, o: seen.append((e.seq, o)), on_settings=lambda what: None
        )
        await feed.open()
        feed.bus = bus
        sub = bus.subscribe(Role.ADMIN, ["job_progress"])
        task = asyncio.create_task(feed.run())
        try:
            for i, store in enumerate(writers):
                assert isinstance(store, PostgresStore)
                store.replica_id = f"w{i}"

            def batch(size: int, note: str) -> list[Event]:
                return [
                    Event(seq=0, type="job.progress", ts=T0, data={"job_id": "j", "note": note})
                    for _ in range(size)
                ]

            await asyncio.gather(
                writers[0].write_batch([], batch(3, "small")),
                writers[1].write_batch([], batch(40, "y" * 500)),  # beyond a notification
                writers[0].write_batch([], batch(2, "small")),
            )
            got = [await asyncio.wait_for(sub.queue.get(), 10) for _ in range(45)]
            assert [e.seq for e in got] == list(range(1, 46))
            assert [s for s, _ in seen] == list(range(1, 46))
            assert {o for _, o in seen} <= {"w0", None}  # the large batch came from the table
            assert sub.queue.empty()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await feed.close()
            for store in (*writers, reader):
                await store.close()


@pytest.mark.postgres
async def settle_all(hubs: list[Hub]) -> None:
    """Settle replicas until none moves: an event one delivers can make another write (the
    leader's activity feed answers a health change the owner published), so settling each
    once in turn is not enough."""
    async with asyncio.timeout(10):
        while True:
            before = [(h.bus.seq, h.writer.pending) for h in hubs]
            for hub in hubs:
                await hub.settle()
            for _ in range(10):
                await asyncio.sleep(0)
            if before == [(h.bus.seq, h.writer.pending) for h in hubs] and not any(
                h.writer.pending for h in hubs
            ):
                return


async def test_rollups_are_counted_once_across_a_change_of_leader(
    postgres_server: PgServer,
) -> None:
    clock = FakeClock()
    with fresh_database(postgres_server) as dsn:
        first, second = make_hub(dsn, clock), make_hub(dsn, clock)
        await first.start(run_checks=False)
        await second.start(run_checks=False)
        hubs = [first, second]
        stopped: list[Hub] = []
        try:
            for hub in hubs:  # both see both now: the names are shared out
                assert hub.ownership is not None
                await hub.ownership.round()
            assert [h.ownership.leader for h in hubs if h.ownership].count(True) == 1
            leader = next(h for h in hubs if h.ownership and h.ownership.leader)
            other = second if leader is first else first
            owner = next(h for h in hubs if h.ownership and h.ownership.owns("api"))
            owner.record("api", CheckResult(HealthStatus.HEALTHY), clock())
            clock.advance(hours=2)
            await settle_all(hubs)
            assert not await other.uptime.roll_turn()  # not its turn
            assert await leader.uptime.roll_turn()
            # the leader goes; the other takes every name over and rolls on from the
            # database's watermark, not from the start again
            await leader.stop()
            stopped.append(leader)
            assert other.ownership is not None
            async with asyncio.timeout(10):  # until PostgreSQL has ended the old session
                await other.ownership.round()
                while not other.ownership.leader:
                    await asyncio.sleep(0.05)
                    await other.ownership.round()
            assert other.ownership.leader and other.ownership.owns("api")
            clock.advance(hours=1)
            other.record("api", CheckResult(HealthStatus.HEALTHY), clock())
            await other.settle()
            assert await other.uptime.roll_turn()
            assert await other.uptime.roll_turn()  # again: nothing is added twice
            totals = await UptimeStore(other.store).bucket_totals(
                3600, CLOCK_T0.timestamp(), 1e12, ["api"]
            )
            assert totals["api"].get(SpanState.HEALTHY) == pytest.approx(3 * 3600)
        finally:
            for hub in hubs:
                if hub not in stopped:
                    await hub.stop()
