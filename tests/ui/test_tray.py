"""Tray icon: colour and shape per state (read from the pixels), badge, menu, notices, mute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage

from studio_status import pace
from studio_status.client.state import ConnectionState, Notice, Segment, StatusState, StatusStore
from studio_status.protocol import BudgetStatus, HealthStatus, JobInfo, JobStatus, Role
from studio_status.protocol import Event as WireEvent
from studio_status.ui.feed import StateFeed
from studio_status.ui.formats import Overall
from studio_status.ui.notify import NotificationGate
from studio_status.ui.theme import DARK, LIGHT, Theme
from studio_status.ui.tray import TRAY_SIZES, TrayIcon, render_tray_icon, render_tray_pixmap

from .factories import footer, footer_event, health_event, services, snapshot


def body_color(image: QImage) -> QColor:
    """A point inside every shape (disc, triangle, square) and clear of the glyph."""
    return image.pixelColor(round(image.width() * 0.3), round(image.height() * 0.8))


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
@pytest.mark.parametrize("overall", list(Overall))
@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_pixmap_colour_per_state(qapp: Any, theme: Theme, overall: Overall, dpr: float) -> None:
    pix = render_tray_pixmap(theme, overall, 32, dpr)
    assert pix.width() == round(32 * dpr)
    assert body_color(pix.toImage()) == theme.overall_color(overall)


def test_shapes_differ_not_only_colours(qapp: Any) -> None:
    # a corner pixel: inside the square (down), outside the disc (healthy) and triangle
    corner = (4, 4)
    down = render_tray_pixmap(LIGHT, Overall.DOWN, 32).toImage().pixelColor(*corner)
    healthy = render_tray_pixmap(LIGHT, Overall.HEALTHY, 32).toImage().pixelColor(*corner)
    degraded = render_tray_pixmap(LIGHT, Overall.DEGRADED, 32).toImage().pixelColor(*corner)
    assert down.alpha() == 255 and healthy.alpha() == 0 and degraded.alpha() == 0


def test_icon_is_drawn_at_every_size(qapp: Any) -> None:
    icon = render_tray_icon(LIGHT, Overall.HEALTHY)
    sizes = {s.width() for s in icon.availableSizes()}
    assert {16, 22, 24, 32, 48, 64} <= sizes
    assert len(icon.availableSizes()) >= len(TRAY_SIZES)


def test_badge_drawn(qapp: Any) -> None:
    plain = render_tray_pixmap(LIGHT, Overall.DOWN, 32).toImage()
    badged = render_tray_pixmap(LIGHT, Overall.DOWN, 32, badge=2).toImage()
    assert plain != badged
    assert render_tray_pixmap(LIGHT, Overall.DOWN, 16, badge=2).toImage() == (
        render_tray_pixmap(LIGHT, Overall.DOWN, 16).toImage()
    )  # too small for a readable badge


@pytest.fixture
def tray(qapp: Any, store: StatusStore) -> Any:
    t = TrayIcon(StateFeed(store), theme=LIGHT)
    yield t
    t.close()


def icon_color(t: TrayIcon) -> QColor:
    return body_color(t.tray.icon().pixmap(QSize(32, 32)).toImage())


def test_admin_tray_follows_worst_service(tray: TrayIcon, store: StatusStore) -> None:
    assert tray.overall is Overall.UNKNOWN
    assert icon_color(tray) == LIGHT.color("unknown")
    store.apply_snapshot(snapshot(Role.ADMIN))
    assert tray.overall is Overall.HEALTHY and icon_color(tray) == LIGHT.color("healthy")
    store.apply_event(health_event(2, "database", HealthStatus.DEGRADED, HealthStatus.HEALTHY))
    assert tray.overall is Overall.DEGRADED and icon_color(tray) == LIGHT.color("degraded")
    store.apply_event(health_event(3, "workers", HealthStatus.DOWN, HealthStatus.HEALTHY))
    assert tray.overall is Overall.DOWN and icon_color(tray) == LIGHT.color("down")
    assert tray.badge == 1
    store.set_connection(ConnectionState.OFFLINE)
    assert tray.overall is Overall.UNKNOWN and icon_color(tray) == LIGHT.color("unknown")
    assert "Hub unreachable" in tray.tray.toolTip()


def test_creator_tray_follows_activity(tray: TrayIcon, store: StatusStore) -> None:
    store.apply_snapshot(snapshot(Role.CREATOR, data=footer(Role.CREATOR, running=0, queued=0)))
    assert tray.overall is Overall.HEALTHY
    assert "System Stable" in tray.tray.toolTip()
    assert not tray._open_actions[Segment.SERVICES].isVisible()
    store.apply_event(footer_event(2, footer(Role.CREATOR)))
    assert tray.overall is Overall.PROCESSING
    assert icon_color(tray) == LIGHT.color("processing")
    assert "Processing Data" in tray.tray.toolTip()


class Clock:
    """The tray's clock, moved by the test: the policy holds bursts and recoveries."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, tray: TrayIcon, delta: timedelta) -> None:
        self.now += delta
        tray.on_due_timeout()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_tray(qapp: Any, store: StatusStore, clock: Clock) -> Any:
    t = TrayIcon(StateFeed(store), theme=LIGHT, clock=clock)
    yield t
    t.close()


def test_notifications_once_per_incident(
    timed_tray: TrayIcon, store: StatusStore, clock: Clock
) -> None:
    tray = timed_tray
    store.apply_snapshot(snapshot(Role.ADMIN))
    store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY))
    store.apply_event(footer_event(3, footer()))  # unrelated change: nothing new
    assert tray.shown == []  # held for the length of a burst
    clock.advance(tray, timedelta(seconds=5))
    assert [n.title for n in tray.shown] == ["DB is down"]
    store.apply_event(health_event(4, "database", HealthStatus.HEALTHY, HealthStatus.DOWN))
    clock.advance(tray, timedelta(seconds=30))
    assert [n.title for n in tray.shown] == ["DB is down"]  # a recovery must hold first
    clock.advance(tray, timedelta(seconds=31))
    clock.advance(tray, timedelta(seconds=5))
    assert [n.title for n in tray.shown] == ["DB is down", "DB recovered"]


@pytest.mark.parametrize(("speed", "interval_ms"), [(None, 4001), (20.0, 201)])
def test_the_due_timer_waits_real_time_even_for_a_sped_up_demo(
    timed_tray: TrayIcon, store: StatusStore, clock: Clock, speed: float | None, interval_ms: int
) -> None:
    """The policy's holds are in the process's time; Qt's timer counts real milliseconds:
    at 20 times real time a 4 s burst is due in 200 ms."""
    tray = timed_tray
    store.apply_snapshot(snapshot(Role.ADMIN))
    clock.advance(tray, timedelta(seconds=10))  # the start's summary: nothing to say
    assert not tray._due.isActive()
    pace.set_speed(speed)
    try:
        store.apply_event(
            health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY, clock.now)
        )
        assert tray._due.isActive() and tray._due.interval() == interval_ms
    finally:
        pace.set_speed(None)


def test_job_failed_and_budget_exceeded(
    timed_tray: TrayIcon, store: StatusStore, clock: Clock
) -> None:
    tray = timed_tray
    store.apply_snapshot(snapshot(Role.ADMIN))
    job = JobInfo(id="j1", status=JobStatus.FAILED, error="OOM")
    store.apply_event(
        WireEvent(
            seq=2,
            type="job.status_changed",
            ts=clock.now,
            data={"job": job.model_dump(mode="json"), "previous": "running"},
        )
    )
    store.apply_event(footer_event(3, footer(budget=BudgetStatus.EXCEEDED)))
    store.apply_event(footer_event(4, footer(budget=BudgetStatus.EXCEEDED, pods=3)))
    clock.advance(tray, timedelta(seconds=5))
    assert [n.title for n in tray.shown] == ["Cloud GPU budget exceeded"]
    clock.advance(tray, timedelta(seconds=60))  # failed jobs are counted for a minute
    clock.advance(tray, timedelta(seconds=5))
    assert [n.title for n in tray.shown] == ["Cloud GPU budget exceeded", "Job failed"]
    assert "OOM" in tray.shown[1].body


def test_mute(qtbot: Any, tray: TrayIcon, store: StatusStore) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    with qtbot.waitSignal(tray.mute_requested) as blocker:
        next(a for a in tray.mute_menu.actions() if a.text() == "4 hours").trigger()
    assert blocker.args == [4 * 3600]
    assert tray.muted and tray.unmute_action.isVisible()
    store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY))
    assert tray.shown == []
    assert "Notifications muted" in tray.tray.toolTip()
    with qtbot.waitSignal(tray.mute_requested) as blocker:
        next(a for a in tray.mute_menu.actions() if a.text() == "Until cleared").trigger()
    assert blocker.args == [None]
    tray.unmute_action.trigger()
    assert not tray.muted


def test_menu_has_every_click_action(tray: TrayIcon, qtbot: Any) -> None:
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert "Hide strip" in texts and "Settings…" in texts and "Quit Studio Status" in texts
    with qtbot.waitSignal(tray.open_requested) as blocker:
        tray._open_actions[Segment.JOBS].trigger()
    assert blocker.args == ["jobs"]
    tray.set_strip_visible(False)
    assert tray.strip_action.text() == "Show strip"


def test_without_a_tray_the_icon_stays_hidden(tray: TrayIcon) -> None:
    # offscreen has no system tray: no icon, no warning; the check keeps running
    assert not tray.tray.isVisible()
    assert tray._availability.isActive()


def _notice(i: int, sev: HealthStatus, prev: HealthStatus | None, at: datetime) -> Notice:
    return Notice(i, Segment.SERVICES, at, "comfyui", sev, f"ComfyUI {sev.value}", prev)


def test_gate_suppresses_repeats_and_history() -> None:
    now = datetime.now(UTC)
    gate = NotificationGate(now)
    data = footer(svc=services(comfyui=HealthStatus.DOWN))
    live: dict[str, Any] = {
        "connection": ConnectionState.LIVE, "stale": False, "role": Role.ADMIN, "footer": data
    }  # fmt: skip
    old = _notice(1, HealthStatus.DOWN, HealthStatus.HEALTHY, now - timedelta(hours=1))
    assert gate.feed(StatusState(history={Segment.SERVICES: (old,)}, **live), now) == []
    # history is not told one by one: the summary says what still holds
    summary = gate.flush(now + timedelta(seconds=5)) + gate.flush(now + timedelta(seconds=10))
    assert [n.title for n in summary] == ["1 service down: ComfyUI"]
    n2 = _notice(2, HealthStatus.DOWN, HealthStatus.DEGRADED, now)
    assert gate.feed(StatusState(history={Segment.SERVICES: (old, n2)}, **live), now) == []
    assert gate.flush(now + timedelta(seconds=20)) == []  # still down: nothing new
    n3 = _notice(3, HealthStatus.DEGRADED, HealthStatus.DOWN, now)
    n4 = _notice(4, HealthStatus.DEGRADED, HealthStatus.DOWN, now)
    gate.feed(StatusState(history={Segment.SERVICES: (n2, n3, n4)}, **live), now)
    out = gate.flush(now + timedelta(seconds=40)) + gate.flush(now + timedelta(seconds=50))
    assert [n.title for n in out] == ["ComfyUI is degraded"]
