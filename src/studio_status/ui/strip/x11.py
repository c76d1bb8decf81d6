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
from typing import Any

__all__ = ["ALL_DESKTOPS", "X11Properties", "load_libx11"]

log = logging.getLogger("ui.strip")

ALL_DESKTOPS = 0xFFFFFFFF
_XA_CARDINAL = 6
_PROP_MODE_REPLACE = 0
_CLIENT_MESSAGE = 33
_SUBSTRUCTURE_REDIRECT_MASK = 1 << 20
_SUBSTRUCTURE_NOTIFY_MASK = 1 << 19
_PROPERTY_CHANGE_MASK = 1 << 22
_DESTROY_NOTIFY = 17
_UNMAP_NOTIFY = 18
_MAP_NOTIFY = 19
_REPARENT_NOTIFY = 21
_PROPERTY_NOTIFY = 28
#: a window came or went (on a bare X server, seen as the root's children)
_COME_AND_GO = frozenset({_DESTROY_NOTIFY, _UNMAP_NOTIFY, _MAP_NOTIFY, _REPARENT_NOTIFY})
#: the properties whose change can move the strip: a panel's reserve, the managed windows
_PANEL_PROPERTIES = ("_NET_WM_STRUT_PARTIAL", "_NET_WM_STRUT", "_NET_CLIENT_LIST")
_ANY_PROPERTY_TYPE = 0
_IS_VIEWABLE = 2
_SUCCESS = 0


class _WindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        ("c_class", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


#: what every XEvent starts with (XAnyEvent)
_ANY_EVENT: list[tuple[str, type[ctypes._SimpleCData[Any]]]] = [
    ("type", ctypes.c_int),
    ("serial", ctypes.c_ulong),
    ("send_event", ctypes.c_int),
    ("display", ctypes.c_void_p),
    ("window", ctypes.c_ulong),
]


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        *_ANY_EVENT,
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _PropertyEvent(ctypes.Structure):
    _fields_ = [
        *_ANY_EVENT,
        ("atom", ctypes.c_ulong),
        ("time", ctypes.c_ulong),
        ("state", ctypes.c_int),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [
        ("type", ctypes.c_int),
        ("xclient", _ClientMessage),
        ("xproperty", _PropertyEvent),
        ("pad", ctypes.c_long * 24),
    ]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _ignore(_display: int, _event: int) -> int:
    return 0


_ignore_errors = _ERROR_HANDLER(_ignore)  # kept referenced: libX11 holds the pointer


def load_libx11() -> ctypes.CDLL | None:
    """The system's libX11 with the prototypes used here (ctypes would guess them wrong on
    64-bit: pointers and XIDs are longs); None where it is not installed."""
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
    lib.XGetWindowProperty.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
        ctypes.c_long,
        ctypes.c_long,
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.XQueryTree.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
        ctypes.POINTER(ctypes.c_uint),
    ]
    lib.XGetWindowAttributes.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.POINTER(_WindowAttributes),
    ]
    lib.XFree.argtypes = [ctypes.c_void_p]
    lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
    lib.XPending.argtypes = [ctypes.c_void_p]
    lib.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(_XEvent)]
    lib.XConnectionNumber.argtypes = [ctypes.c_void_p]
    # a window that vanishes between listing and reading must not kill the app
    lib.XSetErrorHandler.argtypes = [ctypes.c_void_p]
    lib.XSetErrorHandler.restype = ctypes.c_void_p
    return lib


class X11Properties:
    """A private libX11 connection for setting EWMH properties on our windows, and for
    hearing when another panel comes, goes or changes what it reserves.

    Why events and not a poll: reading every top-level window's struts every 2 s cost
    five round trips to the X server, 2.5 wake-ups a second at idle, and more with every
    window open. :meth:`other_struts` asks the server to tell this connection about
    what it read (:data:`_PANEL_PROPERTIES` on each window, windows coming and going on the
    root); the caller watches :meth:`fileno` and calls :meth:`panels_changed`.
    """

    def __init__(self, lib: ctypes.CDLL, display: int) -> None:
        self._x = lib
        self._display = ctypes.c_void_p(display)
        self._panel_atoms: frozenset[int] | None = None

    @classmethod
    def open(cls) -> X11Properties | None:
        """Connect to ``$DISPLAY``; None when libX11 or the display is not available."""
        lib = load_libx11()
        if lib is None:
            return None
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

    def cardinals(self, window: int, name: str) -> list[int] | None:
        """A 32-bit property as a list, or None when the window has no such property."""
        actual_type = ctypes.c_ulong()
        fmt = ctypes.c_int()
        count = ctypes.c_ulong()
        after = ctypes.c_ulong()
        data = ctypes.c_void_p()
        status = self._x.XGetWindowProperty(
            self._display,
            window,
            self._atom(name),
            0,
            1024,
            0,
            _ANY_PROPERTY_TYPE,
            ctypes.byref(actual_type),
            ctypes.byref(fmt),
            ctypes.byref(count),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        if status != _SUCCESS or not data.value:
            return None
        try:
            if fmt.value != 32:
                return None
            # format 32 comes back as C longs, whatever the machine's long size
            values = ctypes.cast(data, ctypes.POINTER(ctypes.c_long))
            return [values[i] & 0xFFFFFFFF for i in range(count.value)]
        finally:
            self._x.XFree(data)

    def _top_level_windows(self) -> list[int]:
        """The managed windows (``_NET_CLIENT_LIST``), or the root's mapped children when no
        window manager keeps that list (a bare X server, as in tests).

        Watched before it is read, so no change falls between the read and the watch: the
        root's properties (the client list) always; its children coming and going only
        without a window manager (with one, that list says it, and a child's every move
        would wake us)."""
        root = self._x.XDefaultRootWindow(self._display)
        self._x.XSelectInput(self._display, root, _PROPERTY_CHANGE_MASK)
        managed = self.cardinals(root, "_NET_CLIENT_LIST")
        if managed is not None:
            return managed
        self._x.XSelectInput(self._display, root, _PROPERTY_CHANGE_MASK | _SUBSTRUCTURE_NOTIFY_MASK)
        root_ret, parent_ret = ctypes.c_ulong(), ctypes.c_ulong()
        children = ctypes.POINTER(ctypes.c_ulong)()
        count = ctypes.c_uint()
        if not self._x.XQueryTree(
            self._display,
            root,
            ctypes.byref(root_ret),
            ctypes.byref(parent_ret),
            ctypes.byref(children),
            ctypes.byref(count),
        ):
            return []
        try:
            windows = [int(children[i]) for i in range(count.value)]
        finally:
            if children:
                self._x.XFree(children)
        viewable = []
        for window in windows:
            attrs = _WindowAttributes()
            if (
                self._x.XGetWindowAttributes(self._display, window, ctypes.byref(attrs))
                and attrs.map_state == _IS_VIEWABLE
            ):
                viewable.append(window)
        return viewable

    def other_struts(self, own: int) -> list[list[int]]:
        """Every other window's reserved edges as 12 ``_NET_WM_STRUT_PARTIAL`` values (a
        legacy ``_NET_WM_STRUT`` spans its whole edge): the panels the strip docks beside."""
        previous = self._x.XSetErrorHandler(ctypes.cast(_ignore_errors, ctypes.c_void_p))
        try:
            found = []
            for window in self._top_level_windows():
                if window == own:
                    continue
                # before the read: a change after it is an event (our own changes are not)
                self._x.XSelectInput(self._display, window, _PROPERTY_CHANGE_MASK)
                partial = self.cardinals(window, "_NET_WM_STRUT_PARTIAL")
                if partial is not None and len(partial) >= 12:
                    found.append(partial[:12])
                    continue
                legacy = self.cardinals(window, "_NET_WM_STRUT")
                if legacy is not None and len(legacy) >= 4:
                    full = [0, 0xFFFFFFFF]
                    found.append([*legacy[:4], *full, *full, *full, *full])
            self._x.XSync(self._display, 0)
            return found
        finally:
            self._x.XSetErrorHandler(previous)

    def fileno(self) -> int:
        """The connection's socket: readable when the X server sent something."""
        return int(self._x.XConnectionNumber(self._display))

    def panels_changed(self) -> bool:
        """Take every event the server sent; True if one may move the strip: a window
        came or went, or one changed a strut or the list of managed windows. Events
        Xlib read while answering a request are in its queue, not on the socket, so call
        this after :meth:`other_struts` too."""
        if self._panel_atoms is None:
            self._panel_atoms = frozenset(self._atom(name) for name in _PANEL_PROPERTIES)
        changed = False
        event = _XEvent()
        while self._x.XPending(self._display) > 0:
            self._x.XNextEvent(self._display, ctypes.byref(event))
            if event.type in _COME_AND_GO or (
                event.type == _PROPERTY_NOTIFY and event.xproperty.atom in self._panel_atoms
            ):
                changed = True
        return changed

    def close(self) -> None:
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = ctypes.c_void_p(0)
