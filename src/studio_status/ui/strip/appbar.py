"""The Windows app bar: the strip reserves its edge of the screen like the taskbar does.

Windows has no strut property; a window becomes an *app bar* by talking to the shell
through ``SHAppBarMessage`` (the protocol of the "Using Application Desktop Toolbars"
guide): register once (``ABM_NEW``) with a private callback message, then for every
placement propose a rectangle (``ABM_QUERYPOS``; the shell moves it off the taskbar and
other app bars), cut it to our thickness and claim it (``ABM_SETPOS``). The shell shrinks
the work area by what was claimed, so maximised windows stop short of the strip, and it
calls back when the layout changes (``ABN_POSCHANGED``: place again) or a full-screen
program starts or ends (``ABN_FULLSCREENAPP``: step out of the top-most band so a game or
a video covers us, then come back). ``WM_ACTIVATE`` and ``WM_WINDOWPOSCHANGED`` are passed
on as the protocol asks. On exit the bar unregisters (``ABM_REMOVE``) and the work area
returns.

Everything talks to the shell through two injected callables, so the protocol is tested
on any platform against a model of the shell; :meth:`AppBar.open` binds the real
``shell32`` / ``user32`` functions and returns None anywhere but Windows. All rectangles
here are native (physical) pixels.
"""

from __future__ import annotations

import ctypes
import enum
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from studio_status.ui.settings_store import Edge

__all__ = [
    "APPBARDATA",
    "MSG",
    "RECT",
    "AppBar",
    "AppBarNotice",
    "NativeRect",
    "read_msg",
]

log = logging.getLogger("ui.strip")

# shellapi.h / winuser.h
ABM_NEW = 0x0
ABM_REMOVE = 0x1
ABM_QUERYPOS = 0x2
ABM_SETPOS = 0x3
ABM_ACTIVATE = 0x6
ABM_WINDOWPOSCHANGED = 0x9
ABE_TOP = 1
ABE_BOTTOM = 3
ABN_STATECHANGE = 0x0
ABN_POSCHANGED = 0x1
ABN_FULLSCREENAPP = 0x2
ABN_WINDOWARRANGE = 0x3
WM_ACTIVATE = 0x0006
WM_WINDOWPOSCHANGED = 0x0047
CALLBACK_NAME = "StudioStatus.AppBarNotify"


class RECT(ctypes.Structure):
    # LONG is 32 bits on Windows whatever the pointer size: c_int32, never c_long
    _fields_ = [
        ("left", ctypes.c_int32),
        ("top", ctypes.c_int32),
        ("right", ctypes.c_int32),
        ("bottom", ctypes.c_int32),
    ]


class APPBARDATA(ctypes.Structure):
    # HWND is a pointer and LPARAM pointer-sized and signed; DWORD and UINT are 32 bits
    _fields_ = [
        ("cbSize", ctypes.c_uint32),
        ("hWnd", ctypes.c_void_p),
        ("uCallbackMessage", ctypes.c_uint32),
        ("uEdge", ctypes.c_uint32),
        ("rc", RECT),
        ("lParam", ctypes.c_ssize_t),
    ]


class POINT(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32)]


class MSG(ctypes.Structure):
    """What Qt's ``nativeEvent`` points at for ``windows_generic_MSG``."""

    _fields_ = [
        ("hwnd", ctypes.c_void_p),
        ("message", ctypes.c_uint32),
        ("wParam", ctypes.c_size_t),
        ("lParam", ctypes.c_ssize_t),
        ("time", ctypes.c_uint32),
        ("pt", POINT),
    ]


@dataclass(frozen=True)
class NativeRect:
    """A rectangle in physical pixels, right and bottom exclusive (Windows' convention)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


class AppBarNotice(enum.Enum):
    """What the strip must do after a message the shell sent."""

    REPOSITION = "reposition"
    FULLSCREEN_ENTERED = "fullscreen_entered"
    FULLSCREEN_LEFT = "fullscreen_left"


ShellSend = Callable[[int, "ctypes._Pointer[APPBARDATA]"], int]
TopMost = Callable[[int, bool], None]


def read_msg(address: int) -> MSG:
    """The ``MSG`` behind the pointer Qt hands to ``nativeEvent`` (copied, not aliased)."""
    return MSG.from_buffer_copy(ctypes.string_at(address, ctypes.sizeof(MSG)))


class AppBar:
    """One registered app bar for one window (the strip)."""

    def __init__(
        self, hwnd: int, send: ShellSend, callback_message: int, set_topmost: TopMost
    ) -> None:
        self.hwnd = hwnd
        self.callback_message = callback_message
        self._send = send
        self._set_topmost = set_topmost
        self.registered = False
        self.refused = False
        self.fullscreen = False
        self.granted: NativeRect | None = None

    @classmethod
    def open(cls, hwnd: int) -> AppBar | None:
        """Bind the real shell on Windows; None elsewhere or when the shell is missing."""
        if sys.platform != "win32":
            return None
        try:
            shell32 = ctypes.WinDLL("shell32")  # type: ignore[attr-defined,unused-ignore]
            user32 = ctypes.WinDLL("user32")  # type: ignore[attr-defined,unused-ignore]
        except OSError as exc:
            log.info("no shell32/user32: the strip will not reserve space: %s", exc)
            return None
        shell32.SHAppBarMessage.argtypes = [ctypes.c_uint32, ctypes.POINTER(APPBARDATA)]
        shell32.SHAppBarMessage.restype = ctypes.c_size_t
        user32.RegisterWindowMessageW.argtypes = [ctypes.c_wchar_p]
        user32.RegisterWindowMessageW.restype = ctypes.c_uint32
        user32.SetWindowPos.argtypes = (
            [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_int] * 4 + [ctypes.c_uint32]
        )
        message = int(user32.RegisterWindowMessageW(CALLBACK_NAME))

        def set_topmost(window: int, on: bool) -> None:
            # HWND_TOPMOST / HWND_NOTOPMOST, keeping size and position, not activating
            after = ctypes.c_void_p(-1 if on else -2)
            user32.SetWindowPos(window, after, 0, 0, 0, 0, 0x0001 | 0x0002 | 0x0010)

        return cls(hwnd, shell32.SHAppBarMessage, message, set_topmost)

    def _data(self, edge: Edge | None = None, rect: NativeRect | None = None) -> APPBARDATA:
        data = APPBARDATA()
        data.cbSize = ctypes.sizeof(APPBARDATA)
        data.hWnd = self.hwnd
        data.uCallbackMessage = self.callback_message
        if edge is not None:
            data.uEdge = ABE_TOP if edge is Edge.TOP else ABE_BOTTOM
        if rect is not None:
            data.rc = RECT(rect.left, rect.top, rect.right, rect.bottom)
        return data

    def register(self) -> bool:
        if not self.registered:
            self.registered = bool(self._send(ABM_NEW, ctypes.pointer(self._data())))
            if not self.registered and not self.refused:  # once, not on every re-dock
                log.warning("the shell refused the app bar: the strip will not reserve space")
            self.refused = not self.registered
        return self.registered

    def place(self, edge: Edge, monitor: NativeRect, thickness: int) -> NativeRect | None:
        """Claim ``thickness`` pixels at ``edge`` of ``monitor``; the rectangle granted.

        None when the shell would not register us (the caller docks by geometry alone).
        """
        if not self.register():
            return None
        data = self._data(edge, monitor)
        # propose the whole monitor: the shell moves the edge we sit on past the taskbar
        # and any other app bar there, then we keep only our thickness from that edge
        self._send(ABM_QUERYPOS, ctypes.pointer(data))
        rc = data.rc
        if edge is Edge.TOP:
            rc.bottom = rc.top + thickness
        else:
            rc.top = rc.bottom - thickness
        self._send(ABM_SETPOS, ctypes.pointer(data))
        self.granted = NativeRect(data.rc.left, data.rc.top, data.rc.right, data.rc.bottom)
        return self.granted

    def remove(self) -> None:
        if self.registered:
            self._send(ABM_REMOVE, ctypes.pointer(self._data()))
            self.registered = False
            self.granted = None

    def on_message(self, message: int, wparam: int, lparam: int) -> AppBarNotice | None:
        """Handle a window message; what the strip must do about it, if anything."""
        if not self.registered:
            return None
        if message == WM_ACTIVATE:
            self._send(ABM_ACTIVATE, ctypes.pointer(self._data()))
            return None
        if message == WM_WINDOWPOSCHANGED:
            self._send(ABM_WINDOWPOSCHANGED, ctypes.pointer(self._data()))
            return None
        if message != self.callback_message:
            return None
        if wparam == ABN_POSCHANGED:
            return AppBarNotice.REPOSITION
        if wparam == ABN_FULLSCREENAPP:
            entered = bool(lparam)
            if entered == self.fullscreen:
                return None
            self.fullscreen = entered
            self._set_topmost(self.hwnd, not entered)
            return AppBarNotice.FULLSCREEN_ENTERED if entered else AppBarNotice.FULLSCREEN_LEFT
        return None
