"""Small painted pieces shared by the windows: status badge, gauge, progress bar, spinner.

Each keeps its text in its accessible name, so a screen reader (and a test) reads what is
painted; colours come from the theme, and a status is also told by its glyph.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio_status.protocol import HealthStatus
from studio_status.ui.formats import STATUS_GLYPHS
from studio_status.ui.theme import Theme, current_theme

__all__ = ["Bar", "Gauge", "Pill", "Spinner", "status_pill"]


class Pill(QWidget):
    """A rounded label on a coloured background (``color`` is a theme role).

    Attributes:
        text: what it says; color: its theme role.
    """

    def __init__(
        self, text: str = "", color: str = "unknown", *, theme: Theme | None = None
    ) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self.text = ""
        self.color = color
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set(text, color)

    def set(self, text: str, color: str) -> None:
        if text == self.text and color == self.color:
            return
        self.text, self.color = text, color
        self.setAccessibleName(text)
        self.setFixedSize(self.sizeHint())
        self.update()

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        return QSize(fm.horizontalAdvance(self.text) + 16, fm.height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(getattr(self._theme, self.color, self._theme.unknown))
        fill = QColor(color)
        fill.setAlpha(46)
        p.setPen(QPen(color, 1))
        p.setBrush(fill)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        p.setPen(self._theme.color("text"))
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.text)


def status_pill(status: HealthStatus, text: str | None = None, theme: Theme | None = None) -> Pill:
    return Pill(f"{STATUS_GLYPHS[status]} {text or status.value}", status.value, theme=theme)


class Bar(QWidget):
    """A thin progress bar; ``value`` None is indeterminate (striped, not invented).

    Attributes:
        value: 0–100 or None.
    """

    def __init__(self, *, theme: Theme | None = None, height: int = 8) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self.value: float | None = None
        self.color = "progress_fill"
        self.setFixedHeight(height)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, value: float | None, color: str = "progress_fill") -> None:
        self.value, self.color = value, color
        self.setAccessibleName("progress not reported" if value is None else f"{value:.0f}%")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._theme
        r = QRectF(self.rect())
        radius = r.height() / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(t.color("progress_track"))
        p.drawRoundedRect(r, radius, radius)
        fill = QColor(getattr(t, self.color, t.progress_fill))
        if self.value is None:
            fill.setAlpha(110)
            p.setBrush(fill)
            step = 12
            p.setClipRect(r)
            x = -step
            while x < r.width():
                p.drawRect(QRectF(x, 0, step / 2, r.height()))
                x += step
            return
        p.setBrush(fill)
        width = r.width() * max(0.0, min(100.0, self.value)) / 100
        if width > 0:
            p.drawRoundedRect(QRectF(0, 0, max(width, r.height()), r.height()), radius, radius)


class Gauge(QWidget):
    """A 270° gauge with a centre text, coloured by thresholds (disk 80 / 90 %, budget).

    Attributes:
        value: 0–100 or None; text: the centre text; caption: the line under it.
    """

    def __init__(self, *, theme: Theme | None = None, size: int = 120) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self.value: float | None = None
        self.color = "unknown"
        self.text = "—"
        self.caption = ""
        self.setFixedSize(size, size)

    def set_value(self, value: float | None, color: str, text: str, caption: str = "") -> None:
        self.value, self.color, self.text, self.caption = value, color, text, caption
        self.setAccessibleName(f"{caption} {text}".strip())
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._theme
        pen_w = max(8.0, self.width() / 11)
        r = QRectF(self.rect()).adjusted(pen_w, pen_w, -pen_w, -pen_w)
        track = QPen(t.color("progress_track"), pen_w)
        track.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(track)
        p.drawArc(r, 225 * 16, -270 * 16)
        if self.value is not None:
            pen = QPen(QColor(getattr(t, self.color, t.unknown)), pen_w)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            span = -270 * max(0.0, min(100.0, self.value)) / 100
            p.drawArc(r, 225 * 16, round(span * 16))
        font = p.font()
        font.setPixelSize(max(12, self.width() // 6))
        font.setBold(True)
        p.setFont(font)
        p.setPen(t.color("text"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.text)
        if self.caption:
            font.setPixelSize(max(9, self.width() // 12))
            font.setBold(False)
            p.setFont(font)
            p.setPen(t.color("text_dim"))
            p.drawText(
                QRectF(0, r.bottom() - pen_w, self.width(), pen_w * 2),
                Qt.AlignmentFlag.AlignCenter,
                self.caption,
            )


class Spinner(QWidget):
    """A turning arc for "pending" / "loading"; runs its timer only while visible."""

    def __init__(self, *, theme: Theme | None = None, size: int = 16) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(80)
        self._timer.timeout.connect(self.on_timer_timeout)
        self.setFixedSize(size, size)
        self.setAccessibleName("pending")

    def on_timer_timeout(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def showEvent(self, event: object) -> None:
        self._timer.start()

    def hideEvent(self, event: object) -> None:
        self._timer.stop()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = max(2.0, self.width() / 8)
        pen = QPen(self._theme.color("processing"), w)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        r = QRectF(self.rect()).adjusted(w, w, -w, -w)
        p.drawArc(r, -self._angle * 16, 270 * 16)
