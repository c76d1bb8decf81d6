"""X11 window properties Qt has no API for, set through libX11 with :mod:`ctypes`.

Qt gives us ``_NET_WM_WINDOW_TYPE_DOCK`` (``Qt.WA_X11NetWmWindowTypeDock``) but neither
struts nor ``_NET_WM_DESKTOP``. Rather than a new dependency (python-xlib) this opens its own
``Display`` connection with the system's libX11, which is always present where Qt's xcb
platform runs; properties set on the strip's window id from a second connection are the
same properties. Everything here is best effort: failures are logged, never raised.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Sequence

__all__ = ["ALL_DESKTOPS", "X11Properties"]

log = logging.getLogger("ui.strip")

ALL_DESKTOPS = 0xFFFFFFFF
_XA_CARDINAL = 6
_PROP_MODE_REPLACE = 0
_CLIENT_MESSAGE = 33
_SUBSTRUCTURE_REDIRECT_MASK = 1 << 20
_SUBSTRUCTURE_NOTIFY_MASK = 1 << 19


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [
        ("xclient", _ClientMessage),
        ("pad", ctypes.c_long * 24),
    ]


class X11Properties:
    """A private libX11 connection for setting EWMH properties on our windows."""

    def __init__(self, lib: ctypes.CDLL, display: int) -> None:
        self._x = lib
        self._display = ctypes.c_void_p(display)

    @classmethod
    def open(cls) -> X11Properties | None:
        """Connect to ``$DISPLAY``; None when libX11 or the display is not available."""
        name = ctypes.util.find_library("X11")
        if not name:
            log.info("libX11 not found: no struts")
            return None
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            log.info("cannot load %s: %s", name, exc)
            return None
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XInternAtom.restype = ctypes.c_ulong
        lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.XChangeProperty.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
        ]
        lib.XDeleteProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
        lib.XDefaultRootWindow.restype = ctypes.c_ulong
        lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        lib.XSendEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.c_int,
            ctypes.c_long,
            ctypes.POINTER(_XEvent),
        ]
        lib.XFlush.argtypes = [ctypes.c_void_p]
        lib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        for size in (lib.XDisplayWidth, lib.XDisplayHeight):
            size.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = lib.XOpenDisplay(None)
        if not display:
            log.info("cannot open the X display: no struts")
            return None
        return cls(lib, display)

    def root_size(self) -> tuple[int, int]:
        """The root window's size in pixels: what struts are measured against."""
        screen = self._x.XDefaultScreen(self._display)
        return (
            int(self._x.XDisplayWidth(self._display, screen)),
            int(self._x.XDisplayHeight(self._display, screen)),
        )

    def _atom(self, name: str) -> int:
        return int(self._x.XInternAtom(self._display, name.encode(), 0))

    def set_cardinals(self, window: int, name: str, values: Sequence[int]) -> None:
        data = (ctypes.c_long * len(values))(*values)
        self._x.XChangeProperty(
            self._display,
            window,
            self._atom(name),
            _XA_CARDINAL,
            32,
            _PROP_MODE_REPLACE,
            ctypes.cast(data, ctypes.c_void_p),
            len(values),
        )
        self._x.XFlush(self._display)

    def delete(self, window: int, name: str) -> None:
        self._x.XDeleteProperty(self._display, window, self._atom(name))
        self._x.XFlush(self._display)

    def set_struts(self, window: int, partial: Sequence[int]) -> None:
        """``_NET_WM_STRUT_PARTIAL`` plus the legacy four-value ``_NET_WM_STRUT``."""
        self.set_cardinals(window, "_NET_WM_STRUT_PARTIAL", partial)
        self.set_cardinals(window, "_NET_WM_STRUT", partial[:4])

    def stick(self, window: int) -> None:
        """On every virtual desktop: the property (read at map) and the EWMH request."""
        self.set_cardinals(window, "_NET_WM_DESKTOP", [ALL_DESKTOPS])
        event = _XEvent()
        msg = event.xclient
        msg.type = _CLIENT_MESSAGE
        msg.send_event = 1
        msg.window = window
        msg.message_type = self._atom("_NET_WM_DESKTOP")
        msg.format = 32
        msg.data[0] = ALL_DESKTOPS
        msg.data[1] = 1  # source indication: a normal application
        root = self._x.XDefaultRootWindow(self._display)
        mask = _SUBSTRUCTURE_REDIRECT_MASK | _SUBSTRUCTURE_NOTIFY_MASK
        self._x.XSendEvent(self._display, root, 0, mask, ctypes.byref(event))
        self._x.XFlush(self._display)

    def close(self) -> None:
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = ctypes.c_void_p(0)
