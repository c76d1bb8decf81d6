"""Startup checklist (seed 001, 4.4): each pre-flight check passed / failed / pending.

Failed required checks lead, in the banner colour, with their error: they block generation.
Pending checks turn a spinner. Admins may override a failed check with a reason (at least
three characters, as the hub requires); the override goes through ``details`` and lands in
the hub's audit trail. The list is refetched when the hub's readiness flag flips.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.details import ActionRecord, actions_key
from studio_status.client.state import StatusState
from studio_status.protocol.checklist import StartupCheck, StartupChecklist, StartupCheckState
from studio_status.ui import formats
from studio_status.ui.widgets import Pill, Spinner, StatePane

from .base import DetailWindow, WindowContext
from .texts import plain_error

__all__ = ["ChecklistWindow"]

_STATE = {
    StartupCheckState.PASSED: ("✓ passed", "healthy"),
    StartupCheckState.FAILED: ("✗ failed", "down"),
    StartupCheckState.PENDING: ("pending", "processing"),
    StartupCheckState.OVERRIDDEN: ("⚑ overridden", "degraded"),
}


class _Row(QWidget):
    def __init__(self, window: ChecklistWindow, check: StartupCheck, admin: bool) -> None:
        super().__init__()
        theme = window.theme
        self.name = check.name
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        top = QHBoxLayout()
        text, color = _STATE[check.state]
        if check.state is StartupCheckState.PENDING:
            top.addWidget(Spinner(theme=theme, size=14))
        self.pill = Pill(text, color, theme=theme)
        top.addWidget(self.pill)
        title = QLabel(f"<b>{check.label or check.name}</b>")
        top.addWidget(title)
        if check.required:
            top.addWidget(Pill("required", "unknown", theme=theme))
        top.addStretch(1)
        if check.checked_at is not None:
            top.addWidget(QLabel(f"checked {formats.clock(check.checked_at, seconds=True)}"))
        lay.addLayout(top)
        if check.error and check.state is not StartupCheckState.PASSED:
            error = QLabel(check.error)
            error.setWordWrap(True)
            error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            error.setStyleSheet(f"color: {theme.down if check.required else theme.text_dim};")
            lay.addWidget(error)
        if check.override is not None:
            o = check.override
            lay.addWidget(QLabel(f"Overridden by {o.by} at {formats.clock(o.at)}: “{o.reason}”"))
        self.reason: QLineEdit | None = None
        self.override_button: QPushButton | None = None
        if admin and check.state is StartupCheckState.FAILED:
            row = QHBoxLayout()
            self.reason = QLineEdit()
            self.reason.setPlaceholderText("Reason for overriding this check (required)")
            self.reason.setAccessibleName(f"Override reason for {check.name}")
            row.addWidget(self.reason, 1)
            self.override_button = QPushButton("Override")
            self.override_button.setAccessibleName(f"Override {check.name}")
            self.override_button.setEnabled(False)
            self.reason.textChanged.connect(
                lambda t: self.override_button.setEnabled(len(t.strip()) >= 3)
            )
            self.override_button.clicked.connect(partial(window.on_override_clicked, check.name))
            self.reason.returnPressed.connect(partial(window.on_override_clicked, check.name))
            row.addWidget(self.override_button)
            lay.addLayout(row)
        bg = theme.surface
        edge = getattr(theme, color)
        self.setObjectName("checkrow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(
            f"#checkrow {{ background: {bg}; border-left: 4px solid {edge}; border-radius: 4px; }}"
        )
        self.setAccessibleName(f"{check.label or check.name}: {check.state.value}")


class ChecklistWindow(DetailWindow):
    """Attributes:
    rows: the check rows by check name, failed required first.
    """

    kind = "checklist"
    title = formats.WINDOW_TITLES["checklist"]
    default_size = (720, 520)
    admin_only = True

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.rows: dict[str, _Row] = {}
        self._shown: object = None
        body = QWidget()
        self._list = QVBoxLayout(body)
        self._list.setContentsMargins(0, 0, 6, 0)
        self._list.setSpacing(6)
        self.blocking = QLabel()
        self.blocking.setWordWrap(True)
        self._list.addWidget(self.blocking)
        self._list.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        self.trim = scroll
        self.pane = StatePane(scroll, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)
        self.last_action = QLabel()
        self.last_action.setStyleSheet(f"color: {self.theme.text_dim};")
        self.root.addWidget(self.last_action)

    def resources(self) -> list[str]:
        return ["checklist"]

    def show_state(self, state: StatusState) -> None:
        if not self.is_admin and state.role is not None:
            self.pane.show_empty("The startup checklist is visible to admins only.")
            return
        entry = self.show_entry(self.pane, "checklist", "the startup checklist")
        if entry is None or not isinstance(entry.value, StartupChecklist):
            return
        checklist = entry.value
        if not checklist.checks:
            self.pane.show_empty(
                "This hub runs no startup checks: it is ready as soon as it starts. An admin "
                "can add checks to the hub's configuration."
            )
            return
        if checklist is not self._shown:
            self._shown = checklist
            self._rebuild(checklist)
        record = state.details.get(actions_key("checklist"))
        if record is not None and isinstance(record.value, tuple) and record.value:
            last = record.value[0]
            if isinstance(last, ActionRecord):
                self.last_action.setText(
                    f"{formats.clock(last.at, seconds=True)} {last.action}: "
                    + (
                        "done"
                        if last.ok
                        else plain_error(last.error or "failed", last.action, state.role)
                    )
                )
        self.pane.show_content()

    def _rebuild(self, checklist: StartupChecklist) -> None:
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows = {}
        order = {StartupCheckState.FAILED: 0, StartupCheckState.PENDING: 1}
        checks = sorted(
            checklist.checks, key=lambda c: (not c.required, order.get(c.state, 2), c.name)
        )
        admin = self.is_admin
        for i, check in enumerate(checks):
            row = _Row(self, check, admin)
            self.rows[check.name] = row
            self._list.insertWidget(1 + i, row)
        blocking = [
            c.label or c.name
            for c in checklist.checks
            if c.required and c.state in (StartupCheckState.FAILED, StartupCheckState.PENDING)
        ]
        passed = sum(1 for c in checklist.checks if c.state is StartupCheckState.PASSED)
        if checklist.ready:
            since = f" since {formats.clock(checklist.ready_at)}" if checklist.ready_at else ""
            self.subtitle.setText(f"Ready{since} · {passed}/{len(checklist.checks)} passed")
            self.blocking.hide()
        else:
            self.subtitle.setText(f"Not ready · {passed}/{len(checklist.checks)} passed")
            self.blocking.setText(
                f"<p style='color:{self.theme.down}; font-weight:600'>Generation is blocked "
                f"until these required checks pass: {', '.join(blocking)}</p>"
            )
            self.blocking.setAccessibleName(self.blocking.text())
            self.blocking.show()

    def on_override_clicked(self, name: str) -> None:
        row = self.rows.get(name)
        if row is None or row.reason is None or self.ctx.details is None:
            return
        reason = row.reason.text().strip()
        if len(reason) < 3:
            row.reason.setFocus()
            return
        self.ctx.details.request_override(name, reason)
        if row.override_button is not None:
            row.override_button.setEnabled(False)
