"""Service detail (seed 001, 4.2): 24 h of checks, quick actions, diagnose output, logs, audit.

The history comes from ``GET /admin/health/{service}`` through ``details`` (key
``service:<name>``) and grows live: each new reading in the store is appended by the client
layer, and a status change refetches. The chart draws the status band and the latency line.
Quick actions are for admins only (absent, not disabled, for anyone else); restart asks
first, through a dialog opened with ``open()`` (never ``exec()``: no nested loop under
qasync). Each action's result lands in the store (``actions:<name>``) and shows in the
audit list; diagnose output and the log viewer sit in tabs below.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.details import ActionRecord, LogLines, actions_key
from studio_status.client.state import StatusState
from studio_status.protocol import (
    CheckRecord,
    HealthStatus,
    ServiceActions,
    ServiceDetail,
    ServiceHealth,
)
from studio_status.ui import formats
from studio_status.ui.widgets import Band, Chart, ChartData, Line, Span, StatePane, status_pill

from .base import DetailWindow, WindowContext, entry_problem
from .texts import (
    PERIOD_LABELS,
    diagnose_findings,
    duration,
    live_services,
    plain_error,
    service_lines,
    service_title,
)

__all__ = ["ServiceWindow", "history_spans"]

HOURS = 24
#: The tabs' height when a window at its default size first shows its content.
COMPACT_TABS = 180
ACTION_TEXTS = {
    "recheck": "Recheck",
    "diagnose": "Diagnose",
    "restart": "Restart…",
    "test-notification": "Test notification",
}


def history_spans(history: list[CheckRecord], end_at: object = None) -> tuple[Span, ...]:
    """Consecutive checks of one status merged into blocks; each lasts until the next check."""
    spans: list[Span] = []
    if not history:
        return ()
    rows = sorted(history, key=lambda r: r.checked_at)
    start = rows[0]
    errors: list[str] = []
    for i, row in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if row.error_message and row.error_message not in errors:
            errors.append(row.error_message)
        if nxt is not None and nxt.status is start.status:
            continue
        end = nxt.checked_at if nxt is not None else row.checked_at + timedelta(seconds=1)
        if nxt is None and end_at is not None:
            end = max(end, end_at)  # type: ignore[call-overload]
        label = (
            f"{start.status.value} {formats.clock(start.checked_at)}–{formats.clock(end)}"
            f" ({duration((end - start.checked_at).total_seconds())})"
        )
        if errors:
            label += "\n" + "\n".join(errors[:3])
        spans.append(
            Span(start.checked_at, end, start.status.value, label, (start, end, tuple(errors)))
        )
        if nxt is not None:
            start, errors = nxt, []
    return tuple(spans)


class ServiceWindow(DetailWindow):
    """Attributes:
    service: the service name; chart: status band + latency line; action_buttons: the
    quick-action buttons by action (empty for non-admins); audit: the action list;
    diagnose_view / log_view: the tabs' text views.
    """

    kind = "service"
    title = formats.WINDOW_TITLES["service"]
    default_size = (860, 640)
    admin_only = True

    def __init__(self, ctx: WindowContext, key: str) -> None:
        super().__init__(ctx, key)
        self.service = key.partition(":")[2]
        self._set_label(formats.SERVICE_LABELS.get(self.service, self.service))
        self.action_buttons: dict[str, QPushButton] = {}
        #: what the hub can do for this service (None: the hub does not say; all offered)
        self.can: ServiceActions | None = None
        self._compacted = False
        self._admin_built = False
        self._confirm: QMessageBox | None = None
        self._pill = status_pill(HealthStatus.UNKNOWN, theme=self.theme)
        self.root.itemAt(0).layout().insertWidget(1, self._pill)  # type: ignore[union-attr]

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.chart = Chart(self.theme)
        self.chart.setAccessibleName(f"{self.label}: status and latency, last {HOURS} hours")
        self.chart.span_clicked.connect(self.on_chart_span_clicked)
        lay.addWidget(self.chart)
        self.selection = QLabel()
        self.selection.setStyleSheet(f"color: {self.theme.text_dim};")
        lay.addWidget(self.selection)
        lay.addStretch(1)
        self.pane = StatePane(body, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 0)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Actions, diagnostics and logs")
        self.audit = QListWidget()
        self.audit.setAccessibleName("Actions from this desktop")
        self.tabs.addTab(self.audit, "Actions")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.diagnose_view = QPlainTextEdit()
        self.diagnose_view.setReadOnly(True)
        self.diagnose_view.setFont(mono)
        self.diagnose_view.setAccessibleName("Diagnose output")
        self.diagnose_view.setPlaceholderText(
            "Diagnose runs the check once more, in depth, and lists what it found."
        )
        self.tabs.addTab(self.diagnose_view, "Diagnose")
        logs = QWidget()
        llay = QVBoxLayout(logs)
        llay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.log_status = QLabel("Logs load when this tab is open.")
        self.log_status.setStyleSheet(f"color: {self.theme.text_dim};")
        row.addWidget(self.log_status, 1)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(True)
        self.follow.setAccessibleName("Follow new log lines")
        row.addWidget(self.follow)
        llay.addLayout(row)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setFont(mono)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setAccessibleName("Service log")
        llay.addWidget(self.log_view)
        self._logs_tab = self.tabs.addTab(logs, "Logs")
        self.tabs.currentChanged.connect(self.on_tabs_current_changed)
        self.root.addWidget(self.tabs, 1)
        self._log_lines: list[str] = []

    # -- what is watched ----------------------------------------------------------------

    def resources(self) -> list[str]:
        keys = [f"service:{self.service}"]
        if self.is_admin and self._logs_allowed() and self.tabs.currentIndex() == self._logs_tab:
            keys.append(f"logs:{self.service}")
        return keys

    def _compact(self) -> None:
        """At its default size the window does not open on a large empty Actions list:
        the tabs start a few lines tall (they grow with the window; a size the user chose
        is kept)."""
        if self._remembered or self.tabs.currentIndex() != 0:
            return
        extra = self.tabs.height() - COMPACT_TABS
        if extra > 24:
            self.resize(self.width(), max(self.minimumHeight(), self.height() - extra))

    def _logs_allowed(self) -> bool:
        return cannot(self.can, "logs", self.label) is None

    def on_tabs_current_changed(self, _index: int) -> None:
        self.rewatch()

    # -- render -------------------------------------------------------------------------

    def show_state(self, state: StatusState) -> None:
        admin = self.is_admin
        self.tabs.setVisible(admin)
        if admin and not self._admin_built:
            self._build_actions()
        live = live_services(state).get(self.service)
        entry = self.show_entry(self.pane, f"service:{self.service}", "the check history")
        detail = entry.value if entry is not None else None
        current = live or (detail.service if isinstance(detail, ServiceDetail) else None)
        if current is not None:
            self._pill.set(
                f"{formats.STATUS_GLYPHS[current.status]} {current.status.value}",
                current.status.value,
            )
            self._set_label(service_title(current))
            self.summary.setText(self._summary(current))
        if not admin and state.role is not None:
            self.pane.show_empty("Service details are visible to admins only.")
            return
        if isinstance(detail, ServiceDetail):
            self._draw(detail)
            self.pane.show_content()
            if not self._compacted:
                self._compacted = True
                QTimer.singleShot(0, self._compact)
            if admin and detail.actions != self.can:
                self.can = detail.actions
                if self.tabs.currentIndex() == self._logs_tab and not self._logs_allowed():
                    self.tabs.setCurrentIndex(0)  # rewatches without the logs
        if admin:
            self._render_audit(state)
            self._render_logs()

    @property
    def label(self) -> str:
        return self.heading.text()

    def _set_label(self, label: str) -> None:
        """The service's label (``DB``), never its id, in the heading and the title bar."""
        if self.heading.text() != label:
            self.heading.setText(label)
            self.setWindowTitle(f"{label} — {formats.WINDOW_TITLES['services']} — Studio Status")
            self.setAccessibleName(label)

    def _summary(self, svc: ServiceHealth) -> str:
        lines = service_lines(svc, self.now())
        if svc.kind:
            lines.append(f"checked by the {svc.kind} checker")
        return " · ".join(lines)

    def _draw(self, detail: ServiceDetail) -> None:
        now = self.now()
        start = now - timedelta(hours=HOURS)
        history = [r for r in detail.history if r.checked_at >= start]
        if history and history[0].checked_at - start > timedelta(hours=1):
            # less than a day recorded: draw what there is, not 23 h of empty axis
            span = now - history[0].checked_at
            start = history[0].checked_at - max(span * 0.04, timedelta(seconds=5))
        spans = history_spans(history, now)
        points = tuple(
            (r.checked_at, float(r.latency_ms)) for r in history if r.latency_ms is not None
        )
        checks = len(history)
        bad = sum(1 for r in history if r.status is not HealthStatus.HEALTHY)
        self.chart.set_data(
            ChartData(
                start=start,
                end=now,
                bands=(Band("Status", spans),),
                line=Line(points, " ms", color="processing"),
                empty_text=f"No checks in the last {PERIOD_LABELS['24h']}",
            )
        )
        since = formats.clock(history[0].checked_at) if history else "—"
        self.subtitle.setText(f"{checks} checks since {since} (last {HOURS} h) · {bad} not healthy")

    def on_chart_span_clicked(self, payload: object) -> None:
        if not isinstance(payload, tuple) or len(payload) != 3:
            return
        first, end, errors = payload
        since = formats.clock(first.checked_at, seconds=True)
        text = (
            f"{first.status.value.capitalize()} from {since}"
            f" to {formats.clock(end, seconds=True)}"
            f" ({duration((end - first.checked_at).total_seconds())})"
        )
        if errors:
            text += " — " + "; ".join(errors)
        self.selection.setText(text)

    # -- actions (admins only) ----------------------------------------------------------

    def _build_actions(self) -> None:
        self._admin_built = True
        for action, text in ACTION_TEXTS.items():
            button = self.add_action(
                text, partial(self.on_action_clicked, action), f"{text.rstrip('…')} {self.label}"
            )
            self.action_buttons[action] = button
        self.add_link("uptime")

    def on_action_clicked(self, action: str) -> None:
        if action == "restart":
            self._ask_restart()
            return
        if action == "diagnose":
            self.tabs.setCurrentWidget(self.diagnose_view)
        self._request(action)

    def _request(self, action: str) -> None:
        details = self.ctx.details
        if details is not None:
            details.request_action(self.service, action)

    def _ask_restart(self) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Restart service")
        box.setText(f"Restart {self.label}?")
        box.setInformativeText(
            "Running work on this service may be interrupted. The restart is recorded in the "
            "audit trail."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(self.on_confirm_finished)
        self._confirm = box
        box.open()  # not exec(): no nested event loop under qasync (STYLE.md pitfall 1)

    def on_confirm_finished(self, result: int) -> None:
        box, self._confirm = self._confirm, None
        if box is not None:
            box.deleteLater()
        if result == QMessageBox.StandardButton.Yes.value:
            self._request("restart")

    def _render_audit(self, state: StatusState) -> None:
        entry = state.details.get(actions_key(self.service))
        records = entry.value if entry is not None and isinstance(entry.value, tuple) else ()
        texts = [_record_text(r) for r in records if isinstance(r, ActionRecord)]
        if not texts:
            texts = ["No actions from this desktop yet."]
        if [self.audit.item(i).text() for i in range(self.audit.count())] != texts:
            self.audit.clear()
            for text in texts:
                self.audit.addItem(QListWidgetItem(text))
        diagnose = next(
            (r for r in records if isinstance(r, ActionRecord) and r.action == "diagnose"), None
        )
        if diagnose is not None:
            found = diagnose.data.get("output")
            if diagnose.error:
                text = plain_error(diagnose.error, "the diagnosis")
            elif isinstance(found, dict | list) and found:
                took = diagnose.data.get("duration_ms")
                head = f"Diagnosis at {formats.clock(diagnose.at, seconds=True)}" + (
                    f", took {took} ms" if took is not None else ""
                )
                text = "\n".join([head, *diagnose_findings(found)])
            else:
                text = diagnose.output or "The diagnosis found nothing to report."
            if self.diagnose_view.toPlainText() != text:
                self.diagnose_view.setPlainText(text)
        running = {
            r.action for r in records if isinstance(r, ActionRecord) and r.output == "running…"
        }
        for action, button in self.action_buttons.items():
            why = cannot(self.can, action, self.label)
            button.setEnabled(action not in running and why is None)
            button.setToolTip(why or "")
        why = cannot(self.can, "logs", self.label)
        self.tabs.setTabEnabled(self._logs_tab, why is None)
        self.tabs.setTabToolTip(self._logs_tab, why or "")

    def _render_logs(self) -> None:
        key = f"logs:{self.service}"
        if self.tabs.currentIndex() != self._logs_tab:
            return
        entry = self.entry(key)
        problem = entry_problem(entry, "logs", self.ctx.feed.state.role)
        if isinstance(entry.value, LogLines):
            lines = entry.value.lines
            where = f" from {entry.value.source}" if entry.value.source else ""
            fetched = formats.clock(entry.fetched_at, seconds=True) if entry.fetched_at else ""
            self.log_status.setText(
                f"Last {len(lines)} lines{where} · updated {fetched}"
                + (f" · {problem}" if problem else "")
            )
            if lines != self._log_lines:
                self._show_lines(lines)
        elif problem:
            self.log_status.setText(problem)
        else:
            self.log_status.setText("Loading logs…")

    def _show_lines(self, lines: list[str]) -> None:
        bar = self.log_view.verticalScrollBar()
        keep = bar.value()
        self._log_lines = list(lines)
        self.log_view.setPlainText("\n".join(lines))
        bar.setValue(bar.maximum() if self.follow.isChecked() else keep)


def cannot(can: ServiceActions | None, action: str, label: str) -> str | None:
    """Why ``action`` is not offered for the service, or None when it is. An action the hub
    cannot perform is shown disabled with this reason, not offered and then refused."""
    if can is None:
        return None
    if action in ("recheck", "diagnose") and not getattr(can, action):
        return f"{label} reports its own state to the hub; the hub does not check it."
    if action == "restart" and not can.restart:
        return (
            f"The hub has no restart command for {label}. An admin can set one "
            "(restart = [...]) in the hub's configuration."
        )
    if action == "logs" and not can.logs:
        return (
            f"The hub has no log file for {label}. An admin can set one "
            "(log_file = ...) in the hub's configuration."
        )
    return None


def _record_text(r: ActionRecord) -> str:
    at = formats.clock(r.at, seconds=True)
    if r.output == "running…" and not r.ok and r.error is None:
        return f"{at}  ⏳ {r.action} — running…"
    mark = "✓" if r.ok else "✗"
    text = f"{at}  {mark} {r.action.replace('-', ' ')}"
    reason = plain_error(r.error, f"the {r.action.replace('-', ' ')}") if r.error else None
    first = (reason or r.output or "").strip().splitlines()
    output = r.data.get("output")
    if r.error is None and isinstance(output, dict):  # diagnose: say what it found
        found = output.get("status") or output.get("result")
        took = r.data.get("duration_ms")
        text += " — " + " · ".join(
            b
            for b in (
                str(found) if found else "",
                f"{took} ms" if took is not None else "",
                "output in the Diagnose tab",
            )
            if b
        )
    elif first:
        text += f" — {first[0][:160]}"
    if r.audit:
        text += f"  (audit #{r.audit})"
    return text
