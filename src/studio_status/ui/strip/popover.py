"""The right-click popover: the last 5 transitions of one segment (seed 000, 2.2)."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from studio_status.client.state import HISTORY, Segment, StatusState
from studio_status.ui import formats
from studio_status.ui.theme import Theme

__all__ = ["HistoryPopover"]


class HistoryPopover(QFrame):
    """A ``Qt.Popup`` listing the newest notices first; closes on any click outside.

    Attributes:
        lines: the rows shown, newest first (for tests and accessibility).
    """

    def __init__(
        self,
        segment: Segment,
        state: StatusState,
        theme: Theme,
        parent: QWidget | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("historyPopover")
        self.setStyleSheet(
            f"#historyPopover {{ background: {theme.surface}; border: 1px solid {theme.border};"
            f" border-radius: {theme.metrics.radius}px; }}"
            f" QLabel {{ color: {theme.text}; font-size: {theme.metrics.font_px}px; }}"
            f" QLabel#title {{ font-weight: bold; }}"
            f' QLabel[dim="true"] {{ color: {theme.text_dim}; }}'
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        title = QLabel(f"{formats.SEGMENT_TITLES[segment]} — recent changes", self)
        title.setObjectName("title")
        layout.addWidget(title)
        notices = list(reversed(state.history.get(segment, ())))[:HISTORY]
        self.lines = [formats.notice_line(n, tz) for n in notices]
        if not self.lines:
            empty = QLabel("No changes seen yet", self)
            empty.setProperty("dim", True)
            layout.addWidget(empty)
        for line in self.lines:
            layout.addWidget(QLabel(line, self))

    def show_near(self, anchor: QWidget, above: bool) -> None:
        """Open next to ``anchor``: above it on a bottom strip, below it on a top strip."""
        self.adjustSize()
        if above:
            pos = anchor.mapToGlobal(QPoint(0, 0)) - QPoint(0, self.height() + 2)
        else:
            pos = anchor.mapToGlobal(QPoint(0, anchor.height() + 2))
        screen = anchor.screen().geometry()
        pos.setX(max(screen.left(), min(pos.x(), screen.right() - self.width())))
        self.move(pos)
        self.show()
