"""StatusClient against a real, scripted websockets hub on loopback.

Reconnect timing never depends on real time: backoff waits, polls and the watchdog sleep on
the :class:`FakeClock`, and each test releases exactly the wait it means to.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest

from studio_status.backoff import Backoff
from studio_status.client import ConnectionState, SnapshotCache, StatusClient
from studio_status.protocol import SubscribeMessage, UnsubscribeMessage

from .helpers import (
    FakeClock,
    MakeClient,
    RecordingStore,
    ScriptedHub,
    footer_dict,
    free_port,
    iso_now,
    wait_for_state,
)

BACKOFF = "studio-status-backoff"
POLL = "studio-status-poll"
WATCHDOG = "studio-status-watchdog"


def recording(client: StatusClient) -> RecordingStore:
    assert isinstance(client.store, RecordingStore)
    return client.store


async def go_live(hub: ScriptedHub, client: StatusClient, seq: int = 1, **kw: Any) -> Any:
    conn = await hub.next_connection()
    await conn.snapshot(seq, **kw)
    await wait_for_state(client.store, lambda s: s.connection is ConnectionState.LIVE)
    return conn


async def test_snapshot_then_events_update_the_store(
    hub: ScriptedHub, make_client: MakeClient
) -> None:
    hub.token = "secret"
    client = make_client(hub.base_url, token="secret")
    conn = await hub.next_connection()
    assert conn.authorization == "Bearer secret"
    assert conn.hello.token == "secret"
    assert conn.hello.last_seq is None
    assert "footer" in conn.hello.topics and "jobs" in conn.hello.topics
    assert conn.hello.client and conn.hello.client.startswith("studio-status/")

    await conn.snapshot(10, hub_id="hub-a")
    state = await wait_for_state(client.store, lambda s: s.last_seq == 10)
    assert state.connection is ConnectionState.LIVE
    assert not state.stale
    assert state.hub_id == "hub-a"
    assert state.role is not None and state.role.value == "admin"
    assert state.footer is not None and state.footer.jobs.running == 1

    await conn.events(11, 12)
    await conn.send(
        {
            "seq": 13,
            "type": "service.health_changed",
            "ts": iso_now(),
            "data": {
                "service": "database",
                "previous": "healthy",
                "current": {"name": "database", "label": "DB", "status": "down"},
            },
        }
    )
    state = await wait_for_state(client.store, lambda s: s.last_seq == 13)
    assert set(state.jobs) == {"j11", "j12"}
    assert state.footer is not None and state.footer.services is not None
    assert state.footer.services["database"].status.value == "down"
    assert recording(client).applied == [11, 12, 13]
    assert client.live and client.last_error is None


async def test_drop_and_resume_replays_the_gap_once(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=1)
    await conn.events(2, 3)
    await wait_for_state(client.store, lambda s: s.last_seq == 3)

    conn.drop()
    await wait_for_state(client.store, lambda s: s.connection is not ConnectionState.LIVE)
    await clock.wake(BACKOFF)  # the jittered backoff, released without real waiting

    again = await hub.next_connection()
    assert again.hello.last_seq == 3
    assert again.hello.hub_id == "hub-a"
    # The hub replays from before our position (overlap): the duplicate must be dropped.
    await again.resumed(from_seq=2, seq=5)
    await again.events(3, 4, 5)
    await again.events(6)
    state = await wait_for_state(client.store, lambda s: s.last_seq == 6)
    assert state.connection is ConnectionState.LIVE
    assert recording(client).applied == [2, 3, 4, 5, 6]


async def test_gaps_are_filtered_events_not_losses(
    hub: ScriptedHub, make_client: MakeClient
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=5)
    await conn.events(8)  # 6 and 7 were for other roles or topics
    await conn.heartbeat(9)  # the hub has considered us up to 9: we are caught up
    await wait_for_state(client.store, lambda s: s.last_seq == 9)
    assert recording(client).applied == [8]
    assert client.store.state.connection is ConnectionState.LIVE
    assert hub.ws_attempts == 1  # no reconnect


async def test_new_hub_id_gets_a_snapshot_accepted(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=50, hub_id="hub-a")
    conn.drop()
    await clock.wake(BACKOFF)

    again = await hub.next_connection()
    assert (again.hello.last_seq, again.hello.hub_id) == (50, "hub-a")
    # A restarted hub with a new identity starts its sequence again from scratch.
    await again.snapshot(3, hub_id="hub-b", footer=footer_dict(running=4))
    state = await wait_for_state(client.store, lambda s: s.hub_id == "hub-b")
    assert state.last_seq == 3
    assert state.footer is not None and state.footer.jobs.running == 4
    await again.events(4)
    await wait_for_state(client.store, lambda s: s.last_seq == 4)
    assert recording(client).applied == [4]


async def test_resume_from_wrong_position_asks_for_a_snapshot(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=5)
    conn.drop()
    await wait_for_state(client.store, lambda s: s.connection is not ConnectionState.LIVE)
    await clock.wake(BACKOFF)

    again = await hub.next_connection()
    assert again.hello.last_seq == 5
    await again.resumed(from_seq=7, seq=9)  # would silently skip 6 and 7
    await again.wait_closed()

    third = await hub.next_connection()
    assert third.hello.last_seq is None  # a fresh snapshot, please
    await third.snapshot(9)
    await wait_for_state(client.store, lambda s: s.last_seq == 9 and not s.stale)


async def test_refused_socket_falls_back_to_polling_then_goes_live(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    hub.refuse_ws = 503
    client = make_client(hub.base_url, poll_interval=30.0)
    state = await wait_for_state(client.store, lambda s: s.connection is ConnectionState.POLLING)
    assert not state.stale
    assert state.footer is not None and state.footer.jobs.running == 1
    assert client.last_error is not None and "503" in client.last_error

    # The next poll, 30 s later, sees new data.
    hub.footer = footer_dict(running=3)
    await clock.wait_sleeping(POLL)
    await clock.advance(30.0)
    await wait_for_state(
        client.store, lambda s: s.footer is not None and s.footer.jobs.running == 3
    )

    hub.refuse_ws = None
    await clock.wake(BACKOFF)
    conn = await go_live(hub, client, seq=1)
    polls = hub.footer_requests
    assert not clock.asleep(POLL)
    for _ in range(12):  # two minutes of a healthy stream: polling stays stopped
        version = client.store.state.version
        await conn.heartbeat(1)
        await wait_for_state(client.store, lambda s: s.version > version)  # noqa: B023
        await clock.advance(10.0)
    assert hub.footer_requests == polls
    assert client.store.state.connection is ConnectionState.LIVE


async def test_everything_down_is_offline_and_stale(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}")
    state = await wait_for_state(client.store, lambda s: s.connection is ConnectionState.OFFLINE)
    assert state.stale
    assert state.offline_since is not None
    assert client.last_error
    await clock.advance(200.0)
    assert client.store.state.stale
    assert client.store.state.connection is ConnectionState.OFFLINE


async def test_silent_stream_goes_stale_and_reconnects(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=1, heartbeat_seconds=10.0)
    await clock.advance(15.0)
    assert not client.store.state.stale  # within 2x heartbeat
    seen: list[tuple[bool, ConnectionState]] = []
    client.store.subscribe(lambda s: seen.append((s.stale, s.connection)))
    await clock.advance(10.0)  # 25 s of silence > 2x10
    await conn.wait_closed()  # the watchdog hung up the dead-looking link
    again = await hub.next_connection()
    assert again.hello.last_seq == 1
    # Marked stale while still nominally live; then the poller answered while reconnecting.
    assert seen[0] == (True, ConnectionState.LIVE)


async def test_malformed_frames_and_unknown_types_are_survived(
    hub: ScriptedHub, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="client.events")
    client = make_client(hub.base_url)
    conn = await go_live(hub, client, seq=1)
    await conn.send("this is not json")
    await conn.send(b"\xff\xfe binary junk")
    await conn.send('{"type": "nonsense"}')
    await conn.send("[1, 2, 3]")
    # A known type with bad data: dropped, but its seq counts (no false gap after it).
    await conn.send({"seq": 2, "type": "job.status_changed", "ts": iso_now(), "data": {"x": 1}})
    # A type this version does not know: tolerated.
    await conn.send({"seq": 3, "type": "render.farm_exploded", "ts": iso_now(), "data": {}})
    await conn.events(4)
    state = await wait_for_state(client.store, lambda s: s.last_seq == 4)
    assert state.connection is ConnectionState.LIVE
    assert "j4" in state.jobs
    assert recording(client).applied == [3, 4]
    warnings = [r for r in caplog.records if r.name == "client.events"]
    assert len(warnings) >= 5
    assert hub.ws_attempts == 1  # never reconnected


async def test_http_401_gives_a_clear_error_and_backs_off(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    hub.token = "right"
    client = make_client(hub.base_url, token="wrong", backoff_max=30.0)
    state = await wait_for_state(client.store, lambda s: s.connection is ConnectionState.OFFLINE)
    assert state.stale
    assert client.last_error is not None and "unauthorized" in client.last_error.lower()
    sleeper = await clock.wait_sleeping(BACKOFF)
    assert sleeper.deadline - clock.now == 30.0  # the longest wait, not a hammering retry

    client.set_token("right")  # a new token reconnects at once
    await go_live(hub, client)
    assert client.last_error is None


async def test_error_message_unauthorized_closes_with_4401(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url, token="expired")
    conn = await hub.next_connection()
    await conn.send({"type": "error", "code": "unauthorized", "message": "token expired"})
    await conn.ws.close(4401, "unauthorized")
    await wait_for_state(client.store, lambda s: s.connection is ConnectionState.OFFLINE)
    assert client.last_error is not None and "token expired" in client.last_error
    sleeper = await clock.wait_sleeping(BACKOFF)
    assert sleeper.deadline - clock.now == 30.0


async def test_close_code_4401_alone_is_unauthorized(
    hub: ScriptedHub, make_client: MakeClient
) -> None:
    client = make_client(hub.base_url, token="expired")
    conn = await hub.next_connection()
    await conn.ws.close(4401, "bad token")
    await wait_for_state(client.store, lambda s: s.connection is ConnectionState.OFFLINE)
    assert client.last_error is not None and "bad token" in client.last_error


async def test_subscriptions_are_sent_and_remembered(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client)
    await client.subscribe(["job:42", "job:43"])
    sub = await conn.received.get()
    assert isinstance(sub, SubscribeMessage) and sub.topics == ["job:42", "job:43"]
    await client.unsubscribe(["job:43", "job:99"])
    unsub = await conn.received.get()
    assert isinstance(unsub, UnsubscribeMessage) and unsub.topics == ["job:43"]

    conn.drop()
    await clock.wake(BACKOFF)
    again = await hub.next_connection()
    assert "job:42" in again.hello.topics
    assert "job:43" not in again.hello.topics


async def test_kick_skips_the_backoff(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url, backoff_initial=1000.0, backoff_max=1000.0)
    conn = await go_live(hub, client)
    conn.drop()
    await clock.wait_sleeping(BACKOFF)
    client.kick()
    again = await hub.next_connection()  # no fake time passed
    assert again.hello.last_seq == 1


async def test_wall_clock_jump_kicks_a_reconnect(
    hub: ScriptedHub, make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(hub.base_url, watchdog_interval=5.0)
    conn = await go_live(hub, client)
    await conn.heartbeat(1)
    await clock.advance(5.0)  # an ordinary tick: nothing happens
    assert hub.ws_attempts == 1
    clock.jump_wall(3600.0)  # the laptop slept for an hour
    await clock.advance(5.0)
    await conn.wait_closed()
    again = await hub.next_connection()
    assert again.hello.last_seq == 1


async def test_backoff_sequence_uses_full_jitter(make_client: MakeClient, clock: FakeClock) -> None:
    make_client(
        f"http://127.0.0.1:{free_port()}",
        rng=random.Random(42),
        backoff_initial=0.5,
        backoff_max=4.0,
        poll_interval=1e6,
    )
    delays = [await clock.wake(BACKOFF) for _ in range(6)]
    expected = Backoff(0.5, 4.0, random.Random(42))
    assert delays == pytest.approx([expected.next() for _ in range(6)])
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(0 <= d <= c for d, c in zip(delays, caps, strict=True))


async def test_footer_is_cached_and_painted_stale_on_next_start(
    hub: ScriptedHub, make_client: MakeClient, tmp_path: Any
) -> None:
    path = tmp_path / "footer.json"
    client = make_client(hub.base_url, cache=SnapshotCache(path))
    await go_live(hub, client, footer=footer_dict(running=7))
    await client.aclose()
    assert path.exists()

    fresh = RecordingStore()
    later = StatusClient(
        f"http://127.0.0.1:{free_port()}", fresh, cache=SnapshotCache(path), clock=FakeClock()
    )
    try:
        assert later.load_cache()
        assert fresh.state.stale
        assert fresh.state.footer is not None and fresh.state.footer.jobs.running == 7
        assert fresh.state.role is not None and fresh.state.role.value == "admin"
    finally:
        await later.aclose()


async def test_drop_while_rest_answers_goes_polling(
    hub: ScriptedHub, make_client: MakeClient
) -> None:
    client = make_client(hub.base_url)
    conn = await go_live(hub, client)
    seen: list[ConnectionState] = []
    client.store.subscribe(lambda s: seen.append(s.connection))
    hub.refuse_ws = 502
    conn.drop()
    state = await wait_for_state(client.store, lambda s: s.connection is ConnectionState.POLLING)
    assert not state.stale
    assert seen[0] is ConnectionState.CONNECTING  # never "live" once the socket is gone


async def test_run_awaited_directly_ends_on_aclose(hub: ScriptedHub, clock: FakeClock) -> None:
    client = StatusClient(hub.base_url, RecordingStore(), clock=clock)
    runner = asyncio.create_task(client.run())
    conn = await go_live(hub, client)
    await client.aclose()
    assert runner.done() and runner.exception() is None
    await conn.wait_closed()
    await client.aclose()  # idempotent


async def test_cancelling_the_run_task_cleans_up(hub: ScriptedHub, clock: FakeClock) -> None:
    client = StatusClient(hub.base_url, RecordingStore(), clock=clock)
    task = client.start()
    conn = await go_live(hub, client)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await conn.wait_closed()
    assert not clock.asleep()  # watchdog and poller are gone too
    await client.aclose()
