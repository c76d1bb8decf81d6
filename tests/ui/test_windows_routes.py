"""Routing: strip segments and the tray menu open the right windows; roles hide entries;
geometry is remembered; a window without a hub connection says so honestly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio_status.client.state import Segment, StatusStore
from studio_status.protocol import Role
from studio_status.ui import formats
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import DARK, LIGHT
from studio_status.ui.tray import ADMIN_WINDOWS, MORE_WINDOWS, TrayIcon
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.costs import CostsWindow
from studio_status.ui.windows.geometry import GeometryStore
from studio_status.ui.windows.health import HealthWindow
from studio_status.ui.windows.jobs import JobsWindow, WorkflowsWindow
from studio_status.ui.windows.service import ServiceWindow
from studio_status.ui.windows.systems import SystemsWindow

from .factories import snapshot


def _opener(store: StatusStore, tmp_path: Path) -> tuple[WindowOpener, StateFeed]:
    feed = StateFeed(store)
    ctx = WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    return WindowOpener(context=ctx), feed


def test_strip_segments_route_to_their_windows(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    opener, feed = _opener(store, tmp_path)
    strip = StatusStrip(feed, SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.open_requested.connect(opener.on_open_requested)
    strip.show()
    expected = {
        Segment.SERVICES: HealthWindow,
        Segment.CLOUD_GPU: CostsWindow,
        Segment.JOBS: JobsWindow,
        Segment.WORKFLOWS: WorkflowsWindow,
    }
    for seg, cls in expected.items():
        # the segment's padding: the segment's own window (a service's name is its own)
        QTest.mouseClick(strip.segments[seg], Qt.MouseButton.LeftButton, pos=QPoint(2, 10))
        assert isinstance(opener.windows[seg.value], cls), seg
        assert opener.open_ms < 200
        # the window is called what the tooltip and the tray menu call it
        assert formats.WINDOW_TITLES[seg.value] in strip.segments[seg].toolTip()
        assert opener.windows[seg.value].windowTitle().startswith(formats.WINDOW_TITLES[seg.value])
    # the workflows window promises workflows and shows them first
    flows = opener.windows["workflows"]
    assert isinstance(flows, WorkflowsWindow) and flows.sections[0] == "Workflows"
    # the grid shows the snapshot's services at once, before any fetch
    grid = opener.windows["services"]
    assert isinstance(grid, HealthWindow) and list(grid.cards) == ["comfyui", "database", "workers"]
    # without a hub connection a fetched window says so instead of spinning
    costs = opener.windows["cloud_gpu"]
    assert isinstance(costs, CostsWindow)
    assert costs.pane.state is PaneState.ERROR and "connection to the hub" in costs.pane.message
    opener.close_all()


def test_a_click_on_a_service_name_opens_that_service(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    opener, feed = _opener(store, tmp_path)
    strip = StatusStrip(feed, SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.open_requested.connect(opener.on_open_requested)
    strip.show()
    segment = strip.segments[Segment.SERVICES]
    for left, width, run, shown in segment.placed():
        if run.target is None or run.kind.value != "text":
            continue
        QTest.mouseClick(segment, Qt.MouseButton.LeftButton, pos=QPoint(int(left + width / 2), 15))
        window = opener.windows[run.target]
        assert isinstance(window, ServiceWindow)
        # its label, never its id, in the heading and the title bar
        assert window.heading.text() == shown.split(" ")[0]
        assert window.windowTitle().startswith(shown.split(" ")[0] + " — Service health")
    assert {n for n in opener.windows} == {"service:comfyui", "service:database", "service:workers"}
    opener.close_all()


def test_tray_menu_and_window_titles_share_one_name(qtbot: Any, store: StatusStore) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    tray = TrayIcon(StateFeed(store), theme=LIGHT)
    texts = [a.text() for a in tray.menu.actions()] + [
        a.text() for a in tray.windows_menu.actions()
    ]
    for name in ("services", "cloud_gpu", "jobs", "workflows"):
        assert f"Open {formats.WINDOW_TITLES[name]}…" in texts
    for name, _text in MORE_WINDOWS:
        assert f"{formats.WINDOW_TITLES[name]}…" in texts
    tray.close()


def test_tray_more_windows_follow_the_role(qtbot: Any, store: StatusStore, tmp_path: Path) -> None:
    store.apply_snapshot(snapshot(Role.CREATOR))
    opener, feed = _opener(store, tmp_path)
    tray = TrayIcon(feed, theme=LIGHT)
    tray.open_requested.connect(opener.on_open_requested)
    visible = {n for n, a in tray._more_actions.items() if a.isVisible()}
    assert visible == {n for n, _ in MORE_WINDOWS} - ADMIN_WINDOWS
    tray._more_actions["systems"].trigger()
    assert isinstance(opener.windows["systems"], SystemsWindow)
    opener.close_all()
    tray.close()


def test_geometry_is_remembered_and_dark_theme_applies(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    feed = StateFeed(store)
    geometry = GeometryStore(tmp_path / "w.json")
    ctx = WindowContext(feed, geometry=geometry, theme=DARK)
    opener = WindowOpener(context=ctx)
    win = opener.open("jobs")
    win.resize(640, 410)
    assert win.palette().window().color().lightnessF() < 0.2  # dark really is dark
    win.close()
    assert (tmp_path / "w.json").exists()
    again = WindowOpener(context=WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json")))
    win2 = again.open("jobs")
    assert (win2.width(), win2.height()) == (640, 410)
    again.close_all()


def test_every_window_says_when_the_data_is_simulated(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    snap = snapshot(Role.ADMIN)
    store.apply_snapshot(
        snap.model_copy(update={"data": snap.data.model_copy(update={"simulated": True})})
    )
    opener, _feed = _opener(store, tmp_path)
    for name in ("services", "jobs", "cloud_gpu"):
        opener.on_open_requested(name)
        window = opener.windows[name]
        qtbot.waitUntil(lambda w=window: w.banner.isVisible())  # type: ignore[misc]
        assert window.banner.text.startswith("Simulated studio")
    opener.close_all()


@pytest.mark.expect_warnings  # the unknown window name is logged
def test_windows_open_their_platform_page_in_the_browser(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    feed = StateFeed(store)
    ctx = WindowContext(
        feed,
        geometry=GeometryStore(tmp_path / "w.json"),
        theme=LIGHT,
        web_url="https://studio.example/",
    )
    opener = WindowOpener(context=ctx)
    expected = {
        "services": "https://studio.example/admin/health",
        "cloud_gpu": "https://studio.example/admin/cloud-gpu",
        "jobs": "https://studio.example/dashboard",
    }
    for name, link in expected.items():
        window = opener.open(name)
        assert window is not None and getattr(window, "web_link", None) == link
    assert opener.open("nonsense") is None  # an unknown name opens nothing
    without = WindowOpener(context=WindowContext(feed, geometry=GeometryStore(tmp_path / "x.json")))
    plain = without.open("services")
    assert plain is not None and getattr(plain, "web_link", "") is None
    opener.close_all()
    without.close_all()
