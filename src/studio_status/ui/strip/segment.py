"""The base of every strip segment: a row of painted runs, clickable, with hover and flash.

A segment turns a :class:`StatusState` into a list of :class:`Run` (text, a 14 px glyph, a
status shape, a mini progress bar) and paints them; its :meth:`text` is the exact seed
format (also its accessible name), so tests and screen readers read what is painted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from functools import cache

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QEnterEvent,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio_status.client.state import Segment, StatusState
from studio_status.protocol import (
    CloudGpuSummary,
    FooterData,
    FooterService,
    HealthStatus,
    JobsSummary,
    Role,
    WorkflowsSummary,
    utcnow,
)
from studio_status.ui.theme import Theme

__all__ = ["Run", "RunKind", "SegmentWidget", "paint_status_shape"]


class RunKind(Enum):
    TEXT = "text"  # 11 px text
    GLYPH = "glyph"  # a 14 px icon character (☁ ⚡ ⟳)
    STATUS = "status"  # a status shape: ● ▲ ■ ?
    BAR = "bar"  # the jobs segment's ~60 px mini progress bar (value None: indeterminate)


@dataclass(frozen=True)
class Run:
    kind: RunKind
    text: str = ""
    color: str | None = None  # a theme attribute name; None: the text colour
    status: HealthStatus = HealthStatus.UNKNOWN
    value: int | None = None
    gap_after: int = 0
    #: the window a click on this run opens (``service:comfyui``); None: the segment's own
    target: str | None = None


@cache
def typical_state() -> StatusState:
    """Seed 000's example footer (``● ComfyUI  ● DB  ● Workers 3/4`` …): what a segment
    usually shows, the width it reserves."""
    footer = FooterData(
        services={
            "comfyui": FooterService(label="ComfyUI"),
            "database": FooterService(label="DB"),
            "workers": FooterService(label="Workers", online=3, total=4),
        },
        cloud_gpu=CloudGpuSummary(active_pods=2, cost_per_hour_cents=124),
        jobs=JobsSummary(running=3, queued=5, overall_progress=72),
        workflows=WorkflowsSummary(active=2, current_stage="generating"),
    )
    return StatusState(role=Role.ADMIN, footer=footer)


def paint_status_shape(
    p: QPainter, center: QPointF, size: float, status: HealthStatus, color: QColor
) -> None:
    """Draw ● ▲ ■ or ? so the state reads without colour."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    r = size / 2
    if status is HealthStatus.HEALTHY:
        p.drawEllipse(center, r * 0.8, r * 0.8)
    elif status is HealthStatus.DEGRADED:
        path = QPainterPath()
        path.moveTo(center.x(), center.y() - r)
        path.lineTo(center.x() + r, center.y() + r * 0.8)
        path.lineTo(center.x() - r, center.y() + r * 0.8)
        path.closeSubpath()
        p.drawPath(path)
    elif status is HealthStatus.DOWN:
        s = r * 0.8
        p.drawRect(QRectF(center.x() - s, center.y() - s, 2 * s, 2 * s))
    else:
        font = QFont(p.font())
        font.setPixelSize(max(6, round(size * 1.1)))
        font.setBold(True)
        p.setFont(font)
        p.setPen(color)
        p.drawText(
            QRectF(center.x() - r * 1.5, center.y() - r * 1.5, r * 3, r * 3),
            Qt.AlignmentFlag.AlignCenter,
            "?",
        )
    p.restore()


class SegmentWidget(QWidget):
    """One clickable segment of the strip.

    Signals:
        open_requested(str): left click; the window under the pointer: a run's own target
            (one service), else the segment's name (a :class:`Segment` value).
        history_requested(str): right click; the bar shows the last-5 popover.

    Attributes:
        segment: which segment this is.
        paints: how many times it painted (tests count repaints).
    """

    open_requested = Signal(str)
    history_requested = Signal(str)

    segment: Segment

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._runs: list[Run] = []
        self._text = ""
        self._dim = False
        self._hover = False
        self._flash: QColor | None = None
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self.on_flash_timer_timeout)
        self.paints = 0
        self._reserve: int | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # full size when there is room; on a narrow screen it shrinks (texts elided, the
        # tooltip and accessible name keep them whole) instead of pushing the strip wider
        # than its screen
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self._apply_fonts()

    # -- to implement ---------------------------------------------------------------------

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        """Return ``(text, runs, tooltip)`` for ``state``."""
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------------

    def text(self) -> str:
        """The seed-format text currently shown."""
        return self._text

    def runs(self) -> list[Run]:
        return list(self._runs)

    @property
    def flashing(self) -> bool:
        return self._flash is not None

    def update_state(self, state: StatusState, now: datetime) -> None:
        text, runs, tooltip = self.build(state, now)
        dim = state.stale or state.footer is None
        if runs == self._runs and text == self._text and dim == self._dim:
            if tooltip != self.toolTip():
                self.setToolTip(tooltip)
            return
        resized = runs != self._runs
        self._text, self._runs, self._dim = text, runs, dim
        self.setToolTip(tooltip)
        self.setAccessibleName(text)
        if resized:
            self.updateGeometry()
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._reserve = None
        self._apply_fonts()
        self.updateGeometry()
        self.update()

    def flash(self, status: HealthStatus) -> None:
        """A brief (200 ms) background pulse; it does not persist (seed 000, 2.1)."""
        self._flash = self._theme.flash_color(status)
        self._flash_timer.start(self._theme.metrics.flash_ms)
        self.update()

    def on_flash_timer_timeout(self) -> None:
        self._flash = None
        self.update()

    # -- geometry -------------------------------------------------------------------------

    def _apply_fonts(self) -> None:
        m = self._theme.metrics
        self._font = QFont(self.font())
        self._font.setPixelSize(m.font_px)
        self._glyph_font = QFont(self.font())
        self._glyph_font.setPixelSize(m.icon_px)
        self._fm = QFontMetrics(self._font)
        self._gfm = QFontMetrics(self._glyph_font)

    def _run_width(self, run: Run) -> int:
        m = self._theme.metrics
        if run.kind is RunKind.TEXT:
            width = self._fm.horizontalAdvance(run.text)
        elif run.kind is RunKind.GLYPH:
            width = self._gfm.horizontalAdvance(run.text)
        elif run.kind is RunKind.STATUS:
            width = m.icon_px - 4
        else:
            width = m.progress_width
        return width + run.gap_after

    def sizeHint(self) -> QSize:
        m = self._theme.metrics
        width = max(sum(self._run_width(r) for r in self._runs), self.reserve_width())
        return QSize(width + 2 * m.padding_x, m.strip_height)

    def reserve_width(self) -> int:
        """The width of this segment over seed 000's example footer: it keeps at least that
        much, so a cold start's "…" does not make the strip jump when data arrives."""
        if self._reserve is None:
            _text, runs, _tip = self.build(typical_state(), utcnow())
            self._reserve = sum(self._run_width(r) for r in runs)
        return self._reserve

    def minimumSizeHint(self) -> QSize:
        """Room for the first run (the state shape or the icon) and the padding."""
        m = self._theme.metrics
        first = self._run_width(self._runs[0]) - self._runs[0].gap_after if self._runs else 0
        return QSize(first + 2 * m.padding_x, m.strip_height)

    def fitted(self, width: int | None = None) -> list[tuple[Run, str]]:
        """The runs that fit in ``width`` (default: the widget's), as they are painted.

        Runs are kept in order while they fit; the first text that does not is elided
        with "…", and nothing after it is drawn. Shapes, icons and the bar are never cut:
        one that does not fit is left out. The first run is always kept.
        """
        m = self._theme.metrics
        room = (self.width() if width is None else width) - 2 * m.padding_x
        out: list[tuple[Run, str]] = []
        x = 0
        for run in self._runs:
            need = self._run_width(run) - run.gap_after
            if x + need <= room or not out:
                out.append((run, run.text))
                x += need + run.gap_after
                continue
            if run.kind is RunKind.TEXT:
                elided = self._fm.elidedText(run.text, Qt.TextElideMode.ElideRight, room - x)
                if elided:
                    out.append((run, elided))
            break
        return out

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        theme, m = self._theme, self._theme.metrics
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect())
        if self._flash is not None:
            p.fillRect(rect, self._flash)
        elif self._hover:
            p.fillRect(rect, theme.color("surface_hover"))
        text_color = theme.color("text_dim" if self._dim else "text")
        mid = rect.height() / 2
        for x, width, run, shown in self.placed():
            color = theme.color(run.color) if run.color else text_color
            if self._dim and run.kind is not RunKind.TEXT:
                color = theme.color("text_dim") if run.color is None else color
            if run.kind is RunKind.TEXT:
                p.setFont(self._font)
                p.setPen(color)
                p.drawText(
                    QRectF(x, 0, width + 1, rect.height()),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    shown,
                )
            elif run.kind is RunKind.GLYPH:
                # centre the glyph's ink, not its line box: ☁ ⚡ ⟳ sit low on the baseline
                p.setFont(self._glyph_font)
                p.setPen(color)
                ink = self._gfm.tightBoundingRect(run.text)
                p.drawText(QPointF(x, mid - ink.top() - ink.height() / 2), run.text)
            elif run.kind is RunKind.STATUS:
                paint_status_shape(p, QPointF(x + width / 2, mid), width, run.status, color)
            else:
                self._paint_bar(
                    p, QRectF(x, mid - m.progress_height / 2, width, m.progress_height), run.value
                )
        p.end()

    def placed(self) -> list[tuple[float, int, Run, str]]:
        """Each painted run with its left edge and width: what is drawn where, and clicked."""
        x = float(self._theme.metrics.padding_x)
        out = []
        for run, shown in self.fitted():
            width = self._run_width(replace(run, text=shown)) - run.gap_after
            out.append((x, width, run, shown))
            x += width + run.gap_after
        return out

    def target_at(self, x: float) -> str:
        """The window a click at ``x`` opens: the run's own (one service), else the segment's.
        A run's gap belongs to it, so a click between a shape and its name still hits."""
        for left, width, run, _shown in self.placed():
            if run.target is not None and left <= x < left + width + run.gap_after:
                return run.target
        return self.segment.value

    def _paint_bar(self, p: QPainter, rect: QRectF, value: int | None) -> None:
        theme = self._theme
        radius = rect.height() / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.color("progress_track"))
        p.drawRoundedRect(rect, radius, radius)
        p.setBrush(theme.color("text_dim" if self._dim else "progress_fill"))
        if value is not None:
            fill = QRectF(rect.x(), rect.y(), rect.width() * value / 100, rect.height())
            p.drawRoundedRect(fill, radius, radius)
        else:
            chunk = rect.width() / 3
            phase = self._indeterminate_phase()
            start = rect.x() - chunk + (rect.width() + chunk) * phase
            fill = QRectF(max(rect.x(), start), rect.y(), chunk, rect.height())
            fill.setRight(min(fill.right(), rect.right()))
            if fill.width() > 0:
                p.drawRoundedRect(fill, radius, radius)

    def _indeterminate_phase(self) -> float:
        return 0.35

    # -- input ----------------------------------------------------------------------------

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hover = True
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event: object) -> None:
        self._hover = False
        self.update()
        super().leaveEvent(event)  # type: ignore[arg-type]

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.open_requested.emit(self.target_at(event.position().x()))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.history_requested.emit(self.segment.value)
        event.accept()
