"""The honest states every window has: loading, empty, error with retry, and a stale banner.

:class:`StatePane` stacks a window's content with the three non-content pages; the window
says which to show. :class:`Banner` sits above content that is shown but not current
("Offline since 12:04 — showing the last known state") and may carry a Retry button.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio_status.ui.theme import Theme, current_theme

from .badges import Spinner

__all__ = ["Banner", "PaneState", "StatePane"]


class PaneState(Enum):
    LOADING = "loading"
    EMPTY = "empty"
    ERROR = "error"
    CONTENT = "content"


class StatePane(QStackedWidget):
    """Signals:
        retry_requested(): the error page's Retry was pressed.

    Attributes:
        state: which page shows; message: its text (empty for content).
    """

    retry_requested = Signal()

    def __init__(self, content: QWidget, *, theme: Theme | None = None) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self.state = PaneState.CONTENT
        self.message = ""

        self._loading = QWidget()
        lay = QHBoxLayout(self._loading)
        lay.addStretch(1)
        lay.addWidget(Spinner(theme=self._theme, size=20))
        self._loading_label = QLabel("Loading…")
        lay.addWidget(self._loading_label)
        lay.addStretch(1)

        self._empty = QLabel()
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setStyleSheet(f"color: {self._theme.text_dim}; font-size: 13px;")

        self._error = QWidget()
        elay = QVBoxLayout(self._error)
        elay.addStretch(1)
        self._error_label = QLabel()
        self._error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._error_label.setWordWrap(True)
        self._error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        elay.addWidget(self._error_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setAccessibleName("Retry")
        self.retry_button.clicked.connect(self.retry_requested.emit)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        elay.addLayout(row)
        elay.addStretch(1)

        for page in (self._loading, self._empty, self._error, content):
            self.addWidget(page)
        self._content = content
        self.setCurrentWidget(content)

    def show_content(self) -> None:
        self._set(PaneState.CONTENT, "", self._content)

    def show_loading(self, text: str = "Loading…") -> None:
        self._loading_label.setText(text)
        self._set(PaneState.LOADING, text, self._loading)

    def show_empty(self, text: str) -> None:
        self._empty.setText(text)
        self._empty.setAccessibleName(text)
        self._set(PaneState.EMPTY, text, self._empty)

    def show_error(self, text: str, *, retry: bool = True) -> None:
        self._error_label.setText(
            f"<p style='color:{self._theme.down}; font-weight:600'>⚠ {text}</p>"
        )
        self._error_label.setAccessibleName(text)
        self.retry_button.setVisible(retry)
        self._set(PaneState.ERROR, text, self._error)

    def _set(self, state: PaneState, message: str, page: QWidget) -> None:
        self.state, self.message = state, message
        if self.currentWidget() is not page:
            self.setCurrentWidget(page)


class Banner(QWidget):
    """A one-line notice over content; hidden when there is nothing to say.

    Signals:
        retry_requested(): its Retry button was pressed.

    Attributes:
        text: what it says now ("" when hidden).
    """

    retry_requested = Signal()

    def __init__(self, *, theme: Theme | None = None) -> None:
        super().__init__()
        self._theme = theme or current_theme()
        self.text = ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        self._label = QLabel()
        self._label.setWordWrap(True)
        lay.addWidget(self._label, 1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry_requested.emit)
        lay.addWidget(self.retry_button)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.hide()

    def say(self, text: str, *, severity: str = "degraded", retry: bool = False) -> None:
        self.text = text
        if not text:
            self.hide()
            return
        color = getattr(self._theme, severity, self._theme.degraded)
        self.setStyleSheet(
            f"Banner {{ background: {self._theme.surface}; border-left: 4px solid {color}; }}"
            f"Banner QLabel {{ color: {self._theme.text}; }}"
        )
        self._label.setText(text)
        self.setAccessibleName(text)
        self.retry_button.setVisible(retry)
        self.show()
