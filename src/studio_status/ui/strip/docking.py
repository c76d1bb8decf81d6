"""Where the strip goes: screen choice, dock rectangle, X11 strut values, platform choice.

Decisions, per desktop:

* **X11** (and XWayland): the strip is a ``_NET_WM_WINDOW_TYPE_DOCK`` window docked full
  width to the top or bottom edge of the chosen screen. It reserves its height with
  ``_NET_WM_STRUT_PARTIAL`` (and the legacy ``_NET_WM_STRUT``), so maximised windows stop
  short of it, and sets ``_NET_WM_DESKTOP`` to ``0xFFFFFFFF`` to stay on every virtual
  desktop (see :mod:`.x11`). The dock rectangle is the screen less what *other* windows
  reserve (:func:`work_area` over their struts: a panel with its tray at the same edge, a
  side dock), never Qt's ``availableGeometry()``: our own strut shrinks that, and docking to
  it would walk the strip inwards on every re-dock. So the strip sits beside a panel, never
  over it, on every edge, and the strut it reserves covers the panel's rows too (struts
  count from the root window's edge).
* **Wayland**: a client may not place itself or reserve space without the layer-shell
  protocol, which Qt does not offer. So when the session is Wayland and an X server is
  reachable (``DISPLAY`` is set: XWayland), the app asks Qt for the ``xcb`` platform
  (:func:`preferred_platform`), which gives the docked behaviour above. An explicit
  ``QT_QPA_PLATFORM`` always wins, and ``STUDIO_STATUS_NATIVE_WAYLAND=1`` opts out. On native
  Wayland the strip is a floating frameless bar the compositor places: it still works,
  it just cannot dock (``StatusStrip.docked`` is False). Both branches run against a real
  headless Weston in ``tests/ui/test_wayland.py``.
* **Windows**: the strip is an *app bar* (:mod:`.appbar`, ``SHAppBarMessage``): the shell
  places it past the taskbar and any other app bar on that edge and shrinks the work area
  by its height, so maximised windows stop short of it; it steps out of the top-most band
  while a full-screen program runs. If the shell refuses, it docks to the work area
  (``availableGeometry()``) by geometry alone.
* **macOS**: no public API lets an application reserve screen space (only the menu bar and
  the Dock do), so the strip docks by geometry to the work area, below the menu bar or
  above the Dock, always on top; maximised windows may cover it. This is documented, not
  hidden: ``StatusStrip.reserves_space`` is False there.

The place is remembered as screen *name* + edge; when that screen is gone the primary
screen is used, and the strip re-docks when screens come and go or change geometry or
scale (the closest peer's most common bug reports).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen

from studio_status.ui.settings_store import Edge

__all__ = [
    "can_dock",
    "dock_rect",
    "edge_area",
    "logical_rect",
    "native_rect",
    "pick_screen",
    "preferred_platform",
    "strut_partial",
    "work_area",
]


def pick_screen(screens: Sequence[QScreen], primary: QScreen | None, name: str | None) -> QScreen:
    """The screen called ``name``, else the primary one, else the first."""
    if name:
        for screen in screens:
            if screen.name() == name:
                return screen
    if primary is not None:
        return primary
    return screens[0]


def dock_rect(screen: QRect, edge: Edge, height: int) -> QRect:
    """Full width of ``screen`` at ``edge``, ``height`` tall (logical pixels)."""
    if edge is Edge.TOP:
        return QRect(screen.x(), screen.y(), screen.width(), height)
    return QRect(screen.x(), screen.y() + screen.height() - height, screen.width(), height)


def native_rect(rect: QRect, screen: QRect, dpr: float) -> QRect:
    """Logical → X11 root pixels. Qt keeps a screen's origin unscaled and scales within it."""
    origin = screen.topLeft()
    rel = rect.topLeft() - origin
    top_left = origin + QPoint(round(rel.x() * dpr), round(rel.y() * dpr))
    return QRect(top_left.x(), top_left.y(), round(rect.width() * dpr), round(rect.height() * dpr))


def logical_rect(rect: QRect, screen: QRect, dpr: float) -> QRect:
    """Native pixels → logical: the inverse of :func:`native_rect` on the same screen."""
    origin = screen.topLeft()
    rel = rect.topLeft() - origin
    top_left = origin + QPoint(round(rel.x() / dpr), round(rel.y() / dpr))
    return QRect(top_left.x(), top_left.y(), round(rect.width() / dpr), round(rect.height() / dpr))


def edge_area(screen: QRect, edge: Edge, granted: QRect) -> QRect:
    """The screen with the edge the strip hugs moved to where the shell granted it.

    A Windows app bar above the taskbar gets a rectangle inside the screen; docking (and
    growing on hover) to this area keeps the strip on that line, never under the taskbar.
    """
    if edge is Edge.TOP:
        return QRect(screen.x(), granted.y(), screen.width(), screen.bottom() - granted.y() + 1)
    return QRect(screen.x(), screen.y(), screen.width(), granted.bottom() - screen.y() + 1)


def strut_partial(edge: Edge, dock: QRect, root_height: int) -> list[int]:
    """The 12 cardinals of ``_NET_WM_STRUT_PARTIAL`` for a dock rectangle in root pixels.

    Order: left, right, top, bottom, left_start_y, left_end_y, right_start_y, right_end_y,
    top_start_x, top_end_x, bottom_start_x, bottom_end_x. Struts are measured from the edge
    of the whole root window, so a strip on a lower monitor reserves its offset too.
    """
    values = [0] * 12
    start, end = dock.x(), dock.x() + dock.width() - 1
    if edge is Edge.TOP:
        values[2] = dock.y() + dock.height()
        values[8], values[9] = start, end
    else:
        values[3] = root_height - dock.y()
        values[10], values[11] = start, end
    return values


def work_area(screen: QRect, struts: Sequence[Sequence[int]], root: QRect) -> QRect:
    """``screen`` (root pixels) less the edges other windows reserve over it.

    Each strut is the 12 values of ``_NET_WM_STRUT_PARTIAL``; a reservation counts for this
    screen only where its span crosses the screen (a panel on another monitor does not move
    the strip). What is left is never empty: a strut that would swallow the whole screen is
    ignored rather than pushing the strip off it.
    """
    left, top = screen.left(), screen.top()
    right, bottom = screen.right() + 1, screen.bottom() + 1

    def spans(start: int, end: int, lo: int, hi: int) -> bool:
        return start < hi and end >= lo

    for s in struts:
        if len(s) < 12:
            continue
        if s[0] > screen.left() and spans(s[4], s[5], screen.top(), screen.bottom() + 1):
            left = max(left, s[0])
        if (
            s[1]
            and root.right() + 1 - s[1] < screen.right() + 1
            and spans(s[6], s[7], screen.top(), screen.bottom() + 1)
        ):
            right = min(right, root.right() + 1 - s[1])
        if s[2] > screen.top() and spans(s[8], s[9], screen.left(), screen.right() + 1):
            top = max(top, s[2])
        if (
            s[3]
            and root.bottom() + 1 - s[3] < screen.bottom() + 1
            and spans(s[10], s[11], screen.left(), screen.right() + 1)
        ):
            bottom = min(bottom, root.bottom() + 1 - s[3])
    if right - left < screen.width() // 4 or bottom - top < screen.height() // 4:
        return QRect(screen)
    return QRect(left, top, right - left, bottom - top)


def can_dock(platform_name: str) -> bool:
    """Whether the platform lets a window place itself (everything but native Wayland)."""
    return not platform_name.startswith("wayland")


def preferred_platform(env: Mapping[str, str]) -> str | None:
    """``"xcb"`` on a Wayland session with XWayland, unless the user chose otherwise."""
    if env.get("QT_QPA_PLATFORM") or env.get("STUDIO_STATUS_NATIVE_WAYLAND") == "1":
        return None
    wayland = env.get("XDG_SESSION_TYPE") == "wayland" or bool(env.get("WAYLAND_DISPLAY"))
    if wayland and env.get("DISPLAY"):
        return "xcb"
    return None
