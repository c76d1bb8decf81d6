"""A stand-in desktop panel on a real X server: a window that reserves one screen edge.

It is what a real panel (tint2, xfce4-panel, a tray bar) does, and all the strip may look
at: a mapped top-level window with ``_NET_WM_STRUT_PARTIAL`` (and ``_NET_WM_STRUT``). Made
with the system's libX11 through :mod:`ctypes`; closing the connection destroys it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

from studio_status.ui.strip.x11 import load_libx11

__all__ = ["panel"]

_XA_CARDINAL = 6
_XA_ATOM = 4


def _lib() -> ctypes.CDLL:
    """The app's own libX11 prototypes, plus what making a window needs."""
    x = load_libx11()
    assert x is not None, "libX11 not found"
    x.XCreateSimpleWindow.restype = ctypes.c_ulong
    x.XCreateSimpleWindow.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_ulong,
        ctypes.c_ulong,
    ]
    x.XMapWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    return x


@contextmanager
def panel(display: str, edge: str, thickness: int, size: tuple[int, int]) -> Iterator[int]:
    """A panel ``thickness`` px deep along ``edge`` of a ``size`` screen; yields its id."""
    x = _lib()
    dpy = x.XOpenDisplay(display.encode())
    assert dpy, f"cannot open {display}"
    try:
        width, height = size
        geometry = {
            "top": (0, 0, width, thickness),
            "bottom": (0, height - thickness, width, thickness),
            "left": (0, 0, thickness, height),
            "right": (width - thickness, 0, thickness, height),
        }[edge]
        root = x.XDefaultRootWindow(dpy)
        win = x.XCreateSimpleWindow(dpy, root, *geometry, 0, 0, 0x335577)
        partial = [0] * 12
        side = ("left", "right", "top", "bottom").index(edge)
        partial[side] = thickness
        start, end = 4 + 2 * side, 5 + 2 * side
        partial[start], partial[end] = 0, (height if side < 2 else width) - 1

        def put(name: str, kind: int, values: list[int]) -> None:
            data = (ctypes.c_long * len(values))(*values)
            atom = x.XInternAtom(dpy, name.encode(), 0)
            x.XChangeProperty(
                dpy, win, atom, kind, 32, 0, ctypes.cast(data, ctypes.c_void_p), len(values)
            )

        put("_NET_WM_STRUT_PARTIAL", _XA_CARDINAL, partial)
        put("_NET_WM_STRUT", _XA_CARDINAL, partial[:4])
        dock = x.XInternAtom(dpy, b"_NET_WM_WINDOW_TYPE_DOCK", 0)
        put("_NET_WM_WINDOW_TYPE", _XA_ATOM, [dock])
        x.XMapWindow(dpy, win)
        x.XSync(dpy, 0)
        yield int(win)
    finally:
        x.XCloseDisplay(dpy)
