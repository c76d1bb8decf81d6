"""The notification policy, pure (no Qt): replay at start / reconnect / resume, the hub's
flap state, held recoveries, bursts, batched job failures. A fake clock throughout."""

from __future__ import annotations

from datetime import datetime, timedelta

from studio_status.client.state import ConnectionState, StatusStore
from studio_status.protocol import Event, HealthStatus, JobInfo, JobStatus, Role
from studio_status.protocol.messages import Transition as WireTransition
from studio_status.ui.notify import (
    BURST,
    DEGRADED_HOLD,
    JOB_BATCH,
    RECOVERY_HOLD,
    SETTLE,
    Notification,
    NotificationGate,
)

from .factories import NOW, footer, health_event, services, snapshot

DOWN, DEGRADED, HEALTHY = HealthStatus.DOWN, HealthStatus.DEGRADED, HealthStatus.HEALTHY


class Run:
    """A store and a gate on one fake clock; ``seen`` collects what would be shown."""

    def __init__(self) -> None:
        self.now = NOW
        self.store = StatusStore(clock=lambda: self.now)
        self.gate = NotificationGate(self.now)
        self.seen: list[str] = []
        self.shown: list[Notification] = []
        self.seq = 1
        self.store.subscribe(lambda s: self._show(self.gate.feed(s, self.now)))

    def _show(self, notes: list[Notification]) -> None:
        self.shown.extend(notes)
        self.seen.extend(n.title for n in notes)

    def live(self, **kw: object) -> None:
        snap = snapshot(Role.ADMIN, seq=self.seq, **kw)  # type: ignore[arg-type]
        self.store.apply_snapshot(snap)

    def event(self, event: Event) -> None:
        self.seq += 1
        self.store.apply_event(event.model_copy(update={"seq": self.seq}))

    def service(
        self, name: str, status: HealthStatus, previous: HealthStatus, at: datetime | None = None
    ) -> None:
        self.event(health_event(0, name, status, previous, at or self.now))

    def wait(self, delta: timedelta) -> None:
        """Let time pass in steps, calling the gate whenever it said something was due."""
        end = self.now + delta
        while True:
            due = self.gate.next_due()
            if due is None or due > end:
                break
            self.now = max(self.now, due)
            self._show(self.gate.flush(self.now))
        self.now = end


def test_start_replays_nothing_one_by_one_and_sums_up_what_is_still_wrong() -> None:
    run = Run()
    bad = footer(svc=services(database=DOWN, workers=DOWN))
    snap = snapshot(Role.ADMIN, data=bad)
    history = [
        WireTransition(service=n, previous=HEALTHY, status=st, at=NOW - timedelta(minutes=m))
        for n, st, m in [("comfyui", DOWN, 9), ("comfyui", HEALTHY, 8), ("database", DOWN, 3)]
    ]
    snap = snap.model_copy(update={"data": snap.data.model_copy(update={"transitions": history})})
    run.store.apply_snapshot(snap)
    # the catch-up right after: transitions from before the app was live
    run.service("workers", DOWN, HEALTHY, at=NOW - timedelta(seconds=40))
    run.service("comfyui", DEGRADED, HEALTHY, at=NOW - timedelta(seconds=30))
    run.service("comfyui", HEALTHY, DEGRADED, at=NOW - timedelta(seconds=20))
    run.wait(SETTLE + BURST + timedelta(seconds=1))
    assert run.seen == ["2 services down: DB, Workers"]
    run.wait(RECOVERY_HOLD * 2)
    assert run.seen == ["2 services down: DB, Workers"]  # nothing else, ever


def test_a_start_with_all_well_says_nothing() -> None:
    run = Run()
    run.live()
    run.wait(timedelta(minutes=5))
    assert run.seen == []


def test_resume_from_sleep_tells_no_transition_that_is_over() -> None:
    run = Run()
    run.live()
    run.wait(timedelta(seconds=30))
    slept = run.now
    run.store.set_connection(ConnectionState.OFFLINE)
    run.now += timedelta(seconds=75)  # the laptop sleeps
    run.store.set_connection(ConnectionState.LIVE)
    run.store.apply_heartbeat(run.seq)
    for i, (name, status, previous) in enumerate(
        [
            ("database", DOWN, HEALTHY),
            ("workers", DEGRADED, HEALTHY),
            ("database", HEALTHY, DOWN),
            ("comfyui", DOWN, HEALTHY),
            ("workers", HEALTHY, DEGRADED),
            ("comfyui", HEALTHY, DOWN),
            ("workers", DOWN, HEALTHY),
        ]
    ):
        run.service(name, status, previous, at=slept + timedelta(seconds=5 + 9 * i))
    run.wait(timedelta(minutes=3))
    assert run.seen == ["1 service down: Workers"]


def test_live_changes_in_a_burst_are_one_notification() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    run.service("database", DOWN, HEALTHY)
    run.now += timedelta(seconds=1)
    run.service("comfyui", DOWN, HEALTHY)
    run.service("workers", DOWN, HEALTHY)
    run.wait(BURST)
    assert run.seen == ["3 changes: DB is down"]
    (note,) = run.shown
    # the body adds to the title: the lead's cause, then the others, each once
    assert note.body.count("DB is down") == 0
    assert "Also: ComfyUI is down; Workers is down." in note.body


def test_a_short_slow_spell_is_not_a_notification() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    run.service("database", DEGRADED, HEALTHY)
    run.wait(DEGRADED_HOLD / 2)
    run.service("database", HEALTHY, DEGRADED)
    run.wait(RECOVERY_HOLD * 2)
    assert run.seen == []  # the strip showed it; nothing to tell, nothing to take back
    run.service("database", DEGRADED, HEALTHY)
    run.wait(DEGRADED_HOLD + BURST + timedelta(seconds=1))
    assert run.seen == ["DB is degraded"]


def test_a_flapping_service_is_told_once_until_it_settles() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    run.service("comfyui", DOWN, HEALTHY)
    run.wait(BURST + timedelta(seconds=1))
    assert run.seen == ["ComfyUI is down"]
    # the hub calls it flapping (an alert with details.flapping), then it keeps flipping
    alert = {
        "id": "a1",
        "service": "comfyui",
        "state": "firing",
        "status": "down",
        "fired_at": run.now.isoformat(),
        "details": {"flapping": True},
    }
    run.event(Event(seq=0, type="alert.fired", ts=run.now, data={"alert": alert}))
    for i in range(12):
        run.wait(timedelta(seconds=20))
        up = i % 2 == 0
        run.service("comfyui", HEALTHY if up else DOWN, DOWN if up else HEALTHY)
    run.wait(RECOVERY_HOLD * 2)
    assert run.seen == ["ComfyUI is down", "ComfyUI is flapping"]
    # it settles (healthy): the hub resolves the flapping incident; that is news, once
    run.service("comfyui", HEALTHY, DOWN)
    resolved = {**alert, "state": "resolved", "status": "healthy", "details": {}}
    run.event(Event(seq=0, type="alert.resolved", ts=run.now, data={"alert": resolved}))
    run.wait(RECOVERY_HOLD + BURST + timedelta(seconds=1))
    assert run.seen == ["ComfyUI is down", "ComfyUI is flapping", "ComfyUI recovered"]


def test_snapshot_flap_state_means_no_notice_per_flip_after_a_reconnect() -> None:
    run = Run()
    snap = snapshot(Role.ADMIN, data=footer(svc=services(comfyui=DOWN)))
    snap = snap.model_copy(update={"data": snap.data.model_copy(update={"flapping": ["comfyui"]})})
    run.store.apply_snapshot(snap)
    for i in range(6):
        run.wait(timedelta(seconds=30))
        run.service("comfyui", HEALTHY if i % 2 == 0 else DOWN, DOWN if i % 2 == 0 else HEALTHY)
    run.wait(RECOVERY_HOLD * 2)
    assert run.seen == ["ComfyUI is flapping"]


def test_a_recovery_that_does_not_hold_is_not_news() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    run.service("database", DOWN, HEALTHY)
    run.wait(BURST + timedelta(seconds=1))
    run.service("database", HEALTHY, DOWN)
    run.wait(timedelta(seconds=20))
    run.service("database", DOWN, HEALTHY)  # back down before the recovery held
    run.wait(RECOVERY_HOLD * 2)
    assert run.seen == ["DB is down"]
    run.service("database", HEALTHY, DOWN)
    run.wait(RECOVERY_HOLD + BURST + timedelta(seconds=1))
    assert run.seen == ["DB is down", "DB recovered"]


def _failed(run: Run, job_id: str) -> None:
    job = JobInfo(id=job_id, status=JobStatus.FAILED, error="out of memory")
    data = {"job": job.model_dump(mode="json"), "previous": "running"}
    run.event(Event(seq=0, type="job.status_changed", ts=run.now, data=data))


def test_job_failures_are_batched_per_minute() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    for i in range(3):
        _failed(run, f"j{i}")
        run.wait(timedelta(seconds=10))
    run.wait(JOB_BATCH + BURST)
    assert run.seen == ["3 jobs failed in the last minute"]
    _failed(run, "j9")
    run.wait(JOB_BATCH + BURST)
    assert run.seen[-1] == "Job failed"


def test_kinds_the_user_turned_off_are_never_merged_in() -> None:
    from studio_status.appconfig import Transition

    run = Run()
    run.gate.kinds = frozenset({Transition.SERVICE_DOWN})
    run.live()
    run.wait(SETTLE + BURST)
    run.service("database", DOWN, HEALTHY)
    run.service("comfyui", DEGRADED, HEALTHY)
    run.wait(DEGRADED_HOLD + BURST + timedelta(seconds=1))
    assert run.seen == ["DB is down"]


def test_resume_seen_only_through_a_coalesced_feed_is_still_replay() -> None:
    """The tray sees states at most every 250 ms: a reconnect can be over before it looks.
    The store's own ``live_since`` still tells the catch-up from news."""
    now = NOW
    store = StatusStore(clock=lambda: now)
    gate = NotificationGate(now)
    store.apply_snapshot(snapshot(Role.ADMIN))
    assert gate.feed(store.state, now) == []
    slept = now
    now += timedelta(seconds=75)
    store.set_connection(ConnectionState.CONNECTING)  # the kick after the wall-clock jump
    store.set_connection(ConnectionState.LIVE)  # resumed
    for i, name in enumerate(("database", "comfyui", "workers")):
        at = slept + timedelta(seconds=10 * (i + 1))
        store.apply_event(health_event(2 + 2 * i, name, DOWN, HEALTHY, at))
        store.apply_event(health_event(3 + 2 * i, name, HEALTHY, DOWN, at))
    seen = gate.feed(store.state, now)  # one coalesced state after it all
    for _ in range(40):
        now += timedelta(seconds=5)
        seen += gate.flush(now)
    assert seen == []


def test_the_body_adds_to_the_title() -> None:
    run = Run()
    run.live()
    run.wait(SETTLE + BURST)
    event = health_event(0, "database", DOWN, HEALTHY, run.now)
    data = dict(event.data)
    data["current"] = {**data["current"], "label": "DB", "error_message": "connection refused"}
    run.event(event.model_copy(update={"data": data}))
    notes = []
    for _ in range(3):
        run.now += BURST
        notes += run.gate.flush(run.now)
    assert [(n.title, n.body) for n in notes] == [("DB is down", "connection refused")]
