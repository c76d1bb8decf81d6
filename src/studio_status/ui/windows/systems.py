"""External systems (seed 004): a tab per system with its latest pushed snapshot.

Per system: availability, "Last updated …" coloured by staleness (the hub says when a
snapshot is stale), metric cards (CPU / GPU / memory utilisation, jobs, users, login nodes),
the compute groups (partitions or node types), queues and filesystems, and the system's
outages and reservations. The list comes from ``GET /api/v1/status/systems``; the shown
tab's data from ``/api/v1/status/{system}/latest``, refetched by the client layer when
that system pushes a snapshot or an outage changes.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.state import StatusState
from studio_status.protocol import HealthStatus, ProtocolError, parse_model
from studio_status.protocol.systems import SystemLatest, SystemSnapshotIn, SystemSummary
from studio_status.ui import formats
from studio_status.ui.widgets import MetricCard, Pill, StatePane

from .base import DetailWindow, WindowContext
from .texts import duration

__all__ = ["SystemsWindow"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _when(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone().strftime("%d %b %H:%M")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _table(name: str, headers: list[str], rows: list[list[str]]) -> QTreeWidget:
    table = QTreeWidget()
    table.setAccessibleName(name)
    table.setRootIsDecorated(False)
    table.setAlternatingRowColors(True)
    table.setHeaderLabels(headers)
    table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for row in rows:
        table.addTopLevelItem(QTreeWidgetItem(row))
    height = table.header().sizeHint().height() + 6
    height += sum(table.sizeHintForRow(0) for _ in rows) if rows else 0
    table.setFixedHeight(max(height, 40))
    return table


class _SystemPage(QScrollArea):
    """One system's tab; rebuilt when its data changes."""

    def __init__(self, window: SystemsWindow, name: str) -> None:
        super().__init__()
        self.window_ = window
        self.name = name
        self.shown: object = None
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setAccessibleName(f"System {name}")
        self.cards: dict[str, MetricCard] = {}
        self.updated = QLabel()

    def fill(self, latest: SystemLatest, now_text: str) -> None:
        theme = self.window_.theme
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 6, 6, 0)
        head = QGridLayout()
        try:
            snap: SystemSnapshotIn | None = parse_model(
                SystemSnapshotIn, latest.snapshot, "snapshot"
            )
        except ProtocolError:
            snap = None
        availability = snap.availability.value if snap is not None else "unknown"
        head.addWidget(
            Pill(
                f"{formats.STATUS_GLYPHS[latest.status]} {availability}",
                latest.status.value,
                theme=theme,
            ),
            0,
            0,
        )
        self.updated = QLabel(now_text)
        color = theme.degraded if latest.stale else theme.text_dim
        self.updated.setStyleSheet(
            f"color: {color};" + ("font-weight: 600;" if latest.stale else "")
        )
        self.updated.setAccessibleName(now_text)
        head.addWidget(self.updated, 0, 1)
        head.setColumnStretch(2, 1)
        lay.addLayout(head)
        if snap is not None and snap.message:
            lay.addWidget(QLabel(snap.message))
        self.cards = {}
        grid = QGridLayout()
        if snap is not None:
            u = snap.utilization
            logins = snap.login_nodes
            avail = sum(1 for n in logins if n.available)
            metrics = [
                ("CPU utilisation", _pct(u.cpu_percent), ""),
                ("GPU utilisation", _pct(u.gpu_percent), ""),
                ("Memory", _pct(u.memory_percent), ""),
                ("Jobs running", _num(snap.jobs.running), f"{_num(snap.jobs.pending)} pending"),
                ("Active users", _num(snap.active_users), ""),
                (
                    "Login nodes",
                    f"{avail}/{len(logins)}" if logins else "—",
                    f"{sum(n.users or 0 for n in logins)} users" if logins else "",
                ),
            ]
            for i, (title, value, caption) in enumerate(metrics):
                card = MetricCard(title, theme=theme)
                card.set_value(value, caption)
                self.cards[title] = card
                grid.addWidget(card, i // 3, i % 3)
            lay.addLayout(grid)
            if snap.compute:
                lay.addWidget(QLabel("<b>Compute</b>"))
                lay.addWidget(
                    _table(
                        "Compute groups",
                        ["Group", "Nodes", "Available", "Down", "Reserved", "Node", "CPU", "GPU"],
                        [
                            [
                                c.name,
                                _num(c.nodes_total),
                                _num(c.nodes_available),
                                _num(c.nodes_down),
                                _num(c.nodes_reserved),
                                " · ".join(
                                    x
                                    for x in (
                                        f"{c.cores_per_node} cores" if c.cores_per_node else "",
                                        f"{c.memory_gb_per_node:g} GB"
                                        if c.memory_gb_per_node
                                        else "",
                                        f"{c.gpus_per_node}× {c.gpu_model}"
                                        if c.gpus_per_node
                                        else "",
                                    )
                                    if x
                                ),
                                _pct(c.cpu_percent),
                                _pct(c.gpu_percent),
                            ]
                            for c in snap.compute
                        ],
                    )
                )
            if snap.queues:
                lay.addWidget(QLabel("<b>Queues</b>"))
                lay.addWidget(
                    _table(
                        "Queues",
                        ["Queue", "Running", "Pending", "Users"],
                        [
                            [
                                q.name,
                                _num(q.running_jobs),
                                _num(q.pending_jobs),
                                _num(q.active_users),
                            ]
                            for q in snap.queues
                        ],
                    )
                )
            if snap.filesystems:
                lay.addWidget(QLabel("<b>Filesystems</b>"))
                lay.addWidget(
                    _table(
                        "Filesystems",
                        ["Filesystem", "State", "Used", "Capacity"],
                        [
                            [
                                f.name,
                                "down" if not f.available else "degraded" if f.degraded else "ok",
                                _pct(f.utilization_percent),
                                "—" if f.capacity_tb is None else f"{f.capacity_tb:g} TB",
                            ]
                            for f in snap.filesystems
                        ],
                    )
                )
        else:
            lay.addWidget(QLabel("The last snapshot could not be read."))
        lay.addWidget(QLabel("<b>Outages</b>"))
        if latest.outages:
            lay.addWidget(
                _table(
                    "Outages",
                    ["Severity", "Status", "Title", "Since", "Until"],
                    [
                        [
                            o.severity.value,
                            o.status.value,
                            o.title,
                            _when(o.start_time),
                            _when(o.end_time or o.estimated_resolution),
                        ]
                        for o in latest.outages
                    ],
                )
            )
        else:
            lay.addWidget(QLabel("No current or scheduled outages."))
        lay.addWidget(QLabel("<b>Reservations</b>"))
        if latest.reservations:
            lay.addWidget(
                _table(
                    "Reservations",
                    ["Name", "From", "To", "Nodes", "Partition"],
                    [
                        [
                            r.name,
                            r.start_time.astimezone().strftime("%d %b %H:%M"),
                            r.end_time.astimezone().strftime("%d %b %H:%M"),
                            _num(r.node_count),
                            r.partition or "—",
                        ]
                        for r in latest.reservations
                    ],
                )
            )
        else:
            lay.addWidget(QLabel("No upcoming reservations."))
        lay.addStretch(1)
        self.setWidget(body)


class SystemsWindow(DetailWindow):
    """Attributes:
    tabs: a tab per system; pages: the tab pages by system name.
    """

    kind = "systems"
    title = formats.WINDOW_TITLES["systems"]
    default_size = (960, 680)

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.pages: dict[str, _SystemPage] = {}
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("External systems")
        self.tabs.currentChanged.connect(self.on_tabs_current_changed)
        self.pane = StatePane(self.tabs, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)

    def current(self) -> str | None:
        page = self.tabs.currentWidget()
        return page.name if isinstance(page, _SystemPage) else None

    def resources(self) -> list[str]:
        current = self.current()
        return ["systems"] + ([f"system:{current}"] if current else [])

    def on_tabs_current_changed(self, _index: int) -> None:
        self.rewatch()

    def show_state(self, state: StatusState) -> None:
        entry = self.show_entry(self.pane, "systems", "the external systems")
        if entry is None or not isinstance(entry.value, tuple):
            return
        systems = [s for s in entry.value if isinstance(s, SystemSummary)]
        if not systems:
            self.pane.show_empty(
                "No external systems yet. A system (an HPC cluster, a render farm) appears "
                "here as soon as its collector sends this hub its first report."
            )
            return
        self._sync_tabs(systems)
        now = self.now()
        for summary in systems:
            page = self.pages[summary.system]
            i = self.tabs.indexOf(page)
            glyph = formats.STATUS_GLYPHS[summary.status]
            self.tabs.setTabText(i, f"{glyph} {summary.system}")
            self.tabs.setTabToolTip(
                i, f"{summary.status.value}" + (" · stale" if summary.stale else "")
            )
        current = self.current()
        if current is not None:
            latest = self.entry(f"system:{current}")
            page = self.pages[current]
            if isinstance(latest.value, SystemLatest):
                text = f"Last updated {formats.ago(latest.value.received_at, now)}"
                if latest.value.stale:
                    text += f" — stale ({duration(latest.value.age_seconds)} old)"
                if latest.value is not page.shown:
                    page.shown = latest.value
                    page.fill(latest.value, text)
                else:
                    page.updated.setText(text)
        bad = sum(1 for s in systems if s.status is not HealthStatus.HEALTHY)
        stale = sum(1 for s in systems if s.stale)
        self.subtitle.setText(
            f"{len(systems)} systems"
            + (f" · {bad} not healthy" if bad else "")
            + (f" · {stale} stale" if stale else "")
        )
        self.pane.show_content()

    def _sync_tabs(self, systems: list[SystemSummary]) -> None:
        names = [s.system for s in systems]
        if names == list(self.pages):
            return
        self.tabs.blockSignals(True)
        for name in list(self.pages):
            if name not in names:
                page = self.pages.pop(name)
                self.tabs.removeTab(self.tabs.indexOf(page))
        for name in names:
            if name not in self.pages:
                page = _SystemPage(self, name)
                self.pages[name] = page
                self.tabs.addTab(page, name)
        self.tabs.blockSignals(False)
        self.rewatch()
