"""Docking rules: screen choice with fallback, dock rectangle, strut values, platform choice."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect

from studio_status.ui.settings_store import Edge
from studio_status.ui.strip import docking


def test_dock_rect_top_and_bottom() -> None:
    screen = QRect(1920, 0, 2560, 1440)
    assert docking.dock_rect(screen, Edge.TOP, 30) == QRect(1920, 0, 2560, 30)
    assert docking.dock_rect(screen, Edge.BOTTOM, 30) == QRect(1920, 1410, 2560, 30)


def test_strut_top() -> None:
    values = docking.strut_partial(Edge.TOP, QRect(0, 0, 1920, 30), 1080)
    assert values == [0, 0, 30, 0, 0, 0, 0, 0, 0, 1919, 0, 0]


def test_strut_bottom_on_a_smaller_right_monitor() -> None:
    # root is 1080 tall (left monitor); the right one is 1280x720 at (1920, 0)
    dock = docking.dock_rect(QRect(1920, 0, 1280, 720), Edge.BOTTOM, 30)
    values = docking.strut_partial(Edge.BOTTOM, dock, 1080)
    assert values[3] == 1080 - 690  # measured from the root window's bottom edge
    assert values[10:] == [1920, 3199]


def test_native_rect_scales_within_the_screen() -> None:
    screen = QRect(1920, 0, 1280, 720)  # logical, dpr 2 (native 2560x1440 at 1920,0)
    rect = docking.dock_rect(screen, Edge.BOTTOM, 30)
    assert docking.native_rect(rect, screen, 2.0) == QRect(1920, 1380, 2560, 60)


class _Screen:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


def test_pick_screen_by_name_else_primary() -> None:
    a, b = _Screen("DP-1"), _Screen("HDMI-1")
    screens: Any = [a, b]
    assert docking.pick_screen(screens, a, "HDMI-1") is b  # type: ignore[arg-type]
    assert docking.pick_screen(screens, a, "gone") is a  # type: ignore[arg-type]
    assert docking.pick_screen(screens, None, None) is a


def test_preferred_platform() -> None:
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}
    assert docking.preferred_platform(wayland) == "xcb"
    assert docking.preferred_platform({**wayland, "QT_QPA_PLATFORM": "wayland"}) is None
    assert docking.preferred_platform({**wayland, "STUDIO_STATUS_NATIVE_WAYLAND": "1"}) is None
    assert docking.preferred_platform({"WAYLAND_DISPLAY": "wayland-0"}) is None  # no XWayland
    assert docking.preferred_platform({"DISPLAY": ":0"}) is None  # plain X11: nothing to do
    assert docking.can_dock("xcb") and not docking.can_dock("wayland-egl")
