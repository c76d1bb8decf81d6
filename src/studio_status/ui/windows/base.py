"""What every detail window shares: reading the store, intents, honest states, geometry.

A window is thin: :meth:`DetailWindow.show_state` turns the latest
:class:`~studio_status.client.state.StatusState` into widgets, nothing else. What it needs
beyond the live state it names in :meth:`resources` (detail keys, fetched by
:class:`~studio_status.client.details.Details` while the window is open) and
:meth:`topics` (detail topics, subscribed while it is open, seed 003). Opening another
window is an intent too: :attr:`open_requested`, routed by the opener.

Every window: Esc / Ctrl+W close it, F5 refreshes, geometry is remembered per kind, the
palette follows the theme (light / dark), and the connection banner says when what is
shown is not live.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import ClassVar, TypeVar

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.state import ConnectionState, DetailEntry, StatusState
from studio_status.protocol import Role
from studio_status.ui import formats
from studio_status.ui.theme import Theme
from studio_status.ui.widgets import Banner, StatePane
from studio_status.ui.workarea import available_geometry, fit_rect

from .context import WindowContext
from .texts import plain_error
from .weblink import web_link

T = TypeVar("T")

__all__ = ["DetailWindow", "WindowContext", "apply_palette", "entry_problem"]

#: Opacity of a window's data while it is not live (cached, or the link is down).
STALE_OPACITY = 0.45

log = logging.getLogger("ui.windows")

_WINDOW_BG = {"light": "#ffffff", "dark": "#16191e"}


def apply_palette(widget: QWidget, theme: Theme) -> None:
    """Window, text, base and button colours from the theme, so dark means dark everywhere."""
    pal = QPalette(widget.palette())
    bg = QColor(_WINDOW_BG.get(theme.name, "#ffffff"))
    roles = {
        QPalette.ColorRole.Window: bg,
        QPalette.ColorRole.Base: bg,
        QPalette.ColorRole.AlternateBase: QColor(theme.surface),
        QPalette.ColorRole.WindowText: QColor(theme.text),
        QPalette.ColorRole.Text: QColor(theme.text),
        QPalette.ColorRole.Button: QColor(theme.surface),
        QPalette.ColorRole.ButtonText: QColor(theme.text),
        QPalette.ColorRole.PlaceholderText: QColor(theme.text_dim),
        QPalette.ColorRole.Highlight: QColor(theme.processing),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.ToolTipBase: QColor(theme.surface),
        QPalette.ColorRole.ToolTipText: QColor(theme.text),
        QPalette.ColorRole.Mid: QColor(theme.border),
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.text_dim))
    pal.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.text_dim)
    )
    widget.setPalette(pal)


def entry_problem(entry: DetailEntry, what: str, role: Role | None = None) -> str | None:
    """The sentence an error page shows for a failed fetch, or None when there is none
    (plain words, :func:`~.texts.plain_error`: no HTTP codes or API paths)."""
    if entry.error is None:
        return None
    return plain_error(entry.error, what, role, missing=entry.missing)


class DetailWindow(QWidget):
    """Base of every detail window.

    Signals:
        open_requested(str): open another window (``service:comfyui``, ``uptime`` ...).

    Attributes:
        key: the opener's name for this window (``services``, ``service:comfyui``).
        kind: the window kind (geometry is remembered per kind).
        banner: the connection / staleness banner.
        renders: how many times :meth:`show_state` ran (tests count repaints).
    """

    open_requested = Signal(str)

    kind: ClassVar[str] = "window"
    title: ClassVar[str] = "Studio Status"
    default_size: ClassVar[tuple[int, int]] = (760, 520)
    #: Shown only to admins (infrastructure data, seed 000 role visibility).
    admin_only: ClassVar[bool] = False

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ctx = ctx
        self.theme = ctx.theme
        self.key = key or self.kind
        self.renders = 0
        #: True while the data shown is not live (drawn greyed, see :meth:`_dim_stale`)
        self.dimmed = False
        #: the scrolling content a window at its default size shrinks to (None: keep size)
        self.trim: QScrollArea | None = None
        self._trimmed = False
        self._remembered = False
        self._watching: list[str] = []
        self._holding: list[str] = []
        self._started = False
        apply_palette(self, self.theme)
        self.setWindowTitle(f"{self.title} — Studio Status")
        self.setAccessibleName(self.title)

        self.root = QVBoxLayout(self)
        # the minimum is set by fit_to_screen: the content's, but never past the screen
        self.root.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.root.setContentsMargins(14, 12, 14, 12)
        self.root.setSpacing(8)
        head = QHBoxLayout()
        self.heading = QLabel(self.title)
        self.heading.setAccessibleName(self.title)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.heading.setFont(font)
        head.addWidget(self.heading)
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet(f"color: {self.theme.text_dim};")
        head.addWidget(self.subtitle, 1, Qt.AlignmentFlag.AlignBottom)
        self.header_actions = QHBoxLayout()
        self.header_actions.setSpacing(6)
        head.addLayout(self.header_actions)
        self.web_link = web_link(ctx.web_url, self.kind)
        if self.web_link is not None:
            browse = QPushButton("Open in browser")
            browse.setAccessibleName(f"Open {self.title} in the platform's web UI")
            browse.setToolTip(self.web_link)
            browse.clicked.connect(self.on_browse_clicked)
            head.addWidget(browse)
        self.root.addLayout(head)
        self.banner = Banner(theme=self.theme)
        self.banner.retry_requested.connect(self.on_banner_retry_requested)
        self.root.addWidget(self.banner)

        for seq, slot in (
            (QKeySequence(Qt.Key.Key_Escape), self.close),
            (QKeySequence.StandardKey.Close, self.close),
            (QKeySequence.StandardKey.Refresh, self.refresh),
        ):
            shortcut = QShortcut(seq, self)
            shortcut.activated.connect(slot)
        ctx.feed.changed.connect(self.on_feed_changed)
        self._restore_geometry()

    def on_browse_clicked(self) -> None:
        if self.web_link is not None:
            QDesktopServices.openUrl(QUrl(self.web_link))

    # -- for subclasses -----------------------------------------------------------------

    def resources(self) -> Sequence[str]:
        """Detail keys this window shows while open."""
        return ()

    def topics(self) -> Sequence[str]:
        """Detail topics this window holds while open (seed 003)."""
        return ()

    def show_state(self, state: StatusState) -> None:
        """Show ``state``; called on open and on every coalesced change while visible."""

    def add_action(
        self, text: str, slot: Callable[[], None], name: str | None = None
    ) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name or text)
        button.clicked.connect(slot)
        self.header_actions.addWidget(button)
        return button

    def add_choices(
        self,
        choices: Sequence[tuple[str, T]],
        current: T,
        slot: Callable[[T], None],
        name: Callable[[str], str],
    ) -> dict[T, QPushButton]:
        """Exclusive header buttons (e.g. a period); the one for ``current`` starts checked."""
        group = QButtonGroup(self)
        group.setExclusive(True)
        buttons: dict[T, QPushButton] = {}
        for text, value in choices:
            button = self.add_action(text, partial(slot, value), name(text))
            button.setCheckable(True)
            button.setChecked(value == current)
            group.addButton(button)
            buttons[value] = button
        return buttons

    def add_link(self, target: str) -> QPushButton:
        """A header button opening another window (routed by the opener), by its one name."""
        text = formats.WINDOW_TITLES[target]
        return self.add_action(text, lambda: self.open_requested.emit(target), f"Open {text}")

    def entry(self, key: str) -> DetailEntry:
        return self.ctx.feed.state.details.get(key) or DetailEntry()

    def show_entry(self, pane: StatePane, key: str, what: str) -> DetailEntry | None:
        """Put ``pane`` in the loading / error state for ``key``; the entry when it has a
        value to show (then the caller fills the content and calls ``show_content``)."""
        entry = self.entry(key)
        if self.ctx.details is None:
            pane.show_error(f"{what.capitalize()} needs a connection to the hub.", retry=False)
            return None
        if entry.value is None:
            problem = entry_problem(entry, what, self.ctx.feed.state.role)
            if problem is not None:
                pane.show_error(problem, retry=not entry.missing)
            else:
                pane.show_loading(f"Loading {what}…")
            return None
        return entry

    @property
    def is_admin(self) -> bool:
        return self.ctx.feed.state.role is Role.ADMIN

    def now(self) -> datetime:
        return self.ctx.clock()

    # -- intents --------------------------------------------------------------------------

    def refresh(self) -> None:
        """F5 / Retry: refetch what this window shows, or reconnect a live-only window."""
        details = self.ctx.details
        if details is not None and self._watching:
            for key in self._watching:
                details.refresh(key)
        elif self.ctx.reconnect is not None:
            self.ctx.reconnect()

    def on_banner_retry_requested(self) -> None:
        if self.ctx.reconnect is not None:
            self.ctx.reconnect()
        self.refresh()

    def on_pane_retry_requested(self) -> None:
        self.refresh()

    # -- life -----------------------------------------------------------------------------

    def on_feed_changed(self, state: StatusState) -> None:
        if self.isVisible():
            self._render(state)

    def _render(self, state: StatusState) -> None:
        self.renders += 1
        self._update_banner(state)
        self.show_state(state)
        if self.trim is not None and not self._trimmed and self.isVisible():
            self._trim_empty_space()

    def _trim_empty_space(self) -> None:
        """A window opened at its default size shrinks to its content the first time it
        has some (three service cards do not sit above a half-empty panel); a size the
        user chose (remembered) is kept."""
        scroll = self.trim
        pane = getattr(self, "pane", None)
        if scroll is None or (pane is not None and pane.state.value != "content"):
            return
        self._trimmed = True
        if not self._remembered:
            QTimer.singleShot(0, self._apply_trim)  # once the layout has its final width

    def _apply_trim(self) -> None:
        scroll = self.trim
        inner = scroll.widget() if scroll is not None else None
        if scroll is None or inner is None:
            return
        extra = scroll.viewport().height() - inner.minimumSizeHint().height()
        if extra > 24:
            self.resize(self.width(), max(self.minimumHeight(), self.height() - extra + 8))

    def _update_banner(self, state: StatusState) -> None:
        now = self.now()
        link = formats.link_banner(state, now)
        if link is not None:
            needs_user = state.problem is not None and state.problem.needs_user
            self.banner.say(
                link, severity="down", retry=self.ctx.reconnect is not None and not needs_user
            )
        elif state.stale and state.updated_at is not None:
            cached = " (saved from an earlier run)" if state.cached else ""
            self.banner.say(
                f"Not live — last update {formats.ago(state.updated_at, now)}{cached}.",
                severity="degraded",
                retry=self.ctx.reconnect is not None,
            )
        elif state.stale and state.connection is ConnectionState.CONNECTING:
            self.banner.say("Connecting to the hub…", severity="unknown")
        elif state.simulated:
            self.banner.say(
                "Simulated studio — this data comes from the demo simulator, not a platform.",
                severity="unknown",
            )
        else:
            self.banner.say("")
        self._dim_stale(state.stale and state.footer is not None)

    def _dim_stale(self, stale: bool) -> None:
        """Data that is not live is drawn greyed, every card of it: a stale "healthy" must
        never look like a live one (the banner says how old it is)."""
        for widget in self._content_widgets():
            faded = isinstance(widget.graphicsEffect(), QGraphicsOpacityEffect)
            if stale and not faded:
                fade = QGraphicsOpacityEffect(widget)
                fade.setOpacity(STALE_OPACITY)
                widget.setGraphicsEffect(fade)
            elif not stale and faded:
                widget.setGraphicsEffect(None)  # type: ignore[arg-type]
        self.dimmed = stale

    def _content_widgets(self) -> list[QWidget]:
        """The widgets below the banner: what the window shows of the hub's data."""
        out: list[QWidget] = []
        start = self.root.indexOf(self.banner) + 1
        items = [self.root.itemAt(i) for i in range(start, self.root.count())]
        while items:
            item = items.pop()
            if item is None:
                continue
            widget, layout = item.widget(), item.layout()
            if widget is not None:
                out.append(widget)
            elif layout is not None:
                items.extend(layout.itemAt(i) for i in range(layout.count()))
        return out

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        first = not self._started
        if first:
            self._started = True
            self._start()
        self._render(self.ctx.feed.state)
        if first:
            self.fit_to_screen()

    def _start(self) -> None:
        details = self.ctx.details
        if details is None:
            return
        role = self.ctx.feed.state.role
        if self.admin_only and role is not None and role is not Role.ADMIN:
            return  # nothing to fetch: the hub would refuse, the window says why
        self._watching = list(self.resources())
        self._holding = list(self.topics())
        for key in self._watching:
            details.watch(key)
        if self._holding:
            log.info("%s: holding topics %s", self.key, ", ".join(self._holding))
            details.hold_topics(self._holding)

    def rewatch(self) -> None:
        """The resources changed (a filter, a period): swap what is watched."""
        details = self.ctx.details
        if details is None or not self._started:
            return
        wanted = list(self.resources())
        for key in self._watching:
            if key not in wanted:
                details.unwatch(key)
        for key in wanted:
            if key not in self._watching:
                details.watch(key)
        self._watching = wanted
        self._render(self.ctx.feed.state)

    def _stop(self) -> None:
        details = self.ctx.details
        if details is not None:
            for key in self._watching:
                details.unwatch(key)
            if self._holding:
                log.info("%s: releasing topics %s", self.key, ", ".join(self._holding))
                details.release_topics(self._holding)
        self._watching, self._holding = [], []

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ctx.geometry.save(self.kind, self.saveGeometry())
        if self._started:
            self._started = False
            self._stop()
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            self.ctx.feed.changed.disconnect(self.on_feed_changed)
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        saved = self.ctx.geometry.load(self.kind)
        self._remembered = saved is not None and self.restoreGeometry(saved)
        if not self._remembered:
            self.resize(*self.default_size)
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is not None:  # centred on its screen's free area
                area = available_geometry(screen)
                self.move(area.center() - self.rect().center())
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Shrink and move the window into its screen's free area, at any scale: a default
        size or a remembered place that does not fit is made to fit (never under the strip)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = available_geometry(screen)
        frame = self.frameGeometry().size() - self.geometry().size()
        fitted = fit_rect(self.geometry(), area, frame if frame.isValid() else None)
        # the layout's minimum must not hold the window bigger than the screen
        least = self.root.totalMinimumSize()
        self.setMinimumSize(
            min(least.width(), area.width() - max(0, frame.width())),
            min(least.height(), area.height() - max(0, frame.height())),
        )
        if fitted != self.geometry():
            self.setGeometry(fitted)
