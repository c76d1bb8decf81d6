"""Job progress (seed 002 active tasks, seed 000 jobs / workflows): what runs, waits, ended.

Running jobs with name, status badge, progress bar, elapsed, ETA and worker; queued jobs with
their position; recently completed ones with duration and result; workflows with their
stage; the cumulative ETA in the subtitle, saying what it covers. A job its source cannot
vouch for now is flagged stalled (since when, and why) in place of an ETA: its numbers are
old, not live. Live rows come from the store; "recently
completed" from ``GET /api/v1/jobs`` (key ``jobs``, refetched by the client layer when a job
leaves the live set). Every job's progress is a detail topic (``job_progress``), subscribed
while this window is open and released when it closes (seed 003's light / detail split).
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.details import JobsList
from studio_status.client.state import StatusState
from studio_status.protocol import JobInfo, JobStatus, Topic, WorkflowInfo
from studio_status.ui import formats
from studio_status.ui.widgets import Bar, StatePane

from .base import DetailWindow, WindowContext, entry_problem
from .texts import duration, elapsed

__all__ = ["JobsWindow", "WorkflowsWindow"]

_RESULT = {
    JobStatus.COMPLETED: ("✓ completed", "healthy"),
    JobStatus.FAILED: ("✗ failed", "down"),
    JobStatus.CANCELLED: ("– cancelled", "unknown"),
    JobStatus.LOST: ("? lost", "degraded"),
    JobStatus.RUNNING: ("⚡ running", "processing"),
    JobStatus.QUEUED: ("… queued", "unknown"),
}


class _Table(QTreeWidget):
    """A flat, keyboard-navigable table whose rows are updated in place by key."""

    def __init__(self, name: str, headers: list[str]) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self.setHeaderLabels(headers)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QTreeWidget.SelectionMode.SingleSelection)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.header().setStretchLastSection(True)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.rows: dict[str, QTreeWidgetItem] = {}

    def sync(self, rows: list[tuple[str, list[str]]]) -> list[QTreeWidgetItem]:
        """Make the table show ``rows`` (key, texts) in order; returns the items."""
        keys = [k for k, _ in rows]
        for key in list(self.rows):
            if key not in keys:
                item = self.rows.pop(key)
                self.takeTopLevelItem(self.indexOfTopLevelItem(item))
        items = []
        for i, (key, texts) in enumerate(rows):
            found = self.rows.get(key)
            if found is None:
                item = QTreeWidgetItem(texts)
                self.rows[key] = item
                self.insertTopLevelItem(i, item)
            else:
                item = found
                if self.indexOfTopLevelItem(item) != i:
                    self.takeTopLevelItem(self.indexOfTopLevelItem(item))
                    self.insertTopLevelItem(i, item)
                for col, text in enumerate(texts):
                    if item.text(col) != text:
                        item.setText(col, text)
            items.append(item)
        rows_h = sum(self.sizeHintForRow(0) if self.topLevelItemCount() else 0 for _ in rows)
        self.setFixedHeight(self.header().height() + max(rows_h, 24) + 6)
        return items

    def texts(self) -> list[list[str]]:
        out = []
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None:
                out.append([item.text(c) for c in range(self.columnCount())])
        return out


class JobsWindow(DetailWindow):
    """Attributes:
    running, queued, recent, workflows: the four tables; bars: progress bars by job id.
    """

    kind = "jobs"
    title = formats.WINDOW_TITLES["jobs"]
    default_size = (900, 620)
    #: the sections, top to bottom
    sections: ClassVar[tuple[str, ...]] = ("Running", "Queued", "Recently completed", "Workflows")

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.add_link("activity")
        self.add_link("pulse")
        self.bars: dict[str, Bar] = {}
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.setSpacing(6)
        self.headings: dict[str, QLabel] = {}
        self.running = _Table(
            "Running jobs", ["Job", "Project", "Status", "Progress", "", "Elapsed", "ETA", "Worker"]
        )
        self.running.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        self.running.setColumnWidth(3, 150)
        self.queued = _Table("Queued jobs", ["#", "Job", "Project", "Submitted by", "Waiting"])
        self.recent = _Table(
            "Recently completed jobs", ["Job", "Project", "Result", "Duration", "Ended", "Note"]
        )
        self.workflows = _Table("Workflows", ["Workflow", "Stage", "Status", "Jobs"])
        self.recent_note = QLabel()
        self.recent_note.setStyleSheet(f"color: {self.theme.text_dim};")
        tables = {
            "Running": self.running,
            "Queued": self.queued,
            "Recently completed": self.recent,
            "Workflows": self.workflows,
        }
        for name in self.sections:
            label = QLabel(f"<b>{name}</b>")
            self.headings[name] = label
            lay.addWidget(label)
            lay.addWidget(tables[name])
            if name == "Recently completed":
                lay.addWidget(self.recent_note)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        self.pane = StatePane(scroll, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)

    def resources(self) -> list[str]:
        return ["jobs"]

    def topics(self) -> list[str]:
        return [Topic.JOB_PROGRESS]

    def show_state(self, state: StatusState) -> None:
        now = self.now()
        entry = self.entry("jobs")
        listed = entry.value if isinstance(entry.value, JobsList) else None
        jobs = dict(state.jobs)
        if not jobs and listed is not None and state.footer is None:
            jobs = {j.id: j for j in listed.active}
        running = sorted(
            (j for j in jobs.values() if j.status is JobStatus.RUNNING),
            key=lambda j: j.started_at or now,
        )
        queued = sorted(
            (j for j in jobs.values() if j.status is JobStatus.QUEUED),
            key=lambda j: (j.queue_position is None, j.queue_position or 0, j.submitted_at or now),
        )
        recent = [j for j in (listed.recent if listed else []) if j.id not in jobs]
        workflows = list(state.workflows.values())
        if state.footer is None and not jobs and listed is None:
            if state.connection.value == "offline":
                self.pane.show_error("The hub cannot be reached, and nothing is known yet.")
            else:
                self.pane.show_loading("Waiting for the hub…")
            return
        self._fill_running(running, now)
        self.queued.sync(
            [
                (
                    j.id,
                    [
                        str(j.queue_position) if j.queue_position is not None else "—",
                        label(j),
                        j.project or "—",
                        j.submitted_by or "—",
                        _stalled(j, now) or elapsed(j.submitted_at, now),
                    ],
                )
                for i, j in enumerate(queued)
            ]
        )
        self.recent.sync([(j.id, _recent_row(j, now)) for j in recent[:20]])
        self.workflows.sync([(w.id, _workflow_row(w)) for w in workflows])
        for name, table, count in (
            ("Running", self.running, len(running)),
            ("Queued", self.queued, len(queued)),
            ("Recently completed", self.recent, len(recent[:20])),
            ("Workflows", self.workflows, len(workflows)),
        ):
            self.headings[name].setText(f"<b>{name}</b> ({count})")
            table.setVisible(count > 0)
        problem = entry_problem(entry, "recently completed jobs", self.ctx.feed.state.role)
        if problem:
            self.recent_note.setText(problem)
        elif not recent:
            self.recent_note.setText(
                "Loading…" if entry.loading and listed is None else "No finished jobs yet."
            )
        else:
            self.recent_note.setText("")
        self.recent_note.setVisible(bool(self.recent_note.text()))
        self.subtitle.setText(_subtitle(state, len(running), len(queued)))
        if not running and not queued and not recent and not workflows:
            self.pane.show_empty(
                "No jobs right now: nothing runs, waits or has finished lately. Jobs appear "
                "here as soon as the platform starts them."
            )
        else:
            self.pane.show_content()

    def _fill_running(self, running: list[JobInfo], now: object) -> None:
        rows = []
        for j in running:
            pct = "—" if j.progress is None else f"{j.progress:.0f}%"
            stalled = _stalled(j, now)
            eta = duration(j.eta_seconds) if j.eta_seconds is not None and not stalled else "—"
            rows.append(
                (
                    j.id,
                    [
                        label(j),
                        j.project or "—",
                        stalled or "⚡ running",
                        "",
                        pct,
                        elapsed(j.started_at, now),  # type: ignore[arg-type]
                        eta,
                        j.worker or "—",
                    ],
                )
            )
        items = self.running.sync(rows)
        for j, item in zip(running, items, strict=True):
            item.setToolTip(2, j.stall_reason or "")
            item.setToolTip(4, _NO_PROGRESS.get(j.type or "", "") if j.progress is None else "")
        for key in list(self.bars):
            if key not in self.running.rows:
                del self.bars[key]
        for j, item in zip(running, items, strict=True):
            bar = self.bars.get(j.id)
            if bar is None or self.running.itemWidget(item, 3) is not bar:
                bar = Bar(theme=self.theme)
                self.bars[j.id] = bar
                self.running.setItemWidget(item, 3, bar)
            bar.set_value(j.progress)
            item.setData(3, Qt.ItemDataRole.AccessibleTextRole, bar.accessibleName())


# why a running job may show no progress, by source type
_NO_PROGRESS = {
    "comfyui": "ComfyUI sends a prompt's progress only to the client that queued it; the"
    " Studio Status relay extension for ComfyUI forwards it to the hub.",
}


def label(j: JobInfo) -> str:
    """A job's name as its source gave it, else its type and id."""
    return j.name or f"{j.type or 'job'} · {j.id}"


def _stalled(j: JobInfo, now: object) -> str | None:
    if j.stalled_since is None:
        return None
    return f"⚠ stalled, last heard {formats.ago(j.stalled_since, now)}"  # type: ignore[arg-type]


def _recent_row(j: JobInfo, now: object) -> list[str]:
    text, _color = _RESULT.get(j.status, (j.status.value, "unknown"))
    if j.status is JobStatus.COMPLETED and j.cached:
        text = "✓ cached (nothing ran)"
    took = (
        duration((j.finished_at - j.started_at).total_seconds())
        if j.finished_at and j.started_at
        else "—"
    )
    ended = formats.ago(j.finished_at, now) if j.finished_at else "—"  # type: ignore[arg-type]
    return [label(j), j.project or "—", text, took, ended, j.error or ""]


def _workflow_row(w: WorkflowInfo) -> list[str]:
    text, _color = _RESULT.get(w.status, (w.status.value, "unknown"))
    return [w.name, w.stage or "—", text, str(len(w.job_ids))]


def _subtitle(state: StatusState, running: int, queued: int) -> str:
    """Counts, overall progress and the ETA with what it covers: the hub's number counts
    only running jobs while any is queued (a queued job has no run time to go by)."""
    footer = state.footer
    parts = [f"{running} running", f"{queued} queued"]
    if footer is not None:
        jobs = footer.jobs
        if jobs.stalled:
            parts.append(f"{jobs.stalled} stalled")
        if jobs.overall_progress is not None and running:
            parts.append(f"{jobs.overall_progress}% overall")
        if jobs.eta_seconds is not None and running:
            eta = duration(jobs.eta_seconds)
            if jobs.eta_covers == "running" or (jobs.eta_covers is None and queued):
                parts.append(f"running jobs done in about {eta} (queued ones not counted)")
            else:
                parts.append(f"all done in about {eta}")
    return " · ".join(parts)


class WorkflowsWindow(JobsWindow):
    """The workflows segment's window: the same live tables, workflows at the top (what the
    segment's tooltip promises is what the window shows first)."""

    kind = "workflows"
    title = formats.WINDOW_TITLES["workflows"]
    sections = ("Workflows", "Running", "Queued", "Recently completed")
