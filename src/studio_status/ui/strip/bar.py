"""The status strip: composes the segment widgets, docks, collapses, reorders, flashes.

``bar.py`` only composes (qutebrowser's status bar is the model): each segment renders
itself from the :class:`StatusState` that :class:`~studio_status.ui.feed.StateFeed` hands
over, at most ~40 times a second. The strip emits intents (``open_requested``) and persists
its own preferences through :class:`~studio_status.ui.settings_store.SettingsStore`.
Docking rules and the Wayland decision are in :mod:`.docking`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QSize,
    QSocketNotifier,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QContextMenuEvent,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QScreen,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QVBoxLayout, QWidget

from studio_status.client.state import Segment, StatusState
from studio_status.protocol import HealthStatus, Role, utcnow
from studio_status.ui import formats, probe
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import DEFAULT_ORDER, Edge, SettingsStore, StripSettings
from studio_status.ui.theme import Theme, current_theme

from . import docking
from .cloud import CloudSegment
from .collapsed import CollapsedLine
from .connection import ConnectionSegment
from .jobs import JobsSegment
from .popover import HistoryPopover
from .segment import SegmentWidget
from .services import ServicesSegment
from .workflows import WorkflowsSegment
from .x11 import X11Properties

if TYPE_CHECKING:
    from .appbar import AppBar, AppBarNotice
    from .appbar_events import AppBarEventFilter
    from .hotkey import X11Hotkey

__all__ = ["ADMIN_SEGMENTS", "StatusStrip"]

log = logging.getLogger("ui.strip")

#: Segments only admins see (seed 000: infrastructure is admin only).
ADMIN_SEGMENTS = frozenset({Segment.SERVICES, Segment.CLOUD_GPU})
#: Notices older than this are history (a fresh snapshot's transitions), not a flash.
FLASH_RECENT = timedelta(seconds=60)
#: Height of the collapsed line while hovered (the expand affordance).
HOVER_HEIGHT = 16
#: How often relative times ("3 min ago") are refreshed without new data.
TICK_MS = 15_000


class _Separator(QWidget):
    """A thin vertical divider (``--color-border-subtle``) that stops short of the edges."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setFixedWidth(1)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        inset = self.theme.metrics.separator_inset
        p.fillRect(
            QRectF(0, inset, 1, max(0, self.height() - 2 * inset)), self.theme.color("separator")
        )
        p.end()


class StatusStrip(QWidget):
    """A frameless, always-on-top dock bar along one screen edge.

    Signals:
        open_requested(str): a segment was clicked; its :class:`Segment` value.
        changed(): a preference changed (collapsed, edge, screen, order); already saved.
        first_painted(): the strip was drawn for the first time (the app connects after it).

    Attributes:
        settings: the current :class:`StripSettings`.
        docked: False in floating mode (native Wayland), where the compositor places us.
        reserves_space: whether maximised windows stop short of it (X11, Windows app bar).
        popover: the open history popover, if any.

    ``platform`` overrides Qt's platform name, so the Windows and macOS docking rules run
    (against a model of the shell) in offscreen tests.
    """

    open_requested = Signal(str)
    changed = Signal()
    first_painted = Signal()

    def __init__(
        self,
        feed: StateFeed,
        settings_store: SettingsStore,
        *,
        theme: Theme | None = None,
        clock: Callable[[], datetime] = utcnow,
        hub_label: str | None = None,
        platform: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._feed = feed
        self._store = settings_store
        self._theme = theme or current_theme()
        self._clock = clock
        self.settings: StripSettings = settings_store.load()
        self._state: StatusState = feed.state
        self._last_notice = self._state.last_notice_id
        self._hover_grow = False
        self.painted = False
        self._screen: QScreen | None = None
        self._x11: X11Properties | None = None
        self._x11_failed = False
        self._stuck = False
        self._other_struts: list[list[int]] = []
        self._area: QRect | None = None
        self._drag_origin: QPoint | None = None
        self._dragged = False
        self.popover: HistoryPopover | None = None
        platform = platform or QGuiApplication.platformName()
        self.docked = docking.can_dock(platform)
        self._is_x11 = platform == "xcb"
        self._is_windows = platform == "windows"
        self._is_mac = platform == "cocoa"
        self._appbar: AppBar | None = None
        self._appbar_filter: AppBarEventFilter | None = None
        self._appbar_area: QRect | None = None

        self.setWindowTitle("Studio Status")
        self.setObjectName("statusStrip")
        self.setWindowFlags(
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.Tool
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_X11NetWmWindowTypeDock)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

        # -- children --
        self._content = QWidget(self)
        self.segments: dict[Segment, SegmentWidget] = {
            Segment.SERVICES: ServicesSegment(self._theme, self._content),
            Segment.CLOUD_GPU: CloudSegment(self._theme, self._content),
            Segment.WORKFLOWS: WorkflowsSegment(self._theme, self._content),
            Segment.JOBS: JobsSegment(self._theme, self._content),
        }
        for seg in self.segments.values():
            seg.open_requested.connect(self.on_segment_open_requested)
            seg.history_requested.connect(self.on_segment_history_requested)
            seg.installEventFilter(self)
        self.connection = ConnectionSegment(self._theme, self._content, hub=hub_label)
        self._chevron = QToolButton(self._content)
        self._chevron.setAutoRaise(True)
        self._chevron.setCursor(Qt.CursorShape.PointingHandCursor)
        self._chevron.clicked.connect(self.on_chevron_clicked)
        self._separators: list[_Separator] = []
        self._left = QHBoxLayout()
        self._left.setContentsMargins(0, 0, 0, 0)
        self._left.setSpacing(0)
        row = QHBoxLayout(self._content)
        row.setContentsMargins(4, 0, 2, 0)
        row.setSpacing(0)
        row.addLayout(self._left)
        row.addStretch(1)
        row.addWidget(self.connection)
        row.addWidget(self._chevron)
        self.collapsed_line = CollapsedLine(self._theme, self)
        self.collapsed_line.expand_requested.connect(self.on_collapsed_line_expand_requested)
        self.collapsed_line.hovered.connect(self.on_collapsed_line_hovered)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._content)
        outer.addWidget(self.collapsed_line)
        self._apply_style()

        self.shortcut = QShortcut(QKeySequence(self.settings.shortcut), self)
        self.shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcut.activated.connect(self.on_shortcut_activated)
        # The strip never takes focus, so on X11 the same chord is also grabbed for the
        # whole desktop; Qt never sees a grabbed key, so the toggle cannot fire twice.
        self.global_shortcut: X11Hotkey | None = None
        if QGuiApplication.platformName() == "xcb":
            from .hotkey import X11Hotkey

            self.global_shortcut = X11Hotkey(self)
            self.global_shortcut.activated.connect(self.on_shortcut_activated)
            self.global_shortcut.start(self.settings.shortcut)

        self._redock_timer = QTimer(self)
        self._redock_timer.setSingleShot(True)
        self._redock_timer.setInterval(150)
        self._redock_timer.timeout.connect(self.dock)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self.on_app_screens_changed)
            app.screenRemoved.connect(self.on_app_screens_changed)
            app.primaryScreenChanged.connect(self.on_app_screens_changed)
        self._panels: QSocketNotifier | None = None  # the X server tells of other panels
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.on_tick_timeout)
        self._tick.start()

        feed.changed.connect(self.on_feed_changed)
        self._visible_order: tuple[Segment, ...] = ()
        self._apply_collapsed()
        self._probe = probe.install(self)  # opt-in benchmark hook: STUDIO_STATUS_PAINT_PROBE
        self._render(self._state)

    # -- public ---------------------------------------------------------------------------

    @property
    def collapsed(self) -> bool:
        return self.settings.collapsed

    @property
    def visible_segments(self) -> tuple[Segment, ...]:
        """The segments shown, in order (role filtered)."""
        return self._visible_order

    def set_collapsed(self, collapsed: bool) -> None:
        if collapsed != self.settings.collapsed:
            self._update_settings(collapsed=collapsed)
            self._apply_collapsed()

    def toggle_collapsed(self) -> None:
        self.set_collapsed(not self.settings.collapsed)

    def set_order(self, order: tuple[Segment, ...] | list[Segment]) -> None:
        from studio_status.ui.settings_store import normalize_order

        normalized = normalize_order([s.value for s in order])
        if normalized != self.settings.order:
            self._update_settings(order=normalized)
            self._relayout(force=True)

    def set_edge(self, edge: Edge) -> None:
        if edge is not self.settings.edge:
            self._update_settings(edge=edge)
            self._apply_collapsed()

    def set_screen(self, name: str | None) -> None:
        if name != self.settings.screen:
            self._update_settings(screen=name)
            self.dock()

    def set_shortcut(self, sequence: str) -> None:
        self.shortcut.setKey(QKeySequence(sequence))
        if self.global_shortcut is not None:
            self.global_shortcut.start(sequence)
        self._update_settings(shortcut=sequence)

    def set_theme(self, theme: Theme) -> None:
        """Repaint everything in ``theme`` at once (Settings → Theme)."""
        self._theme = theme
        for seg in (*self.segments.values(), self.connection):
            seg.set_theme(theme)
        self.collapsed_line.set_theme(theme)
        for sep in self._separators:
            sep.theme = theme
            sep.update()
        self._apply_style()
        self.update()

    @property
    def theme(self) -> Theme:
        return self._theme

    def current_screen(self) -> QScreen | None:
        return self._screen

    # -- state ----------------------------------------------------------------------------

    def on_feed_changed(self, state: StatusState) -> None:
        self._render(state)

    def _render(self, state: StatusState) -> None:
        self._state = state
        now = self._clock()
        self._relayout()
        for seg in self.segments.values():
            if seg.segment in self._visible_order:
                seg.update_state(state, now)
        self.connection.update_state(state, now)
        self.collapsed_line.set_overall(formats.overall_status(state), formats.overall_text(state))
        self._check_flash(state, now)
        if self._probe is not None:
            self._probe.rendered()

    def _check_flash(self, state: StatusState, now: datetime) -> None:
        """Flash the services segment on a fresh healthy → degraded/down transition."""
        new = [n for n in state.history.get(Segment.SERVICES, ()) if n.id > self._last_notice]
        self._last_notice = max(self._last_notice, state.last_notice_id)
        bad = [
            n
            for n in new
            if n.severity in (HealthStatus.DEGRADED, HealthStatus.DOWN)
            and n.previous is HealthStatus.HEALTHY
            and now - n.at <= FLASH_RECENT
        ]
        if bad and Segment.SERVICES in self._visible_order:
            worst = (
                HealthStatus.DOWN
                if any(n.severity is HealthStatus.DOWN for n in bad)
                else (HealthStatus.DEGRADED)
            )
            self.segments[Segment.SERVICES].flash(worst)

    def on_tick_timeout(self) -> None:
        self._render(self._feed.state)

    def _allowed(self, role: Role | None) -> set[Segment]:
        """Every segment for admins; the others for other roles. While the role is not
        known yet (a first start, no cache) every place is kept with a placeholder, so the
        strip does not jump when an admin's data arrives (the app's own hub is admin; any
        later start knows the role from the cache at once)."""
        allowed = set(Segment)
        if role is not None and role is not Role.ADMIN:
            allowed -= ADMIN_SEGMENTS
        return allowed

    def _relayout(self, *, force: bool = False) -> None:
        allowed = self._allowed(self._state.role)
        order = tuple(s for s in self.settings.order if s in allowed)
        if order == self._visible_order and not force:
            return
        self._visible_order = order
        while self._left.count():
            self._left.takeAt(0)
        for sep in self._separators:
            sep.deleteLater()
        self._separators = []
        for seg in self.segments.values():
            seg.setVisible(seg.segment in order)
        for i, name in enumerate(order):
            if i:
                sep = _Separator(self._theme, self._content)
                self._separators.append(sep)
                self._left.addWidget(sep)
            self._left.addWidget(self.segments[name])
        now = self._clock()
        for name in order:
            self.segments[name].update_state(self._state, now)

    # -- collapse -------------------------------------------------------------------------

    def _apply_collapsed(self) -> None:
        collapsed = self.settings.collapsed
        self._hover_grow = False
        self._content.setVisible(not collapsed)
        self.collapsed_line.setVisible(collapsed)
        self.collapsed_line.shortcut = self.settings.shortcut
        self._chevron.setText("▴" if self.settings.edge is Edge.BOTTOM else "▾")
        self._chevron.setToolTip(f"Collapse the strip ({self.settings.shortcut})")
        self.dock()

    def on_chevron_clicked(self) -> None:
        self.set_collapsed(True)

    def on_collapsed_line_expand_requested(self) -> None:
        self.set_collapsed(False)

    def on_collapsed_line_hovered(self, hovered: bool) -> None:
        if self.settings.collapsed and hovered != self._hover_grow:
            self._hover_grow = hovered
            self.dock(struts=False)

    def on_shortcut_activated(self) -> None:
        self.toggle_collapsed()

    # -- docking --------------------------------------------------------------------------

    def strip_height(self) -> int:
        """Height reserved on the screen (the hover handle is not reserved)."""
        m = self._theme.metrics
        return m.collapsed_height if self.settings.collapsed else m.strip_height

    def dock(self, struts: bool = True) -> None:
        """Place the strip on its screen and edge; reserve the space (X11, Windows)."""
        screens = QGuiApplication.screens()
        if not screens:
            return
        screen = docking.pick_screen(screens, QGuiApplication.primaryScreen(), self.settings.screen)
        self._track_screen(screen)
        height = HOVER_HEIGHT if self._hover_grow else self.strip_height()
        self._area = self._dock_area(screen, struts)
        rect = docking.dock_rect(self._area, self.settings.edge, height)
        self.setFixedHeight(height)
        if self.docked:
            self.setGeometry(rect)
        else:
            self.resize(rect.size())
        if struts:
            self._apply_x11(screen)

    @property
    def reserves_space(self) -> bool:
        """Whether maximised windows stop short of the strip (X11 strut, Windows app bar)."""
        if self._is_windows:
            return self._appbar is not None and self._appbar.granted is not None
        return self._is_x11 and self.docked

    def _dock_area(self, screen: QScreen, reserve: bool) -> QRect:
        """The part of ``screen`` whose edge the strip hugs (see :mod:`.docking`)."""
        if self._is_windows and self.docked:
            if reserve and self.isVisible():
                self._appbar_area = self._place_appbar(screen)
            if self._appbar_area is not None:
                return self._appbar_area
            return screen.availableGeometry()  # not an app bar: at least not under the taskbar
        if self._is_mac:
            return screen.availableGeometry()  # below the menu bar, above the Dock
        if self._is_x11 and self.docked:
            return self._x11_area(screen)
        return screen.geometry()

    def _x11_area(self, screen: QScreen) -> QRect:
        """The screen less other windows' struts (a panel at our edge, a side dock): our own
        strut shrinks availableGeometry(), so docking to that would walk inwards."""
        geom = screen.geometry()
        x11 = self._x11_connection()
        if x11 is None:
            return geom
        self._other_struts = self._read_struts(x11)
        dpr = screen.devicePixelRatio()
        native = docking.native_rect(geom, geom, dpr)
        root = QRect(QPoint(0, 0), QSize(*x11.root_size()))
        area = docking.work_area(native, self._other_struts, root)
        return docking.logical_rect(area, geom, dpr)

    def _x11_connection(self) -> X11Properties | None:
        if self._x11 is None and not self._x11_failed:
            self._x11 = X11Properties.open()
            self._x11_failed = self._x11 is None
        return self._x11

    def _watch_panels(self, x11: X11Properties) -> None:
        if self._panels is None:
            self._panels = QSocketNotifier(x11.fileno(), QSocketNotifier.Type.Read, self)
            self._panels.activated.connect(self.on_panels_activated)

    def on_panels_activated(self) -> None:
        """Re-dock when another panel appears, goes or changes what it reserves (a bare X
        server or a window manager that does not update the work area tells us nothing
        else). The X server says so on our own connection: nothing wakes at idle."""
        if self._x11 is not None and self._x11.panels_changed():
            self._recheck_panels()

    def _recheck_panels(self) -> None:
        if self._x11 is None or not self.isVisible():
            return
        if self._read_struts(self._x11) != self._other_struts:
            self.dock()

    def _read_struts(self, x11: X11Properties) -> list[list[int]]:
        struts = x11.other_struts(int(self.winId()))
        if x11.panels_changed():  # heard while reading (queued, not on the socket): again
            QTimer.singleShot(0, self, self._recheck_panels)
        return struts

    def open_appbar(self, hwnd: int) -> AppBar | None:
        """The shell's app bar for our window (replaced in tests by a model of the shell)."""
        from .appbar import AppBar

        return AppBar.open(hwnd)

    def _place_appbar(self, screen: QScreen) -> QRect | None:
        if self._appbar is None:
            self._appbar = self.open_appbar(int(self.winId()))
            if self._appbar is None:
                return None
            from .appbar_events import AppBarEventFilter

            self._appbar_filter = AppBarEventFilter(self._appbar, self.on_appbar_notice)
            app = QGuiApplication.instance()
            if app is not None:
                app.installNativeEventFilter(self._appbar_filter)
        from .appbar import NativeRect

        geom = screen.geometry()
        dpr = screen.devicePixelRatio()
        native = docking.native_rect(geom, geom, dpr)
        monitor = NativeRect(
            native.x(), native.y(), native.x() + native.width(), native.y() + native.height()
        )
        granted = self._appbar.place(self.settings.edge, monitor, round(self.strip_height() * dpr))
        if granted is None:
            return None
        got = QRect(granted.left, granted.top, granted.width, granted.height)
        log.debug("app bar %s on %s", granted, screen.name())
        return docking.edge_area(geom, self.settings.edge, docking.logical_rect(got, geom, dpr))

    def on_appbar_notice(self, notice: AppBarNotice) -> None:
        from .appbar import AppBarNotice

        if notice is AppBarNotice.REPOSITION:
            self._redock_timer.start()

    def _drop_appbar(self) -> None:
        """Give the space back (hidden or closed); the next show registers again."""
        if self._appbar is not None:
            self._appbar.remove()
        self._appbar_area = None

    def _track_screen(self, screen: QScreen) -> None:
        if screen is self._screen:
            return
        if self._screen is not None:
            for signal in (
                self._screen.geometryChanged,
                self._screen.logicalDotsPerInchChanged,
                self._screen.physicalDotsPerInchChanged,
                self._screen.availableGeometryChanged,
            ):
                with contextlib.suppress(RuntimeError, TypeError):  # the screen is gone
                    signal.disconnect(self.on_screen_changed)
        self._screen = screen
        screen.geometryChanged.connect(self.on_screen_changed)
        screen.logicalDotsPerInchChanged.connect(self.on_screen_changed)
        screen.physicalDotsPerInchChanged.connect(self.on_screen_changed)
        screen.availableGeometryChanged.connect(self.on_screen_changed)
        if self.windowHandle() is not None:
            self.windowHandle().setScreen(screen)

    def on_screen_changed(self, *_args: object) -> None:
        self._redock_timer.start()

    def on_app_screens_changed(self, *_args: object) -> None:
        if self._screen is not None and self._screen not in QGuiApplication.screens():
            self._screen = None
        self._redock_timer.start()

    def strut_values(self) -> list[int] | None:
        """The ``_NET_WM_STRUT_PARTIAL`` we reserve, or None off X11 / in floating mode."""
        screen = self._screen
        if not (self._is_x11 and self.docked and screen is not None):
            return None
        geom = screen.geometry()
        dpr = screen.devicePixelRatio()
        area = self._area if self._area is not None else geom
        rect = docking.dock_rect(area, self.settings.edge, self.strip_height())
        if self._x11 is not None:
            root = QRect(QPoint(0, 0), QSize(*self._x11.root_size()))
        else:
            root = QRect()
            for s in QGuiApplication.screens():
                root = root.united(
                    docking.native_rect(s.geometry(), s.geometry(), s.devicePixelRatio())
                )
        # at a fractional scale, logical → native rounding can overshoot the root by a pixel
        native = docking.native_rect(rect, geom, dpr).intersected(root)
        return docking.strut_partial(self.settings.edge, native, root.bottom() + 1)

    def _apply_x11(self, screen: QScreen) -> None:
        if not (self._is_x11 and self.docked and self.isVisible()):
            return
        if not self._stuck:
            x11 = self._x11_connection()
            if x11 is None:
                return
            x11.stick(int(self.winId()))
            self._stuck = True
            self._watch_panels(x11)
        if self._x11 is None:
            return
        values = self.strut_values()
        if values is None:
            return
        self._x11.set_struts(int(self.winId()), values)
        log.debug("strut %s on %s", values, screen.name())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.dock()

    def hideEvent(self, event: QHideEvent) -> None:
        # a hidden app bar would still hold its strip of the screen (an unmapped X11
        # window's strut is ignored by the window manager on its own)
        self._drop_appbar()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._drop_appbar()
        if self._appbar_filter is not None:
            app = QGuiApplication.instance()
            if app is not None:
                app.removeNativeEventFilter(self._appbar_filter)
            self._appbar_filter = None
        if self.global_shortcut is not None:
            self.global_shortcut.close()
            self.global_shortcut = None
        if self._panels is not None:
            self._panels.setEnabled(False)
            self._panels.deleteLater()
            self._panels = None
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None
            self._stuck = False
        super().closeEvent(event)

    # -- segments: click, history, drag to reorder ----------------------------------------

    def on_segment_open_requested(self, name: str) -> None:
        if self._dragged:
            return
        self.open_requested.emit(name)

    def on_segment_history_requested(self, name: str) -> None:
        self.show_history(Segment(name))

    def show_history(self, segment: Segment) -> HistoryPopover:
        if self.popover is not None:
            self.popover.close()
        self.popover = HistoryPopover(segment, self._feed.state, self._theme, self)
        self.popover.destroyed.connect(self.on_popover_destroyed)
        self.popover.show_near(self.segments[segment], above=self.settings.edge is Edge.BOTTOM)
        return self.popover

    def on_popover_destroyed(self, *_args: object) -> None:
        self.popover = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Drag a segment sideways to reorder (seed 000, 2.3), without a nested drag loop."""
        if not isinstance(watched, SegmentWidget) or not isinstance(event, QMouseEvent):
            return super().eventFilter(watched, event)
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() is Qt.MouseButton.LeftButton:
            self._drag_origin = event.globalPosition().toPoint()
            self._dragged = False
        elif kind == QEvent.Type.MouseMove and self._drag_origin is not None:
            pos = event.globalPosition().toPoint()
            if abs(pos.x() - self._drag_origin.x()) > 12:
                self._dragged = True
                self._drag_to(watched.segment, self._content.mapFromGlobal(pos).x())
        elif kind == QEvent.Type.MouseButtonRelease:
            self._drag_origin = None
            if self._dragged:
                QTimer.singleShot(0, self._end_drag)
        return super().eventFilter(watched, event)

    def _end_drag(self) -> None:
        self._dragged = False

    def _drag_to(self, segment: Segment, x: int) -> None:
        order = [s for s in self._visible_order if s is not segment]
        index = sum(1 for s in order if self.segments[s].geometry().center().x() < x)
        order.insert(index, segment)
        if tuple(order) != self._visible_order:
            hidden = [s for s in self.settings.order if s not in order]
            self.set_order([*order, *hidden])

    # -- background menu ------------------------------------------------------------------

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for edge in Edge:
            action = menu.addAction(f"Dock to {edge.value}")
            action.setCheckable(True)
            action.setChecked(edge is self.settings.edge)
            action.triggered.connect(lambda _c=False, e=edge: self.set_edge(e))
        screens = menu.addMenu("Screen")
        current = self._screen.name() if self._screen else None
        for screen in QGuiApplication.screens():
            name = screen.name()
            action = screens.addAction(name or "(unnamed)")
            action.setCheckable(True)
            action.setChecked(name == current)
            action.triggered.connect(lambda _c=False, n=name: self.set_screen(n))
        menu.addSeparator()
        menu.addAction("Reset segment order", lambda: self.set_order(DEFAULT_ORDER))
        menu.addAction(f"Collapse\t{self.settings.shortcut}", lambda: self.set_collapsed(True))
        menu.popup(event.globalPos())  # not exec(): no nested loop under qasync

    # -- look -----------------------------------------------------------------------------

    def _apply_style(self) -> None:
        t = self._theme
        self._chevron.setStyleSheet(
            f"QToolButton {{ color: {t.text_dim}; border: none; font-size: {t.metrics.font_px}px;"
            f" padding: 0 6px; }} QToolButton:hover {{ background: {t.surface_hover};"
            f" color: {t.text}; }}"
        )
        self._chevron.setFixedWidth(t.metrics.chevron_width)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.painted:
            self.painted = True
            self.first_painted.emit()
        p = QPainter(self)
        rect = QRectF(self.rect())
        p.fillRect(rect, self._theme.color("surface"))
        if not self.settings.collapsed:
            # the border faces the content: above a bottom strip, below a top strip
            y = 0.0 if self.settings.edge is Edge.BOTTOM else rect.height() - 1
            p.fillRect(QRectF(0, y, rect.width(), 1), self._theme.color("border"))
        p.end()

    def sizeHint(self) -> QSize:
        return QSize(800, self.strip_height())

    # -- persistence ----------------------------------------------------------------------

    def _update_settings(self, **changes: object) -> None:
        self.settings = replace(self.settings, **changes)  # type: ignore[arg-type]
        self._store.save(self.settings)
        self.changed.emit()
