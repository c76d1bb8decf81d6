"""How many notifications ten minutes of the demo raise: the seeded simulator's own script,
stepped once a second on a fake clock, through the store and the notification policy.

The demo's plant is probed by ordinary checks that follow a setting within a check, so each
setting is turned into the status its check reports (``slow`` comfyui-2 or database:
degraded; comfyui-2 down: ComfyUI degraded, one of two instances; database down: down; a
worker down: Workers degraded, 3/4 online). The hub's own flap detection is not modelled
here, so this count is an upper bound for the real demo, where a service the hub calls
flapping is one notice. The ceiling and why it is humane are in the README; the real app's
count, under Xvfb through a real notification server, is ``test_demo_notifications_xvfb.py``.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

from studio_status.appconfig import Transition
from studio_status.client.state import StatusStore
from studio_status.hub.cloud import budget_summary
from studio_status.hub.sources.simulator import DEMO_BUDGET_CENTS, StudioScript
from studio_status.protocol import Event, HealthStatus, JobInfo, JobStatus, Role
from studio_status.ui.notify import NotificationGate

from .factories import NOW, footer, footer_event, health_event, services, snapshot

#: The README's ceiling for ten minutes of the demo (see "What the strip tells you").
CEILING_PER_10_MIN = 20

_STATUS = {
    ("comfyui-2", "slow"): ("comfyui", HealthStatus.DEGRADED),
    ("comfyui-2", "down"): ("comfyui", HealthStatus.DEGRADED),
    ("database", "slow"): ("database", HealthStatus.DEGRADED),
    ("database", "down"): ("database", HealthStatus.DOWN),
    ("worker-3", "down"): ("workers", HealthStatus.DEGRADED),
}
_OK = {"comfyui-2": "comfyui", "database": "database", "worker-3": "workers"}


def ten_minutes(seed: int = 7) -> list[tuple[float, Transition, str]]:
    now = NOW
    store = StatusStore(clock=lambda: now)
    gate = NotificationGate(now)
    told: list[tuple[float, Transition, str]] = []

    def take(notes: list) -> None:  # type: ignore[type-arg]
        told.extend(((now - NOW).total_seconds(), n.kind, n.title) for n in notes)

    store.subscribe(lambda s: take(gate.feed(s, now)))
    store.apply_snapshot(snapshot(Role.ADMIN, data=footer(svc=services())))
    script = StudioScript(seed)
    status = {name: HealthStatus.HEALTHY for name in ("comfyui", "database", "workers")}
    seq = 1
    for second in range(600):
        now = NOW + timedelta(seconds=second)
        take(gate.flush(now))
        step = script.step(now)
        for setting in step.plant:
            name, new = _STATUS.get(
                (setting.service, setting.mode), (_OK[setting.service], HealthStatus.HEALTHY)
            )
            if new is status[name]:
                continue
            seq += 1
            store.apply_event(health_event(seq, name, new, status[name], now))
            status[name] = new
        for pod, previous in step.pods:  # as the hub's cloud service publishes them
            seq += 1
            data = {"pod": pod.model_dump(mode="json"), "previous": previous}
            store.apply_event(Event(seq=seq, type="cloud.pod_status_changed", ts=now, data=data))
        cloud = budget_summary(script.pods, DEMO_BUDGET_CENTS)  # the footer's cloud part
        shown = store.state.footer
        if shown is not None and shown.cloud_gpu != cloud:
            seq += 1
            store.apply_event(footer_event(seq, shown.model_copy(update={"cloud_gpu": cloud})))
        for job in step.jobs:
            if job.kind != "failed":
                continue
            seq += 1
            info = JobInfo(id=job.job_id, status=JobStatus.FAILED, error=job.error)
            data = {"job": info.model_dump(mode="json"), "previous": "running"}
            store.apply_event(Event(seq=seq, type="job.status_changed", ts=now, data=data))
    for extra in range(1, 120):  # what was still held falls due
        now = NOW + timedelta(seconds=600 + extra)
        take(gate.flush(now))
    return told


def test_ten_minutes_of_demo_stay_under_a_humane_ceiling() -> None:
    told = ten_minutes()
    assert len(told) <= CEILING_PER_10_MIN, "\n".join(f"{t:5.0f} s {title}" for t, _, title in told)
    # never two notifications within the burst window of each other
    times = [t for t, _, _ in told]
    assert all(b - a >= 4 for a, b in pairwise(times))
    # and the demo still shows what notifications are for, early on
    kinds = Counter(kind for t, kind, _ in told if t < 300)
    assert kinds[Transition.SERVICE_DEGRADED] + kinds[Transition.SERVICE_DOWN] >= 1
    assert kinds[Transition.SERVICE_RECOVERED] >= 1
    assert kinds[Transition.POD_ERROR] >= 1
    assert kinds[Transition.BUDGET_EXCEEDED] >= 1


def test_the_count_is_the_same_for_the_same_seed() -> None:
    assert ten_minutes(7) == ten_minutes(7)
