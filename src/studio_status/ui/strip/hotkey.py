"""A system-wide hotkey on X11 for the strip's collapse toggle.

The strip is a dock window that never takes keyboard focus, so a Qt shortcut only fires
while some other Studio Status window is focused. On X11 this grabs the key combination on
the root window through its own libX11 connection (as :mod:`.x11` does for struts) and
watches that connection with a ``QSocketNotifier``: no thread, no polling. The grab is made
for every combination of Caps Lock and Num Lock, which X11 counts as modifiers. When another
program holds the combination (``BadAccess``) or there is no X server, :meth:`start` says
so and the app keeps its in-app shortcut.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

from PySide6.QtCore import QObject, QSocketNotifier, Signal
from PySide6.QtGui import QKeySequence

__all__ = ["X11Hotkey", "parse_sequence"]

log = logging.getLogger("ui.strip")

_SHIFT, _LOCK, _CONTROL, _MOD1, _MOD2, _MOD4 = 1, 2, 4, 8, 16, 64
_KEY_PRESS = 2
_GRAB_MODE_ASYNC = 1
_BAD_ACCESS = 10
_MODIFIERS = {"ctrl": _CONTROL, "alt": _MOD1, "shift": _SHIFT, "meta": _MOD4, "super": _MOD4}
_IGNORED = (0, _LOCK, _MOD2, _LOCK | _MOD2)  # Caps Lock and Num Lock on or off


def parse_sequence(sequence: str) -> tuple[int, str] | None:
    """``"Ctrl+Alt+S"`` → (X modifier mask, keysym name ``"s"``); None if not one chord."""
    text = QKeySequence(sequence).toString(QKeySequence.SequenceFormat.PortableText)
    if not text or "," in text:
        return None
    *mods, key = text.split("+")
    mask = 0
    for mod in mods:
        bit = _MODIFIERS.get(mod.strip().lower())
        if bit is None:
            return None
        mask |= bit
    key = key.strip()
    return mask, key.lower() if len(key) == 1 else key


class _XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))


class X11Hotkey(QObject):
    """Signals: ``activated`` — the combination was pressed anywhere on the desktop."""

    activated = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._x: ctypes.CDLL | None = None
        self._display = ctypes.c_void_p()
        self._root = 0
        self._grab: tuple[int, int] | None = None  # (keycode, mask)
        self._notifier: QSocketNotifier | None = None
        self._errors: list[int] = []
        self._handler = _ERROR_HANDLER(self._on_x_error)  # kept alive with the object

    @property
    def active(self) -> bool:
        return self._grab is not None

    def _on_x_error(self, _display: int, event: ctypes._Pointer[_XErrorEvent]) -> int:
        self._errors.append(int(event.contents.error_code))
        return 0

    def _connect(self) -> bool:
        if self._x is not None:
            return True
        name = ctypes.util.find_library("X11")
        if not name:
            return False
        x = ctypes.CDLL(name)
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        display = x.XOpenDisplay(None)
        if not display:
            return False
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XStringToKeysym.restype = ctypes.c_ulong
        x.XStringToKeysym.argtypes = [ctypes.c_char_p]
        x.XKeysymToKeycode.restype = ctypes.c_ubyte
        x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x.XGrabKey.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_ulong,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
        ]
        x.XUngrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong]
        x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x.XPending.argtypes = [ctypes.c_void_p]
        x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        x.XConnectionNumber.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        x.XSetErrorHandler.argtypes = [ctypes.c_void_p]
        x.XSetErrorHandler.restype = ctypes.c_void_p
        self._x, self._display = x, ctypes.c_void_p(display)
        self._root = x.XDefaultRootWindow(self._display)
        notifier = QSocketNotifier(x.XConnectionNumber(self._display), QSocketNotifier.Type.Read)
        notifier.activated.connect(self.on_display_readable)
        self._notifier = notifier
        return True

    def start(self, sequence: str) -> bool:
        """Grab ``sequence`` (replacing an earlier grab); False when it cannot be had."""
        self.stop_grab()
        parsed = parse_sequence(sequence)
        if parsed is None or not self._connect() or self._x is None:
            return False
        mask, key = parsed
        x = self._x
        keycode = x.XKeysymToKeycode(self._display, x.XStringToKeysym(key.encode()))
        if not keycode:
            log.info("no key for %r on this keyboard: global shortcut off", sequence)
            return False
        self._errors.clear()
        previous = x.XSetErrorHandler(ctypes.cast(self._handler, ctypes.c_void_p))
        for extra in _IGNORED:
            x.XGrabKey(
                self._display,
                keycode,
                mask | extra,
                self._root,
                1,
                _GRAB_MODE_ASYNC,
                _GRAB_MODE_ASYNC,
            )
        x.XSync(self._display, 0)
        x.XSetErrorHandler(previous)
        self._grab = (keycode, mask)
        if _BAD_ACCESS in self._errors:
            log.info("%s is taken by another program: global shortcut off", sequence)
            self.stop_grab()
            return False
        log.info("global shortcut %s grabbed", sequence)
        return True

    def on_display_readable(self) -> None:
        x = self._x
        if x is None:
            return
        event = (ctypes.c_long * 24)()  # XEvent is a 192-byte union; type is its first int
        while x.XPending(self._display):
            x.XNextEvent(self._display, event)
            if ctypes.c_int.from_buffer(event).value == _KEY_PRESS and self._grab is not None:
                self.activated.emit()

    def stop_grab(self) -> None:
        if self._x is None or self._grab is None:
            return
        keycode, mask = self._grab
        for extra in _IGNORED:
            self._x.XUngrabKey(self._display, keycode, mask | extra, self._root)
        self._x.XSync(self._display, 0)
        self._grab = None

    def close(self) -> None:
        self.stop_grab()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        if self._x is not None:
            self._x.XCloseDisplay(self._display)
            self._x = None
