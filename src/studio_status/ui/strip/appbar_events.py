"""Hands the shell's app-bar messages for the strip's window to :class:`.appbar.AppBar`.

An application-wide native event filter rather than an override of the strip's
``nativeEvent``: it is installed only on Windows, so no other platform pays a Python call
for every native event of the strip.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractNativeEventFilter, QByteArray

from .appbar import AppBar, AppBarNotice, read_msg

__all__ = ["AppBarEventFilter"]

WINDOWS_MSG = b"windows_generic_MSG"


class AppBarEventFilter(QAbstractNativeEventFilter):
    def __init__(self, appbar: AppBar, on_notice: Callable[[AppBarNotice], None]) -> None:
        super().__init__()
        self.appbar = appbar
        self._on_notice = on_notice

    def nativeEventFilter(
        self, eventType: QByteArray | bytes | bytearray | memoryview, message: int
    ) -> tuple[bool, int]:
        kind = eventType.data() if isinstance(eventType, QByteArray) else bytes(eventType)
        if kind == WINDOWS_MSG and message:
            msg = read_msg(int(message))
            if msg.hwnd == self.appbar.hwnd:
                notice = self.appbar.on_message(msg.message, msg.wParam, msg.lParam)
                if notice is not None:
                    self._on_notice(notice)
        return False, 0  # observed, never swallowed: Qt still sees every message
