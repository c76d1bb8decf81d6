"""The alert state machine on a fake clock, with a real webhook receiver on loopback."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from studio_status.backoff import EQUAL, backoff_delay
from studio_status.hub.alerts import RETRY_BASE, RETRY_MAX, AlertManager
from studio_status.hub.config import ServiceConfig
from studio_status.hub.health_settings import HealthSettings
from studio_status.hub.state import HealthState
from studio_status.hub.store import create_store
from studio_status.hub.store.sqlite import SqlStore
from studio_status.protocol import HealthStatus
from studio_status.protocol.alerts import FOREVER, MaintenanceIn
from tests.hub.checks.servers import LoopbackServer, Request, Response
from tests.hub.fakeclock import FakeClock

DOWN, HEALTHY, DEGRADED, UNKNOWN = (
    HealthStatus.DOWN,
    HealthStatus.HEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
)


class Receiver:
    """A real HTTP endpoint standing in for Slack / PagerDuty."""

    def __init__(self) -> None:
        self.answers: list[int] = []  # status codes to answer with, then 200
        self.bodies: list[dict[str, Any]] = []
        self.server = LoopbackServer(self.handle)

    async def handle(self, request: Request) -> Response:
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.bodies.append(json.loads(request.body))
        return Response(status, b"ok")

    @property
    def kinds(self) -> list[str]:
        return [b.get("type", "slack") for b in self.bodies]


class Bus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, event_type: str, data: BaseModel) -> None:
        self.events.append((event_type, data.model_dump(mode="json")))

    def alerts(self) -> list[str]:
        out = []
        for event_type, data in self.events:
            if event_type.startswith("alert."):
                details = data["alert"]["details"]
                tag = "flapping" if details.get("flapping") else data["alert"]["status"]
                if details.get("reminder"):
                    tag = "reminder"
                out.append(f"{event_type.removeprefix('alert.')}:{tag}")
        return out


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.server.start()
    yield r
    await r.server.close()


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[SqlStore]:
    s = create_store(database)
    await s.open()
    yield s
    await s.close()


class Rig:
    def __init__(self, store: SqlStore, receiver: Receiver, **alerts: Any) -> None:
        self.clock = FakeClock()
        self.bus = Bus()
        self.receiver = receiver
        self.store = store
        self.alerts_cfg = {"webhook_url": f"{receiver.server.url}/hook", **alerts}
        self.state = HealthState(
            [
                ServiceConfig.model_validate(
                    {"name": "api", "check": {"kind": "tcp", "host": "127.0.0.1", "port": 1}}
                )
            ]
        )
        self.mgr = self.make()

    def make(self, **settings: Any) -> AlertManager:
        health = HealthSettings.model_validate({"alerts": self.alerts_cfg, **settings})
        return AlertManager(self.store, self.state, health, clock=self.clock, publish=self.bus)

    def see(self, status: HealthStatus, message: str | None = None) -> None:
        self.mgr.observe("api", status, message or status.value, self.clock())

    async def step(self, seconds: float = 0) -> None:
        self.clock.advance(seconds)
        self.mgr.tick()
        await self.mgr.flush()
        await self.mgr.deliver_due()


@pytest.fixture
async def rig(store: SqlStore, receiver: Receiver) -> AsyncIterator[Rig]:
    r = Rig(store, receiver)
    await r.mgr.start()
    yield r
    await r.mgr.stop()


async def test_fire_escalate_suppress_resolve(rig: Rig) -> None:
    rig.see(HEALTHY)
    assert rig.bus.alerts() == []
    rig.see(DOWN, "connection refused")
    assert rig.bus.alerts() == ["fired:down"]  # at once, before any tick
    for _ in range(5):
        rig.see(DOWN, "connection refused")
        await rig.step(30)
    assert rig.bus.alerts() == ["fired:down"]  # suppressed while ongoing
    assert rig.receiver.bodies == []  # 150 s: not escalated yet
    await rig.step(149)
    assert rig.receiver.bodies == []
    await rig.step(1)  # 300 s after the notice
    assert rig.receiver.kinds == ["alert.fired"]
    body = rig.receiver.bodies[0]
    assert body["service"] == "api" and body["status"] == "down"
    assert "connection refused" in body["text"]
    await rig.step(600)
    assert rig.receiver.kinds == ["alert.fired"]
    track = rig.mgr.tracks["api"]
    assert track.incident is not None and track.incident.delivered_at is not None
    rig.see(DEGRADED)  # a status change within the incident fires again
    await rig.step(1)
    assert rig.bus.alerts() == ["fired:down", "fired:degraded"]
    assert rig.receiver.kinds == ["alert.fired", "alert.changed"]
    rig.see(HEALTHY)
    rig.see(HEALTHY)
    await rig.step(1)
    await rig.step(1)
    assert rig.bus.alerts() == ["fired:down", "fired:degraded", "resolved:healthy"]
    assert rig.receiver.kinds == ["alert.fired", "alert.changed", "alert.resolved"]


async def test_short_outage_is_never_escalated(rig: Rig) -> None:
    rig.see(DOWN)
    await rig.step(200)
    rig.see(HEALTHY)
    await rig.step(600)
    assert rig.bus.alerts() == ["fired:down", "resolved:healthy"]
    assert rig.receiver.bodies == []


async def test_failed_send_is_retried_and_counts_only_when_sent(rig: Rig) -> None:
    rig.receiver.answers = [500, 503]
    rig.mgr.rng = random.Random(11)
    ref = random.Random(11)
    first, second = (backoff_delay(n, RETRY_BASE, RETRY_MAX, spread=EQUAL, rng=ref) for n in (0, 1))
    assert RETRY_BASE / 2 <= first <= RETRY_BASE <= second <= 2 * RETRY_BASE
    rig.see(DOWN)
    await rig.step(300)
    assert rig.receiver.bodies == []
    incident = rig.mgr.tracks["api"].incident
    assert incident is not None and incident.escalated_at is not None
    assert incident.delivered_at is None
    [row] = await rig.mgr.store.outbox()
    assert row.attempts == 1 and row.sent_at is None and row.last_error == "HTTP 500"
    await rig.step(first - 0.5)  # not due yet
    assert (await rig.mgr.store.outbox())[0].attempts == 1
    await rig.step(1)
    assert (await rig.mgr.store.outbox())[0].last_error == "HTTP 503"
    await rig.step(second + 0.5)
    assert rig.receiver.kinds == ["alert.fired"]
    [row] = await rig.mgr.store.outbox()
    assert row.sent_at is not None and row.attempts == 3
    assert rig.mgr.tracks["api"].incident.delivered_at is not None  # type: ignore[union-attr]


async def test_no_second_page_after_a_restart(rig: Rig) -> None:
    rig.see(DOWN)
    await rig.step(301)
    assert rig.receiver.kinds == ["alert.fired"]
    await rig.mgr.stop()
    rig.bus.events.clear()
    rig.mgr = rig.make()
    await rig.mgr.start()
    for _ in range(3):
        rig.see(DOWN)
        await rig.step(400)
    assert rig.bus.alerts() == []
    assert rig.receiver.kinds == ["alert.fired"]
    rig.see(HEALTHY)
    await rig.step(1)
    assert rig.bus.alerts() == ["resolved:healthy"]
    assert rig.receiver.kinds == ["alert.fired", "alert.resolved"]


async def test_pending_send_survives_a_restart(rig: Rig) -> None:
    rig.receiver.answers = [500]
    rig.see(DOWN)
    await rig.step(300)
    await rig.mgr.stop()
    rig.mgr = rig.make()
    await rig.mgr.start()
    await rig.step(20)
    assert rig.receiver.kinds == ["alert.fired"]


async def test_flapping_is_one_notice(store: SqlStore, receiver: Receiver) -> None:
    rig = Rig(store, receiver, flap_transitions=4, flap_window_seconds=600)
    await rig.mgr.start()
    try:
        rig.see(HEALTHY)
        for i in range(12):
            rig.see(DOWN if i % 2 == 0 else HEALTHY)
            await rig.step(20)
        assert rig.bus.alerts() == [
            "fired:down",
            "resolved:healthy",
            "fired:down",
            "fired:flapping",
        ]
        await rig.step(300)  # the flapping incident escalates once
        assert rig.receiver.kinds == ["alert.flapping"]
        await rig.step(400)  # stable (healthy) for a whole window: one recovery
        assert rig.bus.alerts()[-1] == "resolved:healthy"
        assert len(rig.bus.alerts()) == 5
        assert rig.receiver.kinds == ["alert.flapping", "alert.resolved"]
    finally:
        await rig.mgr.stop()


async def test_thresholds_absorb_single_blips(store: SqlStore, receiver: Receiver) -> None:
    rig = Rig(store, receiver, failures_before_down=3, successes_before_healthy=2)
    await rig.mgr.start()
    try:
        rig.see(HEALTHY)
        rig.see(DOWN)
        rig.see(DOWN)
        rig.see(HEALTHY)  # a blip: the count starts again
        rig.see(DOWN)
        rig.see(UNKNOWN)  # no evidence either way
        rig.see(DOWN)
        assert rig.bus.alerts() == []
        rig.see(DOWN)
        assert rig.bus.alerts() == ["fired:down"]
        rig.see(HEALTHY)
        assert rig.bus.alerts() == ["fired:down"]
        rig.see(HEALTHY)
        assert rig.bus.alerts() == ["fired:down", "resolved:healthy"]
    finally:
        await rig.mgr.stop()


async def test_nothing_sent_during_maintenance(rig: Rig) -> None:
    now = rig.clock()
    await rig.mgr.add_maintenance(
        MaintenanceIn(service="api", start=now, end=now + timedelta(hours=1)), "alice"
    )
    rig.see(DOWN)
    await rig.step(600)
    rig.see(HEALTHY)  # recovered inside the window: never shown at all
    await rig.step(60)
    rig.see(DOWN)
    await rig.step(1800)
    assert rig.bus.alerts() == [] and rig.receiver.bodies == []
    await rig.step(1200)  # the window ended with the service still down: notified now
    assert rig.bus.alerts() == ["fired:down"]
    assert rig.receiver.bodies == []
    await rig.step(300)
    assert rig.receiver.kinds == ["alert.fired"]
    assert rig.mgr.maintenance.intervals("api", now.timestamp(), now.timestamp() + 7200)


async def test_recurring_maintenance_intervals(rig: Rig) -> None:
    now = rig.clock()
    rig.mgr.maintenance.windows.clear()
    await rig.mgr.add_maintenance(
        MaintenanceIn(
            start=now,
            end=now + timedelta(hours=1),
            every_seconds=86400,
            until=now + timedelta(days=3),
        ),
        "alice",
    )
    t0 = now.timestamp()
    got = rig.mgr.maintenance.intervals("any", t0 - 86400, t0 + 10 * 86400)
    assert [(i.start - t0, i.end - t0) for i in got] == [
        (0, 3600),
        (86400, 90000),
        (172800, 176400),
    ]
    assert rig.mgr.maintenance.active("api", now + timedelta(days=1, minutes=30))
    assert not rig.mgr.maintenance.active("api", now + timedelta(days=1, hours=2))


async def test_mute_per_service_and_global(rig: Rig) -> None:
    await rig.mgr.mute("api", timedelta(hours=1), "alice", "deploying")
    assert rig.state.services["api"].muted_until == rig.clock() + timedelta(hours=1)
    assert rig.bus.events[-1][0] == "service.health_changed"
    rig.see(DOWN)
    await rig.step(1800)
    assert rig.bus.alerts() == [] and rig.receiver.bodies == []
    await rig.mgr.mute(None, None, "bob", "night")
    assert rig.state.services["api"].muted_until == FOREVER
    await rig.step(3600)  # the service mute expired; the global one holds
    assert rig.bus.alerts() == []
    assert rig.state.services["api"].muted_until == FOREVER
    assert await rig.mgr.unmute(None)
    assert rig.state.services["api"].muted_until is None
    await rig.step(1)
    assert rig.bus.alerts() == ["fired:down"]
    await rig.step(300)
    assert rig.receiver.kinds == ["alert.fired"]


async def test_mutes_expire_on_the_tick_for_every_service_they_touched(rig: Rig) -> None:
    """The tick revisits only what a mute can touch; expiries still reach each service,
    and a service that appears later shows the mute already set for it."""
    state = rig.state
    state.ensure_service("db", "DB", "tcp")
    await rig.mgr.mute("api", timedelta(hours=1), "alice", None)
    await rig.mgr.mute("web", timedelta(minutes=40), "carol", None)  # not a service yet
    await rig.mgr.mute(None, timedelta(minutes=30), "bob", None)
    assert state.services["db"].muted_until == rig.clock() + timedelta(minutes=30)
    await rig.step(1800)  # the hub-wide mute ended; api's own holds
    assert state.services["db"].muted_until is None
    assert state.services["api"].muted_until == rig.clock() + timedelta(minutes=30)
    state.ensure_service("web", "Web", "tcp")
    await rig.step(1)
    assert state.services["web"].muted_until == rig.clock() + timedelta(minutes=10, seconds=-1)
    await rig.step(600)
    assert state.services["web"].muted_until is None
    await rig.step(1200)
    assert state.services["api"].muted_until is None
    changed = [e[1]["service"] for e in rig.bus.events if e[0] == "service.health_changed"]
    assert changed[-4:] == ["db", "web", "web", "api"]


async def test_mutes_persist(rig: Rig) -> None:
    await rig.mgr.mute("api", None, "alice", None)
    await rig.mgr.stop()
    rig.state.services["api"] = rig.state.services["api"].model_copy(update={"muted_until": None})
    rig.mgr = rig.make()
    await rig.mgr.start()
    assert rig.state.services["api"].muted_until == FOREVER


async def test_slack_body_and_reminders(store: SqlStore, receiver: Receiver) -> None:
    rig = Rig(store, receiver, channels=["dashboard", "slack"], reminder_seconds=3600)
    await rig.mgr.start()
    try:
        rig.see(DOWN, "disk full")
        await rig.step(300)
        assert (
            rig.receiver.bodies == [{"text": rig.receiver.bodies[0]["text"]}]
            and "disk full" in rig.receiver.bodies[0]["text"]
        )
        await rig.step(3300)
        assert rig.bus.alerts() == ["fired:down", "fired:reminder"]
        assert len(rig.receiver.bodies) == 2 and "still down" in rig.receiver.bodies[1]["text"]
        await rig.step(600)
        assert len(rig.bus.alerts()) == 2
    finally:
        await rig.mgr.stop()


async def test_no_webhook_configured_means_dashboard_only(
    store: SqlStore, receiver: Receiver
) -> None:
    rig = Rig(store, receiver, webhook_url=None)
    await rig.mgr.start()
    try:
        rig.see(DOWN)
        await rig.step(600)
        assert rig.bus.alerts() == ["fired:down"]
        assert await rig.mgr.store.outbox() == []
    finally:
        await rig.mgr.stop()


async def test_an_idle_manager_sleeps_until_woken_or_a_retry_is_due(rig: Rig) -> None:
    """The loop's wait: ticks only while time alone can change something (an idle hub with
    every service healthy woke every few seconds to claim an empty outbox)."""
    tick = rig.mgr.tick_seconds
    rig.see(HEALTHY)
    await rig.mgr.round()
    assert rig.mgr.idle_wait() is None  # nothing open, nothing queued: until woken
    rig.see(DOWN)
    assert rig.mgr.idle_wait() == tick  # an open incident: holds and escalation run on time
    await rig.step(301)
    assert rig.receiver.kinds == ["alert.fired"]
    rig.receiver.answers = [500]
    rig.see(HEALTHY)
    await rig.mgr.round()  # the resolved notice fails once: a retry is queued
    assert rig.mgr.tracks["api"].incident is None
    [_, retry] = await rig.mgr.store.outbox()
    assert retry.sent_at is None and retry.last_error == "HTTP 500"
    wait = rig.mgr.idle_wait()
    assert wait is not None and 0 < wait <= RETRY_BASE  # the retry time, not a tick
    rig.clock.advance(wait)
    await rig.mgr.round()
    assert rig.receiver.kinds == ["alert.fired", "alert.resolved"]
    assert rig.mgr.idle_wait() is None
    await rig.mgr.mute("api", timedelta(minutes=5), "ops", None)
    assert rig.mgr.idle_wait() == tick  # a mute that runs out needs the tick
    await rig.mgr.unmute("api")
    await rig.mgr.mute("api", None, "ops", None)
    assert rig.mgr.idle_wait() is None  # until cleared: nothing to count down
    rig.mgr.shared_outbox = True  # replicas look for notices another one queued
    assert rig.mgr.idle_wait() == tick


async def test_a_notice_left_queued_by_an_earlier_run_sets_the_first_wait(rig: Rig) -> None:
    rig.receiver.answers = [500]
    rig.see(DOWN)
    await rig.step(300)  # escalated; the send failed: queued for a retry
    rig.see(HEALTHY)
    await rig.step(1)
    await rig.mgr.stop()
    rig.mgr = rig.make()
    await rig.mgr.start()
    wait = rig.mgr.idle_wait()
    assert wait is not None and wait <= RETRY_BASE
