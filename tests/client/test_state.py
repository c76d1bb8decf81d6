"""The store's rules, fed parsed messages directly: no sockets, no clocks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from studio_status.client import ConnectionState, Segment, StatusState, StatusStore
from studio_status.client.state import HISTORY
from studio_status.protocol import (
    Event,
    FooterData,
    HealthStatus,
    ProtocolError,
    Role,
    SnapshotMessage,
    StabilityState,
    parse_model,
    parse_server_message,
)

from .helpers import footer_dict

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(seq: int = 10, hub_id: str = "hub-a", **data: Any) -> SnapshotMessage:
    body: dict[str, Any] = {"role": "admin", "footer": footer_dict()}
    body.update(data)
    return parse_model(
        SnapshotMessage,
        {"type": "snapshot", "seq": seq, "ts": T0, "hub_id": hub_id, "data": body},
        "snapshot",
    )


def event(seq: int, type_: str, data: dict[str, Any]) -> Event:
    return Event(seq=seq, type=type_, ts=T0, data=data)


def service(name: str, status: str, previous: str | None = "healthy") -> dict[str, Any]:
    return {
        "service": name,
        "previous": previous,
        "current": {"name": name, "status": status, "error_message": "refused"},
    }


@pytest.fixture
def store() -> StatusStore:
    s = StatusStore(clock=lambda: T0)
    s.apply_snapshot(snapshot(seq=10))
    return s


def test_fresh_store_is_connecting_and_stale() -> None:
    state = StatusStore().state
    assert state.connection is ConnectionState.CONNECTING
    assert state.stale
    assert state.worst is HealthStatus.UNKNOWN


def test_snapshot_replaces_state_and_goes_live() -> None:
    s = StatusStore(clock=lambda: T0)
    seen: list[StatusState] = []
    s.subscribe(seen.append)
    s.apply_snapshot(
        snapshot(
            seq=7,
            services={"db": {"name": "db", "label": "DB", "status": "degraded"}},
            transitions=[{"service": "db", "previous": "healthy", "status": "degraded", "at": T0}],
        )
    )
    state = s.state
    assert (state.last_seq, state.hub_id, state.role) == (7, "hub-a", Role.ADMIN)
    assert state.connection is ConnectionState.LIVE and not state.stale
    assert state.services["db"].status is HealthStatus.DEGRADED
    assert [n.text for n in state.history[Segment.SERVICES]] == ["DB degraded"]  # the label
    assert state.worst is HealthStatus.HEALTHY  # footer services are both healthy
    assert len(seen) == 1


def test_service_health_changed_updates_footer_and_notices(store: StatusStore) -> None:
    assert store.apply_event(event(11, "service.health_changed", service("database", "down")))
    state = store.state
    assert state.footer is not None and state.footer.services is not None
    assert state.footer.services["database"].status is HealthStatus.DOWN
    assert state.worst is HealthStatus.DOWN
    notice = state.history[Segment.SERVICES][-1]
    assert notice.severity is HealthStatus.DOWN and notice.previous is HealthStatus.HEALTHY
    assert notice.text == "database down: refused"


def test_footer_changed_replaces_footer(store: StatusStore) -> None:
    data = {"footer": footer_dict(running=9, admin=False)}
    assert store.apply_event(event(11, "status.footer_changed", data))
    assert store.state.footer is not None and store.state.footer.jobs.running == 9
    assert store.state.footer.services is None


def test_pod_job_workflow_alert_stability_events(store: StatusStore) -> None:
    pod = {"pod": {"id": "p1", "name": "gpu-1", "status": "ERROR"}, "previous": "RUNNING"}
    job = {"job": {"id": "j1", "status": "running", "progress": 5}}
    progress = {"job_id": "j1", "progress": 55, "eta_seconds": 30}
    failed = {"job": {"id": "j2", "status": "failed", "error": "OOM"}}
    workflow = {"workflow": {"id": "w1", "name": "Scene 4", "stage": "upscaling"}}
    alert = {
        "alert": {
            "id": "a1",
            "service": "db",
            "state": "firing",
            "status": "down",
            "fired_at": T0.isoformat(),
        }
    }
    resolved = {"alert": {**alert["alert"], "state": "resolved", "resolved_at": T0.isoformat()}}
    events: list[tuple[str, dict[str, Any]]] = [
        ("cloud.pod_status_changed", pod),
        ("job.status_changed", job),
        ("job.progress", progress),
        ("job.status_changed", failed),
        ("workflow.status_changed", workflow),
        ("alert.fired", alert),
        ("alert.resolved", resolved),
        ("system.stability_changed", {"state": "processing", "active_jobs": 3}),
        ("system.snapshot", {"system": "hpc-1", "availability": "up"}),
    ]
    for seq, (type_, data) in enumerate(events, start=11):
        assert store.apply_event(event(seq, type_, data)), type_
    state = store.state
    assert state.last_seq == 10 + len(events)
    assert state.pods["p1"].status == "ERROR"
    assert state.history[Segment.CLOUD_GPU][-1].severity is HealthStatus.DOWN
    # words, not the provider's enums
    assert state.history[Segment.CLOUD_GPU][-1].text == "pod gpu-1 error (was running)"
    assert state.jobs["j1"].progress == 55 and state.jobs["j1"].eta_seconds == 30
    assert "j2" not in state.jobs
    assert state.history[Segment.JOBS][-1].text == "job j2 failed: OOM"
    assert state.workflows["w1"].stage == "upscaling"
    assert state.history[Segment.WORKFLOWS][-1].text == "Scene 4: upscaling"
    # an id that already says "job" is not doubled; a known type leads
    again = {"job": {"id": "job-7-719", "type": "render", "status": "completed"}}
    assert store.apply_event(event(10 + len(events) + 1, "job.status_changed", again))
    assert store.state.history[Segment.JOBS][-1].text == "render job-7-719 completed"
    assert state.alerts["a1"].state.value == "resolved"
    assert state.stability is StabilityState.PROCESSING


def test_progress_for_unknown_job_is_harmless(store: StatusStore) -> None:
    assert store.apply_event(event(11, "job.progress", {"job_id": "nope", "progress": 3}))
    assert store.state.jobs == {}


def test_unknown_event_type_is_tolerated(store: StatusStore) -> None:
    before = store.state
    assert store.apply_event(event(11, "render.farm_exploded", {"anything": [1, 2]}))
    assert store.state.last_seq == 11
    assert store.state.footer == before.footer


def test_malformed_known_type_is_dropped_but_its_seq_counts(
    store: StatusStore, caplog: pytest.LogCaptureFixture
) -> None:
    before = store.state
    with caplog.at_level(logging.WARNING, logger="client.state"):
        assert not store.apply_event(event(11, "job.status_changed", {"job": {"id": "x"}}))
    assert "dropped event seq=11" in caplog.text
    assert store.state.jobs == before.jobs
    assert store.state.last_seq == 11  # so a resume does not ask for it again


def test_parse_refuses_a_malformed_known_event() -> None:
    with pytest.raises(ProtocolError, match=r"job\.status_changed"):
        parse_server_message(
            '{"seq": 1, "type": "job.status_changed", "ts": "2026-01-01T00:00:00Z", "data": {}}'
        )


@pytest.mark.parametrize("seq", [5, 9, 10])
def test_duplicate_or_old_seq_is_dropped(store: StatusStore, seq: int) -> None:
    version = store.state.version
    assert not store.apply_event(
        event(seq, "job.status_changed", {"job": {"id": "j", "status": "running"}})
    )
    assert store.state.version == version
    assert store.state.last_seq == 10
    assert store.state.jobs == {}


def test_heartbeat_freshens_and_advances_last_seq_past_filtered_events(
    store: StatusStore,
) -> None:
    store.mark_stale()
    store.apply_heartbeat(15)  # 11..15 were filtered out for us: the hub says we are caught up
    assert not store.state.stale
    assert store.state.last_seq == 15
    store.apply_heartbeat(12)  # never backwards
    assert store.state.last_seq == 15


def test_connection_and_stale_transitions(store: StatusStore) -> None:
    assert not store.state.stale
    store.mark_stale()
    assert store.state.stale
    version = store.state.version
    store.mark_stale()  # no change, no repaint
    assert store.state.version == version

    store.set_connection(ConnectionState.OFFLINE)
    assert store.state.offline_since == T0 and store.state.stale
    assert store.state.worst is HealthStatus.UNKNOWN  # never green while offline

    store.apply_footer(FooterData.model_validate(footer_dict()), polled=True)
    assert store.state.connection is ConnectionState.POLLING
    assert not store.state.stale and store.state.offline_since is None

    store.set_connection(ConnectionState.LIVE)
    store.apply_footer(FooterData.model_validate(footer_dict(running=2)), polled=True)
    assert store.state.connection is ConnectionState.LIVE  # a late poll does not demote live


def test_load_cached_is_stale() -> None:
    s = StatusStore()
    s.load_cached(FooterData.model_validate(footer_dict()), Role.CREATOR, T0)
    assert s.state.stale and s.state.role is Role.CREATOR and s.state.updated_at == T0
    assert s.state.connection is ConnectionState.CONNECTING


def test_notice_history_is_capped(store: StatusStore) -> None:
    for i in range(12):
        status = "down" if i % 2 == 0 else "healthy"
        previous = "healthy" if i % 2 == 0 else "down"
        store.apply_event(event(11 + i, "service.health_changed", service("db", status, previous)))
    history = store.state.history[Segment.SERVICES]
    assert len(history) == HISTORY == 5
    ids = [n.id for n in history]
    assert ids == sorted(ids) and ids[-1] == store.state.last_notice_id


def test_a_broken_listener_does_not_stop_the_others(
    store: StatusStore, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def broken(state: StatusState) -> None:
        raise RuntimeError("view bug")

    store.subscribe(broken)
    unsubscribe = store.subscribe(lambda s: seen.append(s.version))
    with caplog.at_level(logging.ERROR, logger="client.state"):
        store.mark_stale()
    assert len(seen) == 1
    unsubscribe()
    store.apply_heartbeat(10)
    assert len(seen) == 1


def test_snapshot_carries_the_stability_now(store: StatusStore) -> None:
    """Seed 003's state is known from the snapshot, not only after the next change; a
    listener that is not connected vouches for nothing, and no listener means not known."""
    busy = {"state": "processing", "active_jobs": None, "listening": True}
    store.apply_snapshot(snapshot(role="creator", stability=busy))
    assert store.state.stability is StabilityState.PROCESSING
    stale = {"state": "processing", "active_jobs": None, "listening": False}
    store.apply_snapshot(snapshot(seq=11, role="creator", stability=stale))
    assert store.state.stability is None
    store.apply_snapshot(snapshot(seq=12, role="creator", stability={**busy, "state": "stable"}))
    assert store.state.stability is StabilityState.STABLE
    store.apply_snapshot(snapshot(seq=13, role="creator"))
    assert store.state.stability is None
