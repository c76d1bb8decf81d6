"""Seed 000's exact segment texts, idle texts and edge cases (pure, no Qt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from studio_status.client.state import ConnectionState, Notice, Segment, StatusState
from studio_status.protocol import (
    BudgetStatus,
    CloudGpuSummary,
    FooterService,
    HealthStatus,
    JobsSummary,
    Role,
    StabilityState,
    WorkflowsSummary,
)
from studio_status.ui import formats
from studio_status.ui.formats import Overall

from .factories import NOW, footer, services


def test_services_seed_example() -> None:
    assert formats.services_text(services()) == "● ComfyUI  ● DB  ● Workers 3/4"


def test_services_glyph_follows_state() -> None:
    svc = services(HealthStatus.DEGRADED, HealthStatus.DOWN, HealthStatus.UNKNOWN)
    assert formats.services_text(svc) == "▲ ComfyUI  ■ DB  ? Workers 3/4"


def test_service_labels() -> None:
    assert formats.service_label("database", FooterService()) == "DB"
    assert formats.service_label("redis", FooterService()) == "redis"
    assert formats.service_label("database", FooterService(label="Postgres")) == "Postgres"
    assert formats.service_label("gpu", FooterService(online=0, total=2)) == "gpu 0/2"
    assert formats.service_label("workers", FooterService(online=3)) == "Workers"  # no total


def test_services_empty() -> None:
    assert formats.services_text({}) == "? No services"
    assert formats.services_text(None) == "? No services"


@pytest.mark.parametrize(
    ("pods", "cents", "text"),
    [
        (2, 124, "☁ 2 pods · $1.24/hr"),
        (1, 44, "☁ 1 pod · $0.44/hr"),
        (0, 0, "☁ No GPUs"),
        (0, 300, "☁ No GPUs"),
        (3, 5, "☁ 3 pods · $0.05/hr"),
        (40, 123450, "☁ 40 pods · $1,234.50/hr"),
    ],
)
def test_cloud(pods: int, cents: int, text: str) -> None:
    assert formats.cloud_text(CloudGpuSummary(active_pods=pods, cost_per_hour_cents=cents)) == text


def test_cloud_none_and_tooltip() -> None:
    assert formats.cloud_text(None) == "☁ No GPUs"
    tip = formats.cloud_tooltip(
        CloudGpuSummary(active_pods=2, cost_per_hour_cents=124, budget_status=BudgetStatus.EXCEEDED)
    )
    assert "2 active pods · $1.24/hr" in tip
    assert "■ Budget exceeded" in tip


@pytest.mark.parametrize(
    ("running", "queued", "progress", "text"),
    [
        (3, 5, 72, "⚡ 3 running · 5 queued · 72%"),
        (0, 0, None, "⚡ No active jobs"),
        (0, 0, 50, "⚡ No active jobs"),
        (0, 5, None, "⚡ 5 queued"),
        (0, 5, 40, "⚡ 5 queued"),  # nothing runs: a percentage would be invented
        (3, 0, 10, "⚡ 3 running · 10%"),
        (3, 5, None, "⚡ 3 running · 5 queued"),  # progress unknown: no %
        (1, 0, 0, "⚡ 1 running · 0%"),
        (2, 1, 100, "⚡ 2 running · 1 queued · 100%"),
    ],
)
def test_jobs(running: int, queued: int, progress: int | None, text: str) -> None:
    jobs = JobsSummary(running=running, queued=queued, overall_progress=progress)
    assert formats.jobs_text(jobs) == text


def test_jobs_tooltip() -> None:
    tip = formats.jobs_tooltip(
        JobsSummary(running=3, queued=5, overall_progress=None, eta_seconds=720)
    )
    assert "3 running, 5 queued" in tip
    assert "not reported" in tip
    assert "About 12 min remaining" in tip
    tip = formats.jobs_tooltip(
        JobsSummary(running=1, queued=2, eta_seconds=60, eta_covers="running", stalled=2)
    )
    assert "About 1 min remaining for the running jobs" in tip
    assert formats.jobs_text(JobsSummary(stalled=3)) == "⚡ 3 stalled"
    assert "2 stalled: no word from their source" in tip


@pytest.mark.parametrize(
    ("active", "stage", "text"),
    [
        (2, "generating", "⟳ 2 workflows · generating"),
        (1, "rendering", "⟳ 1 workflow · rendering"),
        (1, None, "⟳ 1 workflow"),
        (3, "   ", "⟳ 3 workflows"),
        (0, None, "⟳ No active workflows"),
        (0, "generating", "⟳ No active workflows"),
        (
            1,
            "upscaling and colour grading the final cut",
            "⟳ 1 workflow · upscaling and colour gr…",
        ),
    ],
)
def test_workflows(active: int, stage: str | None, text: str) -> None:
    assert formats.workflows_text(WorkflowsSummary(active=active, current_stage=stage)) == text


def test_service_tooltip_has_checked_time_and_latency() -> None:
    svc = services(at=NOW - timedelta(seconds=8))
    tip = formats.services_tooltip(svc, NOW, UTC)
    lines = tip.splitlines()
    assert lines[0] == "● ComfyUI — healthy · 2 instances · 12 ms · checked 12:04:23 (8 s ago)"
    assert lines[1] == "● DB — healthy · 3 ms · checked 12:04:23 (8 s ago)"
    assert lines[2].startswith("● Workers — healthy · 3/4 online")
    never = formats.service_tooltip_line("x", FooterService(), NOW, UTC)
    assert never == "? x — unknown · not checked yet"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "just now"),
        (42, "42 s ago"),
        (180, "3 min ago"),
        (7200, "2 h ago"),
        (3 * 86400, "3 d ago"),
    ],
)
def test_ago(seconds: int, text: str) -> None:
    assert formats.ago(NOW - timedelta(seconds=seconds), NOW) == text


def _state(**kw: object) -> StatusState:
    base = StatusState(
        role=Role.ADMIN, footer=footer(), connection=ConnectionState.LIVE, stale=False
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_connection_text_offline_says_since_when() -> None:
    state = _state(
        connection=ConnectionState.OFFLINE,
        stale=True,
        updated_at=NOW - timedelta(minutes=3),
        offline_since=NOW.replace(minute=4, second=0),
    )
    text = formats.connection_text(state, NOW, UTC)
    assert text == "Last update 3 min ago — hub unreachable since 12:04"


def test_connection_text_live_is_silent_and_others_speak() -> None:
    assert formats.connection_text(_state(updated_at=NOW), NOW, UTC) is None
    assert formats.connection_text(_state(connection=ConnectionState.POLLING), NOW) == "Polling"
    connecting = StatusState()
    assert formats.connection_text(connecting, NOW) == "Connecting…"
    cached = _state(
        connection=ConnectionState.CONNECTING, stale=True, updated_at=NOW - timedelta(hours=2)
    )
    assert formats.connection_text(cached, NOW) == "Last update 2 h ago — connecting…"
    stale_live = _state(stale=True, updated_at=NOW - timedelta(seconds=50))
    assert formats.connection_text(stale_live, NOW) == "Last update 50 s ago — waiting for the hub"
    offline_empty = StatusState(connection=ConnectionState.OFFLINE)
    assert formats.connection_text(offline_empty, NOW) == "No data yet — hub unreachable"


def test_connection_tooltip() -> None:
    state = _state(updated_at=NOW)
    tip = formats.connection_tooltip(state, NOW, "http://hub:8765", UTC)
    assert tip.splitlines()[0] == "Live: event stream connected (http://hub:8765)"
    assert "Signed in as admin" in tip


def test_overall_admin_is_worst_service() -> None:
    assert formats.overall_status(_state()) is Overall.HEALTHY
    bad = footer(svc=services(database=HealthStatus.DOWN, workers=HealthStatus.DEGRADED))
    assert formats.overall_status(_state(footer=bad)) is Overall.DOWN
    assert formats.overall_status(_state(connection=ConnectionState.OFFLINE)) is Overall.UNKNOWN
    assert formats.overall_status(StatusState()) is Overall.UNKNOWN


def test_overall_non_admin_follows_activity() -> None:
    creator = _state(role=Role.CREATOR, footer=footer(Role.CREATOR, running=0, queued=0))
    assert formats.overall_status(creator) is Overall.HEALTHY
    assert formats.overall_text(creator) == "System Stable"
    busy = replace(creator, stability=StabilityState.PROCESSING)
    assert formats.overall_status(busy) is Overall.PROCESSING
    assert formats.overall_text(busy) == "Processing Data"
    running = _state(role=Role.CREATOR, footer=footer(Role.CREATOR))
    assert formats.overall_status(running) is Overall.PROCESSING


def test_tray_tooltip_by_role() -> None:
    admin = formats.tray_tooltip(_state(updated_at=NOW), NOW)
    assert "● ComfyUI  ● DB  ● Workers 3/4" in admin
    assert "☁ 2 pods · $1.24/hr" in admin
    creator = formats.tray_tooltip(_state(role=Role.CREATOR, footer=footer(Role.CREATOR)), NOW)
    assert "ComfyUI" not in creator and "☁" not in creator
    assert "⚡ 3 running · 5 queued · 72%" in creator


def test_notice_line() -> None:
    notice = Notice(7, Segment.SERVICES, NOW, "comfyui", HealthStatus.DEGRADED, "ComfyUI degraded")
    assert formats.notice_line(notice, UTC) == "12:04:31  ▲ ComfyUI degraded"


def test_simulated_data_is_always_labelled() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from studio_status.client.state import ConnectionState, StatusState

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    live = StatusState(connection=ConnectionState.LIVE, stale=False)
    assert formats.connection_text(live, now) is None
    demo = replace(live, simulated=True)
    assert formats.connection_text(demo, now) == "Simulated studio"
