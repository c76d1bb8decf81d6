"""The global toggle shortcut on a real X server: grabbed on the root window, fired by a
synthetic key press (XTEST) with no Studio Status window focused, refused when taken."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
from typing import Any

import pytest

from studio_status.ui.strip.hotkey import X11Hotkey, parse_sequence


def test_parse_sequence() -> None:
    assert parse_sequence("Ctrl+Alt+S") == (4 | 8, "s")
    assert parse_sequence("Meta+Shift+F9") == (64 | 1, "F9")
    assert parse_sequence("Ctrl+K, Ctrl+S") is None  # a two-chord sequence cannot be grabbed
    assert parse_sequence("") is None


class _Keyboard:
    """A second client that types through XTEST, like a person at the keyboard."""

    def __init__(self, display: str | None = None) -> None:
        x_name, xtst_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
        if not x_name or not xtst_name:
            pytest.skip("libX11/libXtst not found (apt-get install libxtst6)")
        self.x, self.xtst = ctypes.CDLL(x_name), ctypes.CDLL(xtst_name)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XStringToKeysym.restype = ctypes.c_ulong
        self.x.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x.XFlush.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeKeyEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_ulong,
        ]
        self.dpy = ctypes.c_void_p(self.x.XOpenDisplay(display.encode() if display else None))

    def chord(self, *keys: str) -> None:
        codes = [
            self.x.XKeysymToKeycode(self.dpy, self.x.XStringToKeysym(k.encode())) for k in keys
        ]
        for code in codes:
            self.xtst.XTestFakeKeyEvent(self.dpy, code, 1, 0)
        for code in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.dpy, code, 0, 0)
        self.x.XFlush(self.dpy)

    def close(self) -> None:
        self.x.XCloseDisplay(self.dpy)


@pytest.mark.xvfb
@pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
)
def test_global_shortcut_fires_anywhere_and_yields_when_taken(
    qtbot: Any, display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    hotkey, rival = X11Hotkey(), X11Hotkey()
    keyboard = _Keyboard()
    try:
        assert hotkey.start("Ctrl+Alt+S") and hotkey.active
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            keyboard.chord("Control_L", "Alt_L", "s")
        # another program (here: another connection) cannot take the same chord
        assert not rival.start("Ctrl+Alt+S") and not rival.active
        # a new chord replaces the old one
        assert hotkey.start("Ctrl+Alt+D")
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            keyboard.chord("Control_L", "Alt_L", "d")
    finally:
        keyboard.close()
        hotkey.close()
        rival.close()
