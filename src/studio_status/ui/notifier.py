"""Delivery of the tray's notices through the desktop's notification centre, with actions.

:mod:`.notify` decides *which* notices are raised; this module shows them. On freedesktop
desktops that is the ``org.freedesktop.Notifications`` service on the session bus (through
the desktop-notifier library, which also speaks to the macOS and Windows centres), with two
actions that work: **Open** (the window of what the notice is about) and **Mute 1 h** (the
same mute as the tray menu's, so the hub holds it for every desktop). A click on the notice
body opens too. A later notice for the same incident (:attr:`Notification.key`) replaces the
earlier one instead of stacking up.

Where there is no notification service (no session bus, nobody owning the name, a desktop
the library cannot reach) the notice goes to the fallback, Qt's tray balloon. The service
is probed once, on the first notice; a send that fails later falls back for that notice
and probes again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Final

from desktop_notifier import Button, Capability, DesktopNotifier, Urgency
from PySide6.QtCore import QObject, Signal

from studio_status.protocol import HealthStatus
from studio_status.tasks import TaskSet

from .notify import Notification

__all__ = ["MUTE_SECONDS", "DesktopNotices"]

log = logging.getLogger("ui.notifier")

#: the notice's "Mute 1 h" action
MUTE_SECONDS: Final = 3600
#: how long the first contact with the notification service may take
PROBE_SECONDS: Final = 5.0

_URGENCY = {
    HealthStatus.DOWN: Urgency.Critical,
    HealthStatus.DEGRADED: Urgency.Normal,
}


class DesktopNotices(QObject):
    """Shows :class:`Notification` objects in the desktop's notification centre.

    Signals:
        open_requested(str): open the window of a segment (the notice's "Open" or a click).
        mute_requested(object): mute notices for N seconds (the "Mute 1 h" action).

    Attributes:
        available: None until probed; then whether the notification service answers.
        actions: whether the service shows action buttons (some minimal servers do not).
        fallback_count: notices that went to the fallback.
    """

    open_requested = Signal(str)
    mute_requested = Signal(object)

    def __init__(
        self,
        fallback: Callable[[Notification], None],
        *,
        app_name: str = "Studio Status",
        notifier: DesktopNotifier | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fallback = fallback
        self._notifier = notifier or DesktopNotifier(app_name=app_name)
        self._shown: dict[str, str] = {}  # Notification.key -> the centre's identifier
        self._lock = asyncio.Lock()  # one notice at a time: a replacement sees its previous
        self._tasks = TaskSet(log)
        self.available: bool | None = None
        self.actions = False
        self.fallback_count = 0

    def show(self, note: Notification) -> None:
        """Show ``note`` soon (the D-Bus round trips run on the loop, not in the caller)."""
        self._tasks.spawn(self.deliver(note), "notice")

    async def deliver(self, note: Notification) -> bool:
        """Show ``note``; True when the notification centre took it, False for the fallback."""
        async with self._lock:
            if self.available is None:
                await self._probe()
            if self.available and await self._send(note):
                return True
            self.fallback_count += 1
            self._fallback(note)
            return False

    async def _probe(self) -> None:
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                capabilities = await self._notifier.get_capabilities()
        except Exception as exc:  # no bus, no service, a backend that cannot load
            log.info("no desktop notification service (%s); using the tray's balloon", exc)
            self.available = False
            return
        self.available = True
        self.actions = Capability.BUTTONS in capabilities
        log.info("desktop notifications: %s", "with actions" if self.actions else "no actions")

    async def _send(self, note: Notification) -> bool:
        previous = self._shown.pop(note.key, None)
        if previous is not None:  # the same incident: the new notice replaces the old
            with contextlib.suppress(Exception):
                await self._notifier.clear(previous)
        dispatched: list[bool] = []
        segment = note.segment.value
        try:
            identifier = await self._notifier.send(
                note.title,
                note.body,
                urgency=_URGENCY.get(note.severity, Urgency.Low),
                buttons=(
                    Button("Open", on_pressed=lambda: self.open_requested.emit(segment)),
                    Button("Mute 1 h", on_pressed=lambda: self.mute_requested.emit(MUTE_SECONDS)),
                ),
                on_clicked=lambda: self.open_requested.emit(segment),
                on_dispatched=lambda: dispatched.append(True),
            )
        except Exception as exc:
            log.info("desktop notification failed (%s); using the tray's balloon", exc)
            dispatched.clear()
        if not dispatched:  # the library logs and swallows a failed send
            self.available = None  # ask again next time: the service may come back
            return False
        self._shown[note.key] = identifier
        return True

    async def aclose(self) -> None:
        """Stop pending sends and let go of the session bus connection."""
        await self._tasks.cancel_all()
        backend: Any = getattr(self._notifier, "_backend", None)
        bus = getattr(backend, "bus", None)  # the library opens it and offers no close
        if bus is not None:
            bus.disconnect()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await bus.wait_for_disconnect()
