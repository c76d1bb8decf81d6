"""The system-tray icon: coloured and shaped by the overall state, with menu and notices.

* Admins: the worst service state (green ● / yellow ▲ / red ■, grey ? when offline or
  nothing is known). Others: "System Stable" (green) or "Processing Data" (blue ring,
  seed 003) and the link. The icon is drawn with QPainter at every size trays ask for
  (16–64 px, at 1x and 2x), not one bitmap scaled, and carries an optional badge with the
  number of services down.
* Clicks follow the platform (:func:`click_action`): on macOS any click opens the menu;
  elsewhere a left or double click opens the main window (service health for admins, jobs
  for others), a middle click shows or hides the strip, a right click opens the menu.
  Every click action is also in the menu (AppIndicator trays pass no clicks).
* ``isSystemTrayAvailable()`` is checked again every few seconds, so the icon appears when
  a tray shows up later; with no tray the strip works alone.
* Notifications: one per incident (:mod:`.notify`), filtered by the user's choices (which
  transitions, quiet hours), silenced while muted. They go to :attr:`TrayIcon.notifier`
  when the app sets one (:mod:`.notifier`: the desktop's notification centre, with "Open"
  and "Mute 1 h" actions), else to Qt's tray balloon (:meth:`TrayIcon.show_balloon`, also
  the notifier's fallback). A click opens the window of the segment the notice is about.
* Profiles: a "Profile" submenu switches the platform at once (radio items).
* The menu starts with the current state, as menu-bar apps do: the worst state with its
  counts (or the link's problem in the strip's words), the profile, role and hub, then any
  problem of the app itself (a repaired settings file, no keyring), which stays there until
  dealt with (a click opens Settings) rather than only flashing by in a balloon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from studio_status import pace
from studio_status.appconfig import NotificationSettings
from studio_status.client.state import Segment, StatusState
from studio_status.protocol import HealthStatus, Role, utcnow

from . import formats
from .feed import StateFeed
from .formats import Overall
from .notify import Notification, NotificationGate, wanted
from .theme import Theme, current_theme

__all__ = [
    "MUTE_CHOICES",
    "TRAY_SIZES",
    "TrayIcon",
    "paint_tray_icon",
    "render_tray_icon",
    "render_tray_pixmap",
]

log = logging.getLogger("ui.tray")

TRAY_SIZES = (16, 22, 24, 32, 48, 64)
#: (menu text, seconds; None = until cleared)
MUTE_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("1 hour", 3600),
    ("4 hours", 4 * 3600),
    ("8 hours", 8 * 3600),
    ("Until cleared", None),
)
AVAILABILITY_CHECK_MS = 5000


def _shape_path(overall: Overall, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    if overall is Overall.DEGRADED:
        path.moveTo(box.center().x(), box.top())
        path.lineTo(box.right(), box.bottom() - box.height() * 0.06)
        path.lineTo(box.left(), box.bottom() - box.height() * 0.06)
        path.closeSubpath()
    elif overall is Overall.DOWN:
        r = box.width() * 0.14
        path.addRoundedRect(box.adjusted(box.width() * 0.04, box.width() * 0.04, 0, 0), r, r)
    else:
        path.addEllipse(box)
    return path


def _glyph(p: QPainter, overall: Overall, box: QRectF, color: QColor) -> None:
    s = box.width()
    x0, y0 = box.left(), box.top()
    pen = QPen(color, max(1.5, s * 0.12))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if overall is Overall.HEALTHY:
        path = QPainterPath(QPointF(x0 + s * 0.28, y0 + s * 0.52))
        path.lineTo(x0 + s * 0.44, y0 + s * 0.67)
        path.lineTo(x0 + s * 0.72, y0 + s * 0.36)
        p.drawPath(path)
    elif overall is Overall.DEGRADED:
        p.drawLine(QPointF(x0 + s * 0.5, y0 + s * 0.36), QPointF(x0 + s * 0.5, y0 + s * 0.62))
        p.drawPoint(QPointF(x0 + s * 0.5, y0 + s * 0.76))
    elif overall is Overall.DOWN:
        p.drawLine(QPointF(x0 + s * 0.35, y0 + s * 0.35), QPointF(x0 + s * 0.67, y0 + s * 0.67))
        p.drawLine(QPointF(x0 + s * 0.67, y0 + s * 0.35), QPointF(x0 + s * 0.35, y0 + s * 0.67))
    elif overall is Overall.PROCESSING:
        ring = QRectF(x0 + s * 0.3, y0 + s * 0.3, s * 0.4, s * 0.4)
        p.drawArc(ring, 90 * 16, -270 * 16)
    else:
        font = QFont()
        font.setPixelSize(max(7, round(s * 0.62)))
        font.setBold(True)
        p.setFont(font)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")


def render_tray_pixmap(
    theme: Theme, overall: Overall, size: int, dpr: float = 1.0, badge: int = 0
) -> QPixmap:
    """One icon image of ``size`` logical pixels at device pixel ratio ``dpr``."""
    px = round(size * dpr)
    pix = QPixmap(px, px)
    pix.fill(Qt.GlobalColor.transparent)
    pix.setDevicePixelRatio(dpr)
    p = QPainter(pix)
    paint_tray_icon(p, theme, overall, size, badge)
    p.end()
    return pix


def paint_tray_icon(p: QPainter, theme: Theme, overall: Overall, size: int, badge: int = 0) -> None:
    """Draw the icon on any device: a pixmap here, an SVG for ``resources/`` (one source)."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = max(0.5, size * 0.04)
    box = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(theme.overall_color(overall))
    p.drawPath(_shape_path(overall, box))
    _glyph(p, overall, box, theme.color("on_status"))
    if badge > 0 and size >= 22:
        r = size * 0.24
        center = QPointF(size - r, r)
        p.setPen(QPen(theme.color("on_status"), max(1.0, size * 0.04)))
        p.setBrush(theme.color("badge"))
        p.drawEllipse(center, r, r)
        font = QFont()
        font.setPixelSize(max(7, round(r * 1.4)))
        font.setBold(True)
        p.setFont(font)
        p.setPen(theme.color("badge_text"))
        p.drawText(
            QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r),
            Qt.AlignmentFlag.AlignCenter,
            str(badge) if badge < 10 else "9+",
        )


def render_tray_icon(theme: Theme, overall: Overall, badge: int = 0) -> QIcon:
    """A QIcon holding a hand-drawn pixmap for every tray size at 1x and 2x."""
    icon = QIcon()
    for size in TRAY_SIZES:
        for dpr in (1.0, 2.0):
            icon.addPixmap(render_tray_pixmap(theme, overall, size, dpr, badge))
    return icon


def services_down(state: StatusState) -> int:
    services = state.footer.services if state.footer else None
    if state.role is not Role.ADMIN or not services:
        return 0
    return sum(1 for s in services.values() if s.status is HealthStatus.DOWN)


#: Detail windows beyond the segments' own (names as :mod:`studio_status.ui.windows` knows them).
MORE_WINDOWS: tuple[tuple[str, str], ...] = tuple(
    (name, f"{formats.WINDOW_TITLES[name]}…")
    for name in ("uptime", "checklist", "activity", "pulse", "systems")
)
ADMIN_WINDOWS = frozenset({"uptime", "checklist"})


#: What a click on the icon does, per platform (documented in the README).
CLICKS = {
    "cocoa": {},  # macOS: every click opens the menu, as menu-bar items do
    "other": {
        QSystemTrayIcon.ActivationReason.Trigger: "main",
        QSystemTrayIcon.ActivationReason.DoubleClick: "main",
        QSystemTrayIcon.ActivationReason.MiddleClick: "strip",
    },
}


def click_action(reason: QSystemTrayIcon.ActivationReason, platform: str) -> str | None:
    """``"main"`` (open the main window), ``"strip"`` (show / hide it) or None (the menu)."""
    return CLICKS["cocoa" if platform == "cocoa" else "other"].get(reason)


def main_window(state: StatusState) -> str:
    """The window a click on the icon opens: service health for admins, jobs for others."""
    return (Segment.SERVICES if state.role is Role.ADMIN else Segment.JOBS).value


class TrayIcon(QObject):
    """The tray icon and its menu, over the same feed as the strip.

    Signals:
        open_requested(str): open a segment's detail window.
        strip_toggle_requested(): show or hide the strip.
        mute_requested(object): mute notifications for N seconds (int), None = until cleared,
            0 = unmute. Applied locally at once; the app forwards it to the hub.
        settings_requested(): open settings.
        profile_requested(str): switch to the named profile.
        quit_requested(): quit the app.
        app_problem_clicked(str): the user clicked an app problem's line (its key).

    Attributes:
        tray: the :class:`QSystemTrayIcon`.
        overall: the state the icon shows.
        badge: services down, drawn on the icon.
        shown: notifications shown so far (newest last).
        held: notifications the user's choices held back (kind not chosen, quiet hours).
        muted_until: None when not muted; ``datetime.max`` (aware) for "until cleared".
    """

    open_requested = Signal(str)
    strip_toggle_requested = Signal()
    mute_requested = Signal(object)
    settings_requested = Signal()
    profile_requested = Signal(str)
    quit_requested = Signal()
    app_problem_clicked = Signal(str)

    def __init__(
        self,
        feed: StateFeed,
        *,
        theme: Theme | None = None,
        clock: Callable[[], datetime] = utcnow,
        local_time: Callable[[], time] | None = None,
        notifications: NotificationSettings | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._feed = feed
        self._theme = theme or current_theme()
        self._clock = clock
        self._local_time = local_time or (lambda: datetime.now().time())
        self.notifications = notifications or NotificationSettings()
        self._gate = NotificationGate(clock(), frozenset(self.notifications.transitions))
        # the policy holds bursts, batches and recoveries: this wakes it when one is due
        self._due = QTimer(self)
        self._due.setSingleShot(True)
        self._due.timeout.connect(self.on_due_timeout)
        self.overall: Overall | None = None
        self.badge = -1
        self.shown: list[Notification] = []
        self.held: list[Notification] = []
        self._last_note: Notification | None = None
        #: where wanted notices go instead of the balloon (the app's desktop notifier)
        self.notifier: Callable[[Notification], None] | None = None
        self.muted_until: datetime | None = None
        self._strip_visible = True
        self._platform = QApplication.platformName()

        self.tray = QSystemTrayIcon(self)
        self.tray.activated.connect(self.on_tray_activated)
        self.tray.messageClicked.connect(self.on_tray_message_clicked)
        self.menu = QMenu()
        self._build_menu()
        self.tray.setContextMenu(self.menu)

        self._availability = QTimer(self)
        self._availability.setInterval(AVAILABILITY_CHECK_MS)
        self._availability.timeout.connect(self.on_availability_timeout)
        feed.changed.connect(self.on_feed_changed)
        self.on_feed_changed(feed.state)
        self.on_availability_timeout()
        self._availability.start()

    # -- menu -----------------------------------------------------------------------------

    def _build_menu(self) -> None:
        m = self.menu
        self.header_actions: list[QAction] = []
        self.problem_actions: dict[str, QAction] = {}
        self._header_end = m.addSeparator()
        self._open_actions: dict[Segment, QAction] = {}
        for seg in Segment:
            action = m.addAction(f"Open {formats.WINDOW_TITLES[seg.value]}…")
            action.triggered.connect(lambda _c=False, s=seg: self.open_requested.emit(s.value))
            self._open_actions[seg] = action
        self.windows_menu = m.addMenu("More windows")
        self._more_actions: dict[str, QAction] = {}
        for name, text in MORE_WINDOWS:
            action = self.windows_menu.addAction(text)
            action.triggered.connect(lambda _c=False, n=name: self.open_requested.emit(n))
            self._more_actions[name] = action
        m.addSeparator()
        self.strip_action = m.addAction("Hide strip")
        self.strip_action.triggered.connect(self.strip_toggle_requested.emit)
        self.mute_menu = m.addMenu("Mute notifications")
        for text, seconds in MUTE_CHOICES:
            action = self.mute_menu.addAction(text)
            action.triggered.connect(lambda _c=False, s=seconds: self.request_mute(s))
        self.unmute_action = m.addAction("Unmute notifications")
        self.unmute_action.triggered.connect(lambda: self.request_mute(0))
        self.unmute_action.setVisible(False)
        m.addSeparator()
        self.profile_menu = m.addMenu("Profile")
        self._profile_group = QActionGroup(self)
        self._profile_group.setExclusive(True)
        self.profile_actions: dict[str, QAction] = {}
        m.addAction("Settings…").triggered.connect(self.settings_requested.emit)
        m.addAction("Quit Studio Status").triggered.connect(self.quit_requested.emit)

    def set_theme(self, theme: Theme) -> None:
        """Redraw the icon in ``theme`` at once (Settings → Theme)."""
        self._theme = theme
        if self.overall is not None:
            self.tray.setIcon(render_tray_icon(theme, self.overall, max(0, self.badge)))

    def set_profiles(self, names: list[str], active: str) -> None:
        """Rebuild the quick switch: one radio item per profile, the active one checked."""
        for action in self.profile_actions.values():
            self._profile_group.removeAction(action)
            action.deleteLater()
        self.profile_menu.clear()
        self.profile_actions = {}
        for name in names:
            action = self.profile_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == active)
            self._profile_group.addAction(action)
            action.triggered.connect(lambda _c=False, n=name: self.on_profile_triggered(n))
            self.profile_actions[name] = action
        # one profile: nothing to switch to, keep the menu short
        self.profile_menu.menuAction().setVisible(len(names) > 1)

    def on_profile_triggered(self, name: str) -> None:
        self.profile_requested.emit(name)

    def set_notification_settings(self, settings: NotificationSettings) -> None:
        self.notifications = settings
        self._gate.kinds = frozenset(settings.transitions)

    def reset_notifications(self) -> None:
        """Another profile: its incidents are new news, the old ones are gone."""
        self._gate = NotificationGate(self._clock(), frozenset(self.notifications.transitions))
        self._due.stop()
        self._last_note = None

    def show_message(self, title: str, body: str) -> None:
        """A plain notice from the app itself (settings repaired, already running)."""
        log.info("message: %s — %s", title, body)
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 8000)

    def set_strip_visible(self, visible: bool) -> None:
        self._strip_visible = visible
        self.strip_action.setText("Hide strip" if visible else "Show strip")

    def request_mute(self, seconds: int | None) -> None:
        now = self._clock()
        if seconds == 0:
            self.muted_until = None
        elif seconds is None:
            self.muted_until = datetime.max.replace(tzinfo=now.tzinfo)
        else:
            self.muted_until = now + timedelta(seconds=seconds)
        self.unmute_action.setVisible(self.muted_until is not None)
        self.mute_requested.emit(seconds)
        self._refresh_tooltip(self._feed.state)

    @property
    def muted(self) -> bool:
        return self.muted_until is not None and self._clock() < self.muted_until

    # -- state ----------------------------------------------------------------------------

    def on_feed_changed(self, state: StatusState) -> None:
        overall = formats.overall_status(state)
        badge = services_down(state)
        if overall is not self.overall or badge != self.badge:
            self.overall, self.badge = overall, badge
            self.tray.setIcon(render_tray_icon(self._theme, overall, badge))
        admin = state.role is Role.ADMIN
        for seg in (Segment.SERVICES, Segment.CLOUD_GPU):
            self._open_actions[seg].setVisible(admin)
        for name in ADMIN_WINDOWS:
            self._more_actions[name].setVisible(admin)
        self._refresh_tooltip(state)
        self._refresh_header(state)
        for note in self._gate.feed(state, self._clock()):
            self._notify(note)
        self._schedule()

    def on_due_timeout(self) -> None:
        for note in self._gate.flush(self._clock()):
            self._notify(note)
        self._schedule()

    def _schedule(self) -> None:
        due = self._gate.next_due()
        if due is None:
            self._due.stop()
            return
        # the policy's times are the process's (a sped-up demo's); the timer's are real
        ms = max(0, int(pace.real((due - self._clock()).total_seconds()) * 1000)) + 1
        self._due.start(ms)

    def _refresh_header(self, state: StatusState) -> None:
        """The menu's first lines: state, profile and role (disabled: information), then
        the app's own problems (enabled: a click opens Settings)."""
        lines = formats.menu_header(state, self._clock())
        while len(self.header_actions) < len(lines):
            action = QAction(self.menu)
            action.setEnabled(False)
            self.menu.insertAction(self._first_problem_or_end(), action)
            self.header_actions.append(action)
        while len(self.header_actions) > len(lines):
            action = self.header_actions.pop()
            self.menu.removeAction(action)
            action.deleteLater()
        for action, line in zip(self.header_actions, lines, strict=True):
            action.setText(line)
        problems = state.app_problems
        for key in [k for k in self.problem_actions if k not in problems]:
            action = self.problem_actions.pop(key)
            self.menu.removeAction(action)
            action.deleteLater()
        for key, text in problems.items():
            known = self.problem_actions.get(key)
            if known is None:
                known = QAction(self.menu)
                known.triggered.connect(lambda _c=False, k=key: self.app_problem_clicked.emit(k))
                self.menu.insertAction(self._header_end, known)
                self.problem_actions[key] = known
            known.setText(f"⚠ {text}")

    def _first_problem_or_end(self) -> QAction:
        return next(iter(self.problem_actions.values()), self._header_end)

    def _refresh_tooltip(self, state: StatusState) -> None:
        tip = formats.tray_tooltip(state, self._clock())
        if self.muted_until is not None:
            tip += "\nNotifications muted"
        self.tray.setToolTip(tip)

    def _notify(self, note: Notification) -> None:
        if self.muted:
            log.info("muted: %s", note.title)
            return
        if not wanted(note, self.notifications, self._local_time()):
            self.held.append(note)
            del self.held[:-50]
            log.info("held by notification settings: %s", note.title)
            return
        self.shown.append(note)
        del self.shown[:-50]
        self._last_note = note
        log.info("notify: %s — %s", note.title, note.body)
        if self.notifications.sound:
            QApplication.beep()
        if self.notifier is not None:
            self.notifier(note)
        else:
            self.show_balloon(note)

    def show_balloon(self, note: Notification) -> None:
        """Qt's tray message: the desktop notifier's fallback."""
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            icon = {
                HealthStatus.DOWN: QSystemTrayIcon.MessageIcon.Critical,
                HealthStatus.DEGRADED: QSystemTrayIcon.MessageIcon.Warning,
            }.get(note.severity, QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(note.title, note.body, icon, 8000)

    def on_availability_timeout(self) -> None:
        available = QSystemTrayIcon.isSystemTrayAvailable()
        if available and not self.tray.isVisible():
            log.info("system tray available: showing the icon")
            self.tray.show()
        elif not available and self.tray.isVisible():
            self.tray.hide()

    def on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        """Clicks follow the platform's habit (see :data:`CLICKS`): on macOS any click opens
        the menu (Qt shows it itself); elsewhere a left click or a double click opens the
        main window, a middle click shows or hides the strip, a right click the menu."""
        action = click_action(reason, self._platform)
        if action == "main":
            self.open_requested.emit(main_window(self._feed.state))
        elif action == "strip":
            self.strip_toggle_requested.emit()

    def on_tray_message_clicked(self) -> None:
        """A click on the notice opens the window of what it is about."""
        if self._last_note is not None:
            self.open_requested.emit(self._last_note.segment.value)

    def close(self) -> None:
        self._availability.stop()
        self._due.stop()
        self.tray.hide()
        self.menu.deleteLater()
