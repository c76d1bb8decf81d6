"""The Windows app bar: the protocol against a model of the shell, and the strip using it.

The real ``SHAppBarMessage`` exists only on Windows; what runs here is everything of ours
around it — the structures' layout (which must match the Windows ABI byte for byte), the
message sequence, the rectangle arithmetic and the strip's reactions — against
:class:`ShellModel`, which keeps the shell's bookkeeping.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication

from studio_status.client.state import StatusStore
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import Edge, SettingsStore
from studio_status.ui.strip import StatusStrip, docking
from studio_status.ui.strip import appbar as ab
from studio_status.ui.strip.appbar import (
    APPBARDATA,
    MSG,
    AppBar,
    AppBarNotice,
    NativeRect,
    read_msg,
)
from studio_status.ui.theme import LIGHT

from .shellmodel import ShellModel

MONITOR = NativeRect(0, 0, 1920, 1080)
CALLBACK = 0xC0DE
HWND = 0x1F00


def bar(shell: ShellModel, hwnd: int = HWND) -> AppBar:
    return AppBar(hwnd, shell.send, CALLBACK, shell.set_topmost)


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the layout checked is x64's")
def test_structures_match_the_windows_x64_layout() -> None:
    # offsets from shellapi.h / winuser.h on x64; a wrong one and the shell reads garbage
    assert ctypes.sizeof(APPBARDATA) == 48
    assert [getattr(APPBARDATA, f).offset for f in ("hWnd", "uCallbackMessage", "uEdge")] == [
        8,
        16,
        20,
    ]
    assert (APPBARDATA.rc.offset, APPBARDATA.lParam.offset) == (24, 40)
    assert ctypes.sizeof(ab.RECT) == 16
    assert ctypes.sizeof(MSG) == 48
    assert [getattr(MSG, f).offset for f in ("message", "wParam", "lParam", "time", "pt")] == [
        8,
        16,
        24,
        32,
        36,
    ]


def test_bottom_bar_sits_above_the_taskbar_and_shrinks_the_work_area() -> None:
    shell = ShellModel(MONITOR)
    appbar = bar(shell)
    granted = appbar.place(Edge.BOTTOM, MONITOR, 30)
    assert granted == NativeRect(0, 1010, 1920, 1040)
    assert shell.work_area() == NativeRect(0, 0, 1920, 1010)
    assert [m for m, _ in shell.calls] == [ab.ABM_NEW, ab.ABM_QUERYPOS, ab.ABM_SETPOS]
    assert shell.callbacks[HWND] == CALLBACK


def test_top_bar_stacks_below_another_app_bar() -> None:
    shell = ShellModel(MONITOR)
    shell.add_bar(0x2222, ab.ABE_TOP, 24)
    appbar = bar(shell)
    assert appbar.place(Edge.TOP, MONITOR, 30) == NativeRect(0, 24, 1920, 54)
    assert shell.work_area() == NativeRect(0, 54, 1920, 1040)
    # collapsing claims less; registering is done once
    assert appbar.place(Edge.TOP, MONITOR, 4) == NativeRect(0, 24, 1920, 28)
    assert shell.sent(ab.ABM_NEW) == 1
    appbar.remove()
    assert shell.work_area() == NativeRect(0, 24, 1920, 1040)
    assert not appbar.registered and appbar.granted is None
    appbar.remove()  # twice is harmless: nothing more is sent
    assert shell.sent(ab.ABM_REMOVE) == 1


@pytest.mark.expect_warnings
def test_a_refused_registration_places_nothing(caplog: pytest.LogCaptureFixture) -> None:
    shell = ShellModel(MONITOR, refuse=True)
    appbar = bar(shell)
    with caplog.at_level(logging.WARNING, "ui.strip"):
        assert appbar.place(Edge.BOTTOM, MONITOR, 30) is None
        assert appbar.place(Edge.BOTTOM, MONITOR, 4) is None  # asked again on a re-dock
    assert caplog.text.count("refused the app bar") == 1
    assert shell.sent(ab.ABM_NEW) == 2
    assert shell.sent(ab.ABM_SETPOS) == 0
    assert appbar.on_message(CALLBACK, ab.ABN_POSCHANGED, 0) is None


def test_shell_notifications() -> None:
    shell = ShellModel(MONITOR)
    appbar = bar(shell)
    appbar.place(Edge.BOTTOM, MONITOR, 30)
    assert appbar.on_message(CALLBACK, ab.ABN_POSCHANGED, 0) is AppBarNotice.REPOSITION
    assert appbar.on_message(CALLBACK, ab.ABN_STATECHANGE, 0) is None
    # a full-screen program: out of the top-most band once, back once
    assert appbar.on_message(CALLBACK, ab.ABN_FULLSCREENAPP, 1) is AppBarNotice.FULLSCREEN_ENTERED
    assert appbar.on_message(CALLBACK, ab.ABN_FULLSCREENAPP, 1) is None
    assert appbar.on_message(CALLBACK, ab.ABN_FULLSCREENAPP, 0) is AppBarNotice.FULLSCREEN_LEFT
    assert shell.topmost == [(HWND, False), (HWND, True)]
    # activation and moves are passed on to the shell, as the protocol asks
    assert appbar.on_message(ab.WM_ACTIVATE, 1, 0) is None
    assert appbar.on_message(ab.WM_WINDOWPOSCHANGED, 0, 0) is None
    assert shell.sent(ab.ABM_ACTIVATE) == shell.sent(ab.ABM_WINDOWPOSCHANGED) == 1
    assert appbar.on_message(0x0200, 0, 0) is None  # any other message: ignored


def test_read_msg_copies_the_native_message() -> None:
    msg = MSG(hwnd=HWND, message=CALLBACK, wParam=ab.ABN_FULLSCREENAPP, lParam=-1, time=7)
    got = read_msg(ctypes.addressof(msg))
    msg.message = 0  # a copy: later changes to the native buffer do not leak in
    assert (got.hwnd, got.message, got.wParam, got.lParam, got.time) == (
        HWND,
        CALLBACK,
        ab.ABN_FULLSCREENAPP,
        -1,
        7,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows answer")
def test_open_elsewhere_is_none() -> None:
    assert AppBar.open(HWND) is None


@pytest.mark.parametrize("dpr", [1.0, 1.25, 1.5, 2.0])
def test_logical_and_native_rects_round_trip(dpr: float) -> None:
    screen = QRect(1920, 0, 1280, 720)  # a second monitor: the origin is not scaled
    rect = QRect(1920, 690, 1280, 30)
    native = docking.native_rect(rect, screen, dpr)
    assert native.topLeft().x() == 1920
    assert docking.logical_rect(native, screen, dpr) == rect


def test_edge_area_keeps_the_granted_line() -> None:
    screen = QRect(0, 0, 1280, 720)
    above_taskbar = QRect(0, 660, 1280, 30)
    assert docking.edge_area(screen, Edge.BOTTOM, above_taskbar) == QRect(0, 0, 1280, 690)
    below_other = QRect(0, 20, 1280, 30)
    assert docking.edge_area(screen, Edge.TOP, below_other) == QRect(0, 20, 1280, 700)


# -- the strip as a Windows app bar (offscreen, the shell modelled) -------------------------


@pytest.fixture
def windows_strip(qtbot: Any, store: StatusStore, tmp_path: Path) -> tuple[StatusStrip, ShellModel]:
    screen = QGuiApplication.primaryScreen()
    geom, dpr = screen.geometry(), screen.devicePixelRatio()
    native = docking.native_rect(geom, geom, dpr)
    shell = ShellModel(NativeRect(native.x(), native.y(), native.right() + 1, native.bottom() + 1))
    strip = StatusStrip(
        StateFeed(store), SettingsStore(tmp_path / "app.toml"), theme=LIGHT, platform="windows"
    )
    strip.open_appbar = lambda hwnd: AppBar(  # type: ignore[method-assign]
        hwnd, shell.send, CALLBACK, shell.set_topmost
    )
    qtbot.addWidget(strip)
    return strip, shell


def test_strip_reserves_its_edge_above_the_taskbar(
    windows_strip: tuple[StatusStrip, ShellModel],
) -> None:
    strip, shell = windows_strip
    screen = QGuiApplication.primaryScreen().geometry()
    assert not strip.reserves_space
    strip.show()
    assert strip.reserves_space
    assert strip.geometry() == QRect(0, screen.bottom() + 1 - 40 - 30, screen.width(), 30)
    assert shell.work_area().bottom == screen.bottom() + 1 - 40 - 30

    strip.set_collapsed(True)  # the reservation follows the collapsed height
    assert strip.geometry().height() == 4
    assert strip.geometry().bottom() == screen.bottom() - 40
    assert shell.work_area().bottom == screen.bottom() + 1 - 40 - 4
    setpos = shell.sent(ab.ABM_SETPOS)
    strip.on_collapsed_line_hovered(True)  # the hover handle grows in, on the same line
    assert strip.geometry().height() > 4
    assert strip.geometry().bottom() == screen.bottom() - 40
    assert shell.sent(ab.ABM_SETPOS) == setpos  # and is not reserved

    strip.on_collapsed_line_hovered(False)
    strip.set_collapsed(False)
    strip.set_edge(Edge.TOP)
    assert strip.geometry() == QRect(0, 0, screen.width(), 30)
    assert shell.work_area().top == 30 and shell.work_area().bottom == screen.bottom() + 1 - 40


def test_hidden_strip_gives_the_space_back(
    windows_strip: tuple[StatusStrip, ShellModel],
) -> None:
    strip, shell = windows_strip
    strip.show()
    hwnd = int(strip.winId())
    assert hwnd in shell.registered
    strip.hide()
    assert hwnd not in shell.registered and hwnd not in shell.bars
    strip.show()
    assert hwnd in shell.registered and shell.sent(ab.ABM_NEW) == 2
    strip.close()
    assert hwnd not in shell.registered


def test_shell_notice_through_the_native_filter_redocks(
    windows_strip: tuple[StatusStrip, ShellModel],
) -> None:
    strip, shell = windows_strip
    strip.show()
    events = strip._appbar_filter
    assert events is not None
    hwnd = int(strip.winId())
    other = MSG(hwnd=hwnd + 1, message=CALLBACK, wParam=ab.ABN_POSCHANGED)
    assert events.nativeEventFilter(b"windows_generic_MSG", ctypes.addressof(other)) == (False, 0)
    assert not strip._redock_timer.isActive()  # another window's message
    msg = MSG(hwnd=hwnd, message=CALLBACK, wParam=ab.ABN_POSCHANGED)
    assert events.nativeEventFilter(b"windows_generic_MSG", ctypes.addressof(msg)) == (False, 0)
    assert strip._redock_timer.isActive()
    full = MSG(hwnd=hwnd, message=CALLBACK, wParam=ab.ABN_FULLSCREENAPP, lParam=1)
    events.nativeEventFilter(b"windows_generic_MSG", ctypes.addressof(full))
    assert shell.topmost == [(hwnd, False)]


@pytest.mark.expect_warnings
def test_refused_app_bar_docks_to_the_work_area(
    windows_strip: tuple[StatusStrip, ShellModel],
) -> None:
    strip, shell = windows_strip
    shell.refuse = True
    strip.show()
    assert not strip.reserves_space
    avail = QGuiApplication.primaryScreen().availableGeometry()
    assert strip.geometry().bottom() == avail.bottom()


def test_macos_docks_to_the_work_area_without_reserving(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    strip = StatusStrip(
        StateFeed(store), SettingsStore(tmp_path / "app.toml"), theme=LIGHT, platform="cocoa"
    )
    qtbot.addWidget(strip)
    strip.show()
    avail = QGuiApplication.primaryScreen().availableGeometry()
    assert strip.geometry().bottom() == avail.bottom()
    assert not strip.reserves_space
