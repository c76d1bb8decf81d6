"""Cards: a clickable service card (health grid) and a metric card (costs, systems).

A card is one focusable widget with its whole text in its accessible name; Enter or Space
activates it like a click, so the grid is walked with Tab and opened with the keyboard.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio_status.protocol import HealthStatus
from studio_status.ui.strip.segment import paint_status_shape
from studio_status.ui.theme import Theme, current_theme

__all__ = ["MetricCard", "ServiceCard"]


class _Card(QWidget):
    def __init__(self, theme: Theme | None) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self._hover = False
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hover = True
        self.update()

    def leaveEvent(self, event: object) -> None:
        self._hover = False
        self.update()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _frame(self, p: QPainter, accent: QColor | None) -> QRectF:
        t = self._theme
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(t.color("text") if self.hasFocus() else t.color("border"), 1.5))
        p.setBrush(t.color("surface_hover" if self._hover else "surface"))
        p.drawRoundedRect(r, 6, 6)
        if accent is not None:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(accent)
            p.drawRoundedRect(QRectF(r.left(), r.top(), 5, r.height()), 2.5, 2.5)
        return r


class ServiceCard(_Card):
    """One service in the health grid.

    Signals:
        open_requested(str): clicked or activated; the service name.

    Attributes:
        name: the service; status: its state; lines: the texts painted under the title.
    """

    open_requested = Signal(str)

    def __init__(self, name: str, theme: Theme | None = None) -> None:
        super().__init__(theme)
        self.name = name
        self.title = name
        self.status = HealthStatus.UNKNOWN
        self.lines: list[str] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(112)
        self.setMinimumWidth(200)

    def set_content(self, title: str, status: HealthStatus, lines: list[str], tip: str) -> None:
        self.title, self.status, self.lines = title, status, lines
        self.setToolTip(tip)
        self.setAccessibleName(f"{title}: {status.value}")
        self.setAccessibleDescription(". ".join(lines))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(240, 112)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.open_requested.emit(self.name)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.open_requested.emit(self.name)
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        t = self._theme
        color = t.status_color(self.status)
        r = self._frame(p, color)
        x = r.left() + 16
        title_font = QFont(self.font())
        title_font.setBold(True)
        title_font.setPointSizeF(self.font().pointSizeF() * 1.15)
        p.setFont(title_font)
        fm = QFontMetrics(title_font)
        paint_status_shape(
            p, QPointF(x + 6, r.top() + 10 + fm.height() / 2), 12, self.status, color
        )
        p.setPen(t.color("text"))
        p.drawText(
            QRectF(x + 18, r.top() + 10, r.width() - 40, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.title, Qt.TextElideMode.ElideRight, int(r.width() - 110)),
        )
        status_font = QFont(self.font())
        status_font.setBold(True)
        p.setFont(status_font)
        p.setPen(color)
        p.drawText(
            QRectF(r.left(), r.top() + 10, r.width() - 12, fm.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            self.status.value.upper(),
        )
        p.setFont(self.font())
        body = QFontMetrics(self.font())
        y = r.top() + 16 + fm.height()
        for i, line in enumerate(self.lines[:4]):
            p.setPen(t.color("text") if i == 0 else t.color("text_dim"))
            p.drawText(
                QRectF(x, y, r.width() - 28, body.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                body.elidedText(line, Qt.TextElideMode.ElideRight, int(r.width() - 28)),
            )
            y += body.height() + 2


class MetricCard(_Card):
    """A titled value with a caption (``GPU utilisation`` / ``72 %`` / ``64 of 82 GPUs``).

    Attributes:
        title, value, caption: the three texts; color: the accent's theme role or None.
    """

    def __init__(self, title: str, theme: Theme | None = None) -> None:
        super().__init__(theme)
        self.title = title
        self.value = "—"
        self.caption = ""
        self.color: str | None = None
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(84)
        self.setMinimumWidth(140)
        self.setAccessibleName(title)

    def set_value(self, value: str, caption: str = "", color: str | None = None) -> None:
        self.value, self.caption, self.color = value, caption, color
        self.setAccessibleName(f"{self.title}: {value}")
        self.setAccessibleDescription(caption)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        t = self._theme
        accent = QColor(getattr(t, self.color)) if self.color else None
        r = self._frame(p, accent)
        x = r.left() + 14
        fm = QFontMetrics(self.font())
        p.setPen(t.color("text_dim"))
        p.drawText(QRectF(x, r.top() + 8, r.width() - 20, fm.height()), self.title)
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(self.font().pointSizeF() * 1.6)
        p.setFont(big)
        bfm = QFontMetrics(big)
        p.setPen(t.color("text"))
        p.drawText(
            QRectF(x, r.top() + 10 + fm.height(), r.width() - 20, bfm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            bfm.elidedText(self.value, Qt.TextElideMode.ElideRight, int(r.width() - 24)),
        )
        p.setFont(self.font())
        p.setPen(t.color("text_dim"))
        p.drawText(
            QRectF(x, r.top() + 12 + fm.height() + bfm.height(), r.width() - 20, fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.caption, Qt.TextElideMode.ElideRight, int(r.width() - 24)),
        )
