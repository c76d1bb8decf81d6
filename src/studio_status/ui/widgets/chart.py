"""The one chart every window uses: time on x, band rows of colour blocks and/or a line.

Uses, all through :meth:`Chart.set_data`:

* a service's status band over 24 h plus its latency line (service window);
* one band row per service over 24 h / 7 d / 30 d (uptime timeline);
* a step line of the total cost rate (GPU costs).

Painted with QPainter from theme roles, so light / dark and 1× / 2× need nothing special.
Hover shows the time (and the value or block) under the cursor; a click or Enter on a block
emits :attr:`Chart.span_clicked` with that block's ``payload``. Left / Right move a keyboard
cursor block by block (Up / Down change rows), so the chart is usable without a mouse.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from studio_status.ui.theme import Theme, current_theme

__all__ = ["Band", "Chart", "ChartData", "Line", "Span"]


@dataclass(frozen=True)
class Span:
    """One colour block; ``color`` is a theme role (``healthy``, ``down``, ``unknown`` ...)."""

    start: datetime
    end: datetime
    color: str
    label: str = ""
    payload: object = None


@dataclass(frozen=True)
class Band:
    """One row of blocks with its label (a service name) and an optional right-hand note."""

    label: str
    spans: tuple[Span, ...]
    note: str = ""


@dataclass(frozen=True)
class Line:
    """Points ``(time, value)`` in time order; ``step`` draws a step function (a rate)."""

    points: tuple[tuple[datetime, float], ...]
    unit: str = ""
    color: str = "processing"
    step: bool = False
    fmt: str = "{:.0f}"


@dataclass(frozen=True)
class ChartData:
    start: datetime
    end: datetime
    bands: tuple[Band, ...] = ()
    line: Line | None = None
    empty_text: str = "No data yet"
    markers: tuple[tuple[datetime, str], ...] = field(default=())


_BAND_H = 18
_BAND_GAP = 6
_LINE_H = 110
_AXIS_H = 18
_PAD = 6


class Chart(QWidget):
    """Signals:
        span_clicked(object): a block was clicked or activated; its ``payload``.

    Attributes:
        data: what is drawn.
        cursor_at: the keyboard cursor: (band index, span index) or None.
    """

    span_clicked = Signal(object)

    def __init__(self, theme: Theme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme or current_theme()
        self.data: ChartData | None = None
        self.cursor_at: tuple[int, int] | None = None
        self._hover_x: float | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Chart")

    # -- data -----------------------------------------------------------------------------

    def set_data(self, data: ChartData) -> None:
        self.data = data
        if self.cursor_at is not None and not self._span_at_index(*self.cursor_at):
            self.cursor_at = None
        self.setFixedHeight(self.sizeHint().height())
        self.setAccessibleDescription(self.describe())
        self.update()

    def describe(self) -> str:
        """A text form of the chart for screen readers and tests."""
        d = self.data
        if d is None:
            return ""
        parts = []
        for band in d.bands:
            down = sum(1 for s in band.spans if s.color == "down")
            degraded = sum(1 for s in band.spans if s.color == "degraded")
            text = f"{band.label}: {len(band.spans)} blocks"
            if down or degraded:
                text += f", {down} down, {degraded} degraded"
            if band.note:
                text += f", {band.note}"
            parts.append(text)
        if d.line is not None and d.line.points:
            values = [v for _, v in d.line.points]
            parts.append(
                f"{len(values)} points, last {d.line.fmt.format(values[-1])}{d.line.unit}, "
                f"max {d.line.fmt.format(max(values))}{d.line.unit}"
            )
        return "; ".join(parts) or d.empty_text

    def sizeHint(self) -> QSize:
        d = self.data
        bands = len(d.bands) if d else 0
        h = _PAD + bands * (_BAND_H + _BAND_GAP) + _AXIS_H + _PAD
        if d is None or d.line is not None or not d.bands:
            h += _LINE_H
        return QSize(480, h)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    # -- geometry ---------------------------------------------------------------------------

    def _gutter(self) -> float:
        d = self.data
        if d is None:
            return 40.0
        fm = QFontMetrics(self.font())
        widest = max((fm.horizontalAdvance(b.label) for b in d.bands), default=0)
        if d.line is not None:
            widest = max(widest, fm.horizontalAdvance(self._fmt(self._line_max()) + "  "))
        return float(min(180, max(40, widest + 12)))

    def _right_gutter(self) -> float:
        d = self.data
        if d is None or not any(b.note for b in d.bands):
            return float(_PAD)
        fm = QFontMetrics(self.font())
        return float(max(fm.horizontalAdvance(b.note) for b in d.bands) + 12)

    def _plot(self) -> QRectF:
        left, right = self._gutter(), self._right_gutter()
        return QRectF(left, _PAD, max(10.0, self.width() - left - right), self.height() - 2 * _PAD)

    def _x(self, at: datetime) -> float:
        d = self.data
        assert d is not None
        r = self._plot()
        total = (d.end - d.start).total_seconds() or 1.0
        frac = (at - d.start).total_seconds() / total
        return r.left() + max(0.0, min(1.0, frac)) * r.width()

    def _time_at(self, x: float) -> datetime | None:
        d = self.data
        if d is None:
            return None
        r = self._plot()
        if not r.left() <= x <= r.right():
            return None
        frac = (x - r.left()) / r.width()
        return d.start + (d.end - d.start) * frac

    def _band_rect(self, index: int) -> QRectF:
        r = self._plot()
        return QRectF(r.left(), r.top() + index * (_BAND_H + _BAND_GAP), r.width(), _BAND_H)

    def _line_rect(self) -> QRectF:
        d = self.data
        r = self._plot()
        top = r.top() + (len(d.bands) if d else 0) * (_BAND_H + _BAND_GAP)
        return QRectF(r.left(), top + 4, r.width(), r.bottom() - _AXIS_H - top - 4)

    def _line_max(self) -> float:
        d = self.data
        if d is None or d.line is None or not d.line.points:
            return 1.0
        top = max(v for _, v in d.line.points)
        return _nice(top if top > 0 else 1.0)

    def _fmt(self, value: float) -> str:
        d = self.data
        if d is None or d.line is None:
            return f"{value:.0f}"
        return d.line.fmt.format(value) + d.line.unit

    def _span_at_index(self, band: int, span: int) -> Span | None:
        d = self.data
        if d is None or not 0 <= band < len(d.bands):
            return None
        spans = d.bands[band].spans
        return spans[span] if 0 <= span < len(spans) else None

    def span_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(band, span) under a point, or None."""
        d = self.data
        if d is None:
            return None
        for i, band in enumerate(d.bands):
            if self._band_rect(i).adjusted(0, -2, 0, 2).contains(pos):
                at = self._time_at(pos.x())
                if at is None:
                    return None
                for j, span in enumerate(band.spans):
                    if span.start <= at < span.end:
                        return i, j
        return None

    def hover_text(self, pos: QPointF) -> str:
        """What the tooltip says at ``pos``: the time, and the block or value there."""
        at = self._time_at(pos.x())
        if at is None or self.data is None:
            return ""
        local = at.astimezone()
        span_days = (self.data.end - self.data.start) > timedelta(days=1)
        lines = [local.strftime("%a %d %b %H:%M" if span_days else "%H:%M:%S")]
        hit = self.span_at(pos)
        if hit is not None:
            span = self._span_at_index(*hit)
            if span is not None and span.label:
                lines.append(span.label)
        line = self.data.line
        if line is not None and line.points and hit is None:
            times = [t for t, _ in line.points]
            i = bisect.bisect_right(times, at) - 1
            if i >= 0:
                lines.append(self._fmt(line.points[i][1]))
        return "\n".join(lines)

    # -- events -----------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._hover_x = pos.x()
        text = self.hover_text(pos)
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        self.update()

    def leaveEvent(self, event: object) -> None:
        self._hover_x = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() is not Qt.MouseButton.LeftButton:
            return
        hit = self.span_at(event.position())
        if hit is not None:
            self.cursor_at = hit
            self._activate()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        d = self.data
        key = event.key()
        if d is None or not d.bands:
            super().keyPressEvent(event)
            return
        band, span = self.cursor_at or (0, -1)
        if key == Qt.Key.Key_Right:
            span += 1
        elif key == Qt.Key.Key_Left:
            span = max(0, span - 1)
        elif key == Qt.Key.Key_Down:
            band = min(len(d.bands) - 1, band + 1)
        elif key == Qt.Key.Key_Up:
            band = max(0, band - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._activate()
            return
        else:
            super().keyPressEvent(event)
            return
        span = max(0, min(span, len(d.bands[band].spans) - 1))
        self.cursor_at = (band, span) if d.bands[band].spans else None
        target = self._span_at_index(*self.cursor_at) if self.cursor_at else None
        if target is not None:
            self.setAccessibleDescription(f"{d.bands[band].label}: {target.label}")
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _activate(self) -> None:
        if self.cursor_at is None:
            return
        span = self._span_at_index(*self.cursor_at)
        if span is not None and span.payload is not None:
            self.span_clicked.emit(span.payload)
        self.update()

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._theme
        d = self.data
        dim = t.color("text_dim")
        if d is None or (not d.bands and (d.line is None or not d.line.points)):
            p.setPen(dim)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, d.empty_text if d else "")
            return
        fm = QFontMetrics(self.font())
        for i, band in enumerate(d.bands):
            rect = self._band_rect(i)
            p.setPen(t.color("text"))
            p.drawText(
                QRectF(0, rect.top(), rect.left() - 8, rect.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(band.label, Qt.TextElideMode.ElideRight, int(rect.left() - 10)),
            )
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(t.color("progress_track"))
            p.drawRoundedRect(rect, 3, 3)
            for span in band.spans:
                x0, x1 = self._x(span.start), self._x(span.end)
                p.setBrush(QColor(getattr(t, span.color, t.unknown)))
                p.drawRect(QRectF(x0, rect.top(), max(1.0, x1 - x0), rect.height()))
            if band.note:
                p.setPen(t.color("text_dim"))
                p.drawText(
                    QRectF(rect.right() + 6, rect.top(), self.width(), rect.height()),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    band.note,
                )
        if d.line is not None:
            self._paint_line(p, d.line)
        self._paint_axis(p, d)
        if self.cursor_at is not None and self.hasFocus():
            focused = self._span_at_index(*self.cursor_at)
            if focused is not None:
                rect = self._band_rect(self.cursor_at[0])
                x0, x1 = self._x(focused.start), self._x(focused.end)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(t.color("text"), 2))
                p.drawRect(QRectF(x0 - 1, rect.top() - 2, max(3.0, x1 - x0 + 2), rect.height() + 4))
        if self._hover_x is not None:
            plot = self._plot()
            if plot.left() <= self._hover_x <= plot.right():
                p.setPen(QPen(dim, 1, Qt.PenStyle.DashLine))
                p.drawLine(
                    QPointF(self._hover_x, plot.top()),
                    QPointF(self._hover_x, plot.bottom() - _AXIS_H),
                )

    def _paint_line(self, p: QPainter, line: Line) -> None:
        t = self._theme
        r = self._line_rect()
        top = self._line_max()
        p.setPen(QPen(t.color("separator"), 1))
        for frac in (0.0, 0.5, 1.0):
            y = r.bottom() - frac * r.height()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(t.color("text_dim"))
            p.drawText(
                QRectF(0, y - 8, r.left() - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                self._fmt(top * frac),
            )
            p.setPen(QPen(t.color("separator"), 1))
        if not line.points:
            return
        path = QPainterPath()
        fill = QPainterPath()
        first = True
        prev_y = r.bottom()
        for at, value in line.points:
            x = self._x(at)
            y = r.bottom() - min(1.0, max(0.0, value / top)) * r.height()
            if first:
                path.moveTo(x, y)
                fill.moveTo(x, r.bottom())
                fill.lineTo(x, y)
                first = False
            else:
                if line.step:
                    path.lineTo(x, prev_y)
                    fill.lineTo(x, prev_y)
                path.lineTo(x, y)
                fill.lineTo(x, y)
            prev_y = y
        if line.step and self.data is not None:
            end_x = self._x(min(self.data.end, _now_like(self.data.end)))
            path.lineTo(end_x, prev_y)
            fill.lineTo(end_x, prev_y)
        fill.lineTo(fill.currentPosition().x(), r.bottom())
        fill.closeSubpath()
        color = QColor(getattr(t, line.color, t.processing))
        soft = QColor(color)
        soft.setAlpha(40)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(soft)
        p.drawPath(fill)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(color, 1.6))
        p.drawPath(path)

    def _paint_axis(self, p: QPainter, d: ChartData) -> None:
        t = self._theme
        r = self._plot()
        y = r.bottom() - _AXIS_H + 2
        p.setPen(t.color("text_dim"))
        total = d.end - d.start
        ticks = _ticks(d.start, d.end)
        if total > timedelta(days=2):
            fmt = "%d %b"
        elif total < timedelta(minutes=10):
            fmt = "%H:%M:%S"
        else:
            fmt = "%H:%M"
        fm = QFontMetrics(self.font())
        last_right = -1e9
        for at in ticks:
            x = self._x(at)
            text = at.astimezone().strftime(fmt)
            w = fm.horizontalAdvance(text)
            if x - w / 2 < last_right + 8 or x + w / 2 > r.right() + 20:
                continue
            p.drawLine(QPointF(x, y - 3), QPointF(x, y))
            p.drawText(QRectF(x - w / 2 - 2, y, w + 4, _AXIS_H), Qt.AlignmentFlag.AlignCenter, text)
            last_right = x + w / 2
        for at, label in d.markers:
            x = self._x(at)
            p.setPen(QPen(t.color("text_dim"), 1, Qt.PenStyle.DotLine))
            p.drawLine(QPointF(x, r.top()), QPointF(x, y))
            if label:
                p.drawText(QPointF(x + 3, r.top() + 10), label)


def _now_like(end: datetime) -> datetime:
    from studio_status.protocol import utcnow

    return utcnow().astimezone(end.tzinfo) if end.tzinfo else utcnow().replace(tzinfo=None)


def _nice(value: float) -> float:
    """A round upper bound for an axis: 1, 2, 5 × 10^n."""
    import math

    exp = math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= value:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))


def _ticks(start: datetime, end: datetime) -> Sequence[datetime]:
    total = (end - start).total_seconds()
    steps = [
        5,
        10,
        15,
        30,
        60,
        120,
        300,
        900,
        1800,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86400,
        2 * 86400,
        7 * 86400,
    ]
    step = next((s for s in steps if total / s <= 8), steps[-1])
    local = start.astimezone()
    offset = local.utcoffset() or timedelta(0)
    epoch = start.timestamp() + offset.total_seconds()
    first = (epoch // step + 1) * step - offset.total_seconds()
    out = []
    at = first
    while at < end.timestamp():
        out.append(datetime.fromtimestamp(at, tz=start.tzinfo))
        at += step
    return out
