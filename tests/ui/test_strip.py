"""The strip over a real StatusStore fed real protocol models (offscreen)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

from studio_status.client.state import ConnectionState, Segment, StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import Edge, SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.strip.jobs import JobsSegment
from studio_status.ui.theme import LIGHT

from .factories import footer, footer_event, health_event, snapshot

MakeStrip = Callable[..., StatusStrip]


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "app.toml"


@pytest.fixture
def make_strip(qtbot: Any, store: StatusStore, settings_path: Path) -> MakeStrip:
    def make(**kwargs: Any) -> StatusStrip:
        feed = StateFeed(store)
        strip = StatusStrip(feed, SettingsStore(settings_path), theme=LIGHT, **kwargs)
        qtbot.addWidget(strip)
        return strip

    return make


def texts(strip: StatusStrip) -> dict[Segment, str]:
    return {s: strip.segments[s].text() for s in strip.visible_segments}


def test_admin_sees_every_segment_in_seed_format(store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    assert strip.visible_segments == (
        Segment.SERVICES,
        Segment.CLOUD_GPU,
        Segment.WORKFLOWS,
        Segment.JOBS,
    )
    assert texts(strip) == {
        Segment.SERVICES: "● ComfyUI  ● DB  ● Workers 3/4",
        Segment.CLOUD_GPU: "☁ 2 pods · $1.24/hr",
        Segment.WORKFLOWS: "⟳ 2 workflows · generating",
        Segment.JOBS: "⚡ 3 running · 5 queued · 72%",
    }
    jobs = strip.segments[Segment.JOBS]
    assert isinstance(jobs, JobsSegment)
    assert jobs.progress == 72 and not jobs.indeterminate
    assert jobs.accessibleName() == "⚡ 3 running · 5 queued · 72%"


def test_idle_texts(store: StatusStore, make_strip: MakeStrip) -> None:
    idle = footer(pods=0, cents=0, running=0, queued=0, progress=None, workflows=0, stage=None)
    store.apply_snapshot(snapshot(Role.ADMIN, data=idle))
    strip = make_strip()
    assert texts(strip)[Segment.CLOUD_GPU] == "☁ No GPUs"
    assert texts(strip)[Segment.JOBS] == "⚡ No active jobs"
    assert texts(strip)[Segment.WORKFLOWS] == "⟳ No active workflows"
    jobs = strip.segments[Segment.JOBS]
    assert isinstance(jobs, JobsSegment) and not jobs.has_bar()


def test_unknown_progress_is_an_indeterminate_bar(
    store: StatusStore, make_strip: MakeStrip
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN, data=footer(progress=None)))
    strip = make_strip()
    strip.show()
    jobs = strip.segments[Segment.JOBS]
    assert isinstance(jobs, JobsSegment)
    assert jobs.text() == "⚡ 3 running · 5 queued"
    assert jobs.has_bar() and jobs.indeterminate
    assert jobs._anim.isActive()  # animates only while indeterminate and shown
    store.apply_event(footer_event(2, footer(progress=40)))
    assert jobs.progress == 40 and not jobs._anim.isActive()


@pytest.mark.parametrize("role", [Role.CREATOR, Role.REVIEWER])
def test_non_admins_never_see_services_or_cloud(
    store: StatusStore, make_strip: MakeStrip, role: Role
) -> None:
    # even if a footer carried admin data by mistake, the strip does not show it
    store.apply_snapshot(snapshot(role, data=footer(Role.ADMIN)))
    strip = make_strip()
    strip.show()
    assert strip.visible_segments == (Segment.WORKFLOWS, Segment.JOBS)
    assert not strip.segments[Segment.SERVICES].isVisible()
    assert not strip.segments[Segment.CLOUD_GPU].isVisible()
    assert strip.segments[Segment.JOBS].isVisible()


def test_role_change_hides_admin_segments(store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    assert Segment.SERVICES in strip.visible_segments
    store.apply_snapshot(snapshot(Role.CREATOR, seq=2))
    assert strip.visible_segments == (Segment.WORKFLOWS, Segment.JOBS)


def test_tooltips(store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    tip = strip.segments[Segment.SERVICES].toolTip()
    assert "DB — healthy · 3 ms · checked" in tip
    assert "ComfyUI — healthy · 2 instances · 12 ms" in tip
    assert "Within budget" in strip.segments[Segment.CLOUD_GPU].toolTip()


def test_click_emits_open_requested(qtbot: Any, store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    with qtbot.waitSignal(strip.open_requested) as blocker:
        qtbot.mouseClick(strip.segments[Segment.CLOUD_GPU], Qt.MouseButton.LeftButton)
    assert blocker.args == ["cloud_gpu"]


def test_docked_full_width_at_the_edge(store: StatusStore, make_strip: MakeStrip) -> None:
    strip = make_strip()
    strip.show()
    screen = QGuiApplication.primaryScreen().geometry()
    assert strip.geometry().height() == 30
    assert strip.geometry().width() == screen.width()
    assert strip.geometry().bottom() == screen.bottom()
    strip.set_edge(Edge.TOP)
    assert strip.geometry().top() == screen.top() and strip.height() == 30


def test_collapse_persists_and_expands(
    qtbot: Any, store: StatusStore, make_strip: MakeStrip, settings_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN, data=footer(svc=None)))
    strip = make_strip()
    strip.show()
    strip._chevron.click()
    assert strip.collapsed and strip.height() == 4
    assert strip.collapsed_line.isVisible()
    assert "collapsed = true" in settings_path.read_text()
    again = make_strip()
    assert again.collapsed
    qtbot.mouseClick(strip.collapsed_line, Qt.MouseButton.LeftButton)
    assert not strip.collapsed and strip.height() == 30


@pytest.mark.parametrize(
    ("status", "overall", "period"),
    [
        (HealthStatus.HEALTHY, "healthy", None),  # solid
        (HealthStatus.DEGRADED, "degraded", 14),  # triangles
        (HealthStatus.DOWN, "down", 8),  # squares
    ],
)
def test_collapsed_line_is_the_worst_state_along_its_length(
    store: StatusStore, make_strip: MakeStrip, status: HealthStatus, overall: str, period: int
) -> None:
    from studio_status.ui.formats import Overall

    from .factories import services

    store.apply_snapshot(snapshot(Role.ADMIN, data=footer(svc=services(database=status))))
    strip = make_strip()
    strip.set_collapsed(True)
    strip.show()
    assert strip.collapsed_line.overall is Overall(overall)
    image = strip.grab().toImage()
    color = LIGHT.color(overall)
    # the bottom row: a solid line, or the state's marks repeating at their period
    row = [image.pixelColor(x, image.height() - 1) == color for x in range(image.width())]
    coloured = sum(row)
    if period is None:
        assert coloured == image.width()
    else:
        assert image.width() * 0.3 < coloured < image.width() * 0.95
        marks = [x for x in range(1, len(row)) if row[x] and not row[x - 1]]
        assert {b - a for a, b in itertools.pairwise(marks)} == {period}
    # the left end says it too, not only a block at the far right
    assert any(row[:20])


def test_shortcut_toggles_collapse(qtbot: Any, make_strip: MakeStrip) -> None:
    strip = make_strip()
    strip.show()
    strip.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is strip)
    qtbot.keyClick(
        strip, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    )
    assert strip.collapsed
    qtbot.keyClick(
        strip, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    )
    assert not strip.collapsed


def test_segment_order_is_applied_and_saved(
    store: StatusStore, make_strip: MakeStrip, settings_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    strip.set_order([Segment.JOBS, Segment.SERVICES])
    assert strip.visible_segments == (
        Segment.JOBS,
        Segment.SERVICES,
        Segment.CLOUD_GPU,
        Segment.WORKFLOWS,
    )
    QApplication.processEvents()
    xs = [strip.segments[s].x() for s in strip.visible_segments]
    assert xs == sorted(xs)
    assert make_strip().settings.order[0] is Segment.JOBS


def test_drag_reorders(qtbot: Any, store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    QApplication.processEvents()
    jobs, services = strip.segments[Segment.JOBS], strip.segments[Segment.SERVICES]
    qtbot.mousePress(jobs, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    target = jobs.mapFrom(strip, QPoint(services.x() + 2, 5))
    move = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(target),
        QPointF(jobs.mapToGlobal(target)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(jobs, move)
    with qtbot.assertNotEmitted(strip.open_requested):
        qtbot.mouseRelease(jobs, Qt.MouseButton.LeftButton, pos=target)
    assert strip.visible_segments[0] is Segment.JOBS


def test_offline_says_so_and_dims(store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    assert not strip.connection.isVisible()  # live: nothing to say
    store.set_connection(ConnectionState.OFFLINE)
    assert strip.connection.isVisible()
    assert "hub unreachable since" in strip.connection.text()
    assert strip.segments[Segment.JOBS]._dim


def _changed(feed_owner: StatusStrip) -> asyncio.Future[object]:
    fut: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def done(state: object) -> None:
        if not fut.done():
            fut.set_result(state)

    feed_owner._feed.changed.connect(done)
    return fut


def test_flash_on_degrade(
    qloop: qasync.QEventLoop, store: StatusStore, make_strip: MakeStrip
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    services = strip.segments[Segment.SERVICES]

    async def scenario() -> None:
        fut = _changed(strip)
        store.apply_event(health_event(2, "database", HealthStatus.DEGRADED, HealthStatus.HEALTHY))
        await asyncio.wait_for(fut, 2)
        assert services.flashing
        assert "▲ DB" in services.text()
        await asyncio.sleep(0.35)  # the pulse lasts 200 ms and does not persist
        assert not services.flashing
        fut = _changed(strip)
        store.apply_event(health_event(3, "database", HealthStatus.DOWN, HealthStatus.DEGRADED))
        await asyncio.wait_for(fut, 2)
        assert not services.flashing  # degraded → down is not a fresh degrade

    qloop.run_until_complete(scenario())


def test_no_flash_for_old_transitions(store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    old = datetime.now(UTC) - timedelta(minutes=10)
    store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY, at=old))
    assert not strip.segments[Segment.SERVICES].flashing


def test_popover_shows_last_five(qtbot: Any, store: StatusStore, make_strip: MakeStrip) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    strip.show()
    status = [HealthStatus.DEGRADED, HealthStatus.HEALTHY] * 4
    prev = HealthStatus.HEALTHY
    for seq, st in enumerate(status[:7], start=2):
        store.apply_event(health_event(seq, "comfyui", st, prev))
        prev = st
    seg = strip.segments[Segment.SERVICES]
    menu_event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, QPoint(3, 3), seg.mapToGlobal(QPoint(3, 3))
    )
    QApplication.sendEvent(seg, menu_event)  # what a right click turns into
    popover = strip.popover
    assert popover is not None and popover.isVisible()
    assert len(popover.lines) == 5
    assert popover.lines[0].endswith("▲ comfyui degraded")  # newest first (the 7th)
    assert popover.lines[1].endswith("● comfyui healthy")
    popover.close()


def test_missing_screen_falls_back_to_primary(store: StatusStore, make_strip: MakeStrip) -> None:
    strip = make_strip()
    strip.show()
    strip.set_screen("HDMI-gone")
    assert strip.settings.screen == "HDMI-gone"  # remembered for when it comes back
    assert strip.current_screen() is QGuiApplication.primaryScreen()
    strip.on_app_screens_changed()  # a screen came or went: re-dock (debounced)
    assert strip._redock_timer.isActive()


def test_muted_services_are_marked_and_left_out_of_the_worst_state(
    store: StatusStore, make_strip: MakeStrip
) -> None:
    from studio_status.protocol import Event, ServiceHealth

    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY))
    assert store.state.worst is HealthStatus.DOWN
    until = datetime.now(UTC) + timedelta(hours=1)
    muted = ServiceHealth(name="database", status=HealthStatus.DOWN, muted_until=until)
    # the hub announces a mute as a health event with the status unchanged
    store.apply_event(
        Event(
            seq=3,
            type="service.health_changed",
            ts=datetime.now(UTC),
            data={
                "service": "database",
                "previous": "down",
                "current": muted.model_dump(mode="json"),
            },
        )
    )
    assert "■ DB (muted)" in strip.segments[Segment.SERVICES].text()
    assert "Muted (no notices): database" in strip.segments[Segment.SERVICES].toolTip()
    assert store.state.worst is HealthStatus.HEALTHY  # the tray no longer shouts about it


def test_narrow_screen_elides_segments_instead_of_overflowing(
    store: StatusStore, make_strip: MakeStrip
) -> None:
    from studio_status.ui.strip.segment import RunKind

    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = make_strip()
    services = strip.segments[Segment.SERVICES]
    full = services.sizeHint().width()
    assert [shown for _, shown in services.fitted(full)] == [r.text for r in services.runs()]
    # a little short: the last text is elided, shapes are never cut
    cut = services.fitted(full - 20)
    assert cut[-1][1].endswith("…") and cut[-1][0].kind is RunKind.TEXT
    assert len(cut) == len(services.runs())
    # at its minimum only the first state shape is left; the text itself stays whole
    least = services.minimumSizeHint().width()
    assert [run.kind for run, _ in services.fitted(least)] == [RunKind.STATUS]
    assert services.text() == "● ComfyUI  ● DB  ● Workers 3/4"
    # the whole strip fits a 320 px wide (logical) screen: a HiDPI laptop, a portrait panel
    assert strip.minimumSizeHint().width() <= 320


def test_cold_start_does_not_move_the_segments(store: StatusStore, make_strip: MakeStrip) -> None:
    """Before any data the segments show "…", yet keep their places: when the first
    footer arrives nothing jumps sideways (their widths were reserved)."""
    strip = make_strip()
    strip.show()
    strip.setGeometry(0, 0, 1920, 30)  # a desktop-wide strip: no segment is squeezed
    strip.on_feed_changed(store.state)  # nothing known yet
    QApplication.processEvents()
    before = {s: w.geometry().x() for s, w in strip.segments.items() if w.isVisible()}
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip.on_feed_changed(store.state)
    strip.setGeometry(0, 0, 1920, 30)
    QApplication.processEvents()
    after = {s: w.geometry().x() for s, w in strip.segments.items() if w.isVisible()}
    # the role arrives with the data: compare the segments both show
    shared = [s for s in before if s in after]
    assert shared and all(before[s] == after[s] for s in shared), (before, after)


def test_jobs_glyph_follows_the_platforms_stability(
    store: StatusStore, make_strip: MakeStrip
) -> None:
    """Seed 003's "Processing Data" from the first snapshot lights the jobs glyph even when
    none of this hub's jobs runs (the platform's imports and analytics are not all jobs)."""
    from studio_status.protocol import StabilityState, StabilityStatus

    idle = footer(Role.CREATOR, running=0, queued=0, progress=None)
    msg = snapshot(Role.CREATOR, data=idle)
    busy = StabilityStatus(state=StabilityState.PROCESSING, listening=True)
    store.apply_snapshot(
        msg.model_copy(update={"data": msg.data.model_copy(update={"stability": busy})})
    )
    strip = make_strip()
    jobs = strip.segments[Segment.JOBS]
    assert isinstance(jobs, JobsSegment)
    assert jobs._runs[0].color == "processing"
    assert "Processing Data" in jobs.toolTip()
    store.apply_snapshot(snapshot(Role.CREATOR, seq=2, data=idle))  # no listener: not known
    assert jobs._runs[0].color == "text_dim" and "Processing Data" not in jobs.toolTip()
