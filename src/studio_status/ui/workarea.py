"""The part of a screen a window may use: Qt's available geometry less every strut.

Qt's ``availableGeometry()`` comes from the window manager's ``_NET_WORKAREA``; without a
window manager that keeps it (a bare X server, some tiling setups) it is the whole screen,
and a window would open under the strip or a panel. On X11 the struts every window
reserves are read too (:meth:`~studio_status.ui.strip.x11.X11Properties.other_struts`) and
the smaller area wins; elsewhere Qt's answer is the platform's own (taskbar, menu bar, Dock).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QGuiApplication, QScreen

from studio_status.ui.strip import docking
from studio_status.ui.strip.x11 import X11Properties

__all__ = ["available_geometry", "fit_rect"]


@functools.cache
def _connection() -> X11Properties | None:
    """One private libX11 connection for the app's life (a few property reads per open)."""
    return X11Properties.open()


def available_geometry(screen: QScreen) -> QRect:
    """Where a window on ``screen`` may go (logical pixels)."""
    area = screen.availableGeometry()
    if QGuiApplication.platformName() != "xcb":
        return area
    x11 = _connection()
    if x11 is None:
        return area
    geom = screen.geometry()
    dpr = screen.devicePixelRatio()
    root = QRect(QPoint(0, 0), QSize(*x11.root_size()))
    native = docking.work_area(docking.native_rect(geom, geom, dpr), x11.other_struts(own=0), root)
    return area.intersected(docking.logical_rect(native, geom, dpr))


def fit_rect(rect: QRect, area: QRect, frame: QSize | None = None) -> QRect:
    """``rect`` shrunk to fit ``area`` (with ``frame``, the decorations' extra size, inside
    it too) and moved in: a remembered place on a smaller screen is made to fit, not kept."""
    extra = frame or QSize(0, 0)
    width = max(1, min(rect.width(), area.width() - extra.width()))
    height = max(1, min(rect.height(), area.height() - extra.height()))
    x = min(max(rect.x(), area.x()), area.x() + area.width() - width - extra.width())
    y = min(max(rect.y(), area.y()), area.y() + area.height() - height - extra.height())
    return QRect(max(x, area.x()), max(y, area.y()), width, height)
