"""The collapsed strip: a 4 px line that is the worst state (seed 000, 2.4).

The whole line takes the worst state's colour, and its pattern repeats the state's shape so
it reads without colour too: solid for healthy (and processing), a row of triangles for
degraded, of squares for down, of dots for unknown (:data:`PATTERNS`).

On hover the line grows into a small handle that says what a click does (expand) and shows
the worst-state dot with its shape and word, so the affordance is found without colour.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPolygonF,
)
from PySide6.QtWidgets import QWidget

from studio_status.protocol import HealthStatus
from studio_status.ui.formats import Overall
from studio_status.ui.theme import Theme

from .segment import paint_status_shape

__all__ = ["CollapsedLine"]

_SHAPE = {
    Overall.HEALTHY: HealthStatus.HEALTHY,
    Overall.DEGRADED: HealthStatus.DEGRADED,
    Overall.DOWN: HealthStatus.DOWN,
    Overall.UNKNOWN: HealthStatus.UNKNOWN,
    Overall.PROCESSING: HealthStatus.HEALTHY,
}
#: Per state: (shape, width of one mark, gap between marks) in pixels; gap 0 = solid.
PATTERNS: dict[Overall, tuple[str, int, int]] = {
    Overall.HEALTHY: ("bar", 1, 0),
    Overall.PROCESSING: ("bar", 1, 0),
    Overall.DEGRADED: ("triangle", 10, 4),
    Overall.DOWN: ("square", 4, 4),
    Overall.UNKNOWN: ("dot", 4, 6),
}


def paint_pattern(p: QPainter, rect: QRectF, overall: Overall, color: QColor) -> None:
    """The line in the state's colour, marked with the state's shape along its length."""
    shape, width, gap = PATTERNS[overall]
    if gap == 0:
        p.fillRect(rect, color)
        return
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    h = rect.height()
    x = rect.left()
    while x < rect.right():
        if shape == "square":
            p.drawRect(QRectF(x, 0, width, h))
        elif shape == "dot":
            p.drawEllipse(QRectF(x, 0, min(width, h), h))
        else:
            p.drawPolygon(
                QPolygonF([QPointF(x, h), QPointF(x + width / 2, 0), QPointF(x + width, h)])
            )
        x += width + gap


class CollapsedLine(QWidget):
    """Signals:
    expand_requested(): a click on the line.
    hovered(bool): the pointer entered or left (the bar grows the window to show a handle).
    """

    expand_requested = Signal()
    hovered = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.overall = Overall.UNKNOWN
        self.summary = ""
        self.shortcut = ""
        self._hover = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def set_overall(self, overall: Overall, summary: str) -> None:
        if (overall, summary) != (self.overall, self.summary):
            self.overall, self.summary = overall, summary
            self.setToolTip(
                f"{summary}\nThe line's colour and marks are the worst state"
                f"\nClick to expand the status strip ({self.shortcut})"
            )
            self.update()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, self._theme.metrics.collapsed_height)

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = self._theme
        p = QPainter(self)
        rect = QRectF(self.rect())
        p.fillRect(rect, theme.color("surface_hover" if self._hover else "border"))
        dot = theme.overall_color(self.overall)
        if not self._hover:
            paint_pattern(p, rect, self.overall, dot)
        else:
            size = min(10.0, rect.height() - 4)
            center = QPointF(rect.right() - 12, rect.center().y())
            paint_status_shape(p, center, size, _SHAPE[self.overall], dot)
            font = QFont(self.font())
            font.setPixelSize(theme.metrics.font_px)
            p.setFont(font)
            p.setPen(theme.color("text"))
            label = f"▴ {self.summary} — click to expand"
            p.drawText(
                rect.adjusted(0, 0, -24, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
        p.end()

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hover = True
        self.hovered.emit(True)
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = False
        self.hovered.emit(False)
        self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton:
            self.expand_requested.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)
