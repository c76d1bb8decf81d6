"""The collapsed strip: a 4 px line whose right end shows the worst state (seed 000, 2.4).

On hover the line grows into a small handle that says what a click does (expand) and shows
the worst-state dot with its shape and word, so the affordance is found without colour.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QEnterEvent, QFont, QMouseEvent, QPainter, QPaintEvent
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
DOT_WIDTH = 48


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
            self.setToolTip(f"{summary}\nClick to expand the status strip ({self.shortcut})")
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
            # the worst-state dot: the right end of the line, in the state's colour
            p.fillRect(QRectF(rect.right() - DOT_WIDTH, 0, DOT_WIDTH, rect.height()), dot)
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
