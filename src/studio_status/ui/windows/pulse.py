"""Studio pulse pieces with no other home (seed 002): project progress and disk health.

Project bars use the hub's colour (green > 75 %, yellow 50–75 %, red < 50 % or blocked) and
the seed's "8/10" fractions; disk gauges turn yellow at 80 % and red at 90 % (the hub's
thresholds, which it sends). Both come from ``/dashboard/widgets/…`` through ``details``,
refetched when a job finishes (project counts move) and on F5.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio_status.client.state import StatusState
from studio_status.protocol.dashboard import (
    DiskHealth,
    DiskVolume,
    ProgressColour,
    ProjectProgress,
)
from studio_status.ui import formats
from studio_status.ui.widgets import Bar, Gauge, StatePane

from .base import DetailWindow, WindowContext, entry_problem
from .texts import size_text

__all__ = ["PulseWindow"]

_PROJECT_COLOR = {
    ProgressColour.GREEN: "healthy",
    ProgressColour.YELLOW: "degraded",
    ProgressColour.RED: "down",
}
_DISK_COLOR = {"ok": "healthy", "warning": "degraded", "critical": "down", "unknown": "unknown"}
PROJECTS = "widget:project-progress"
DISK = "widget:disk-health"


def disk_lines(vol: DiskVolume) -> list[str]:
    """Where the figures come from and what they are, adding up to the whole volume: what
    is neither used nor free is reserved (for the system, as ``df`` does)."""
    where = f"{vol.path}" + (f" (on the volume at {vol.mount})" if vol.mount else "")
    lines = [where]
    if vol.total_bytes is not None and vol.used_bytes is not None and vol.free_bytes is not None:
        reserved = max(0, vol.total_bytes - vol.used_bytes - vol.free_bytes)
        parts = [f"{size_text(vol.used_bytes)} used", f"{size_text(vol.free_bytes)} free"]
        if reserved >= vol.total_bytes * 0.001:
            parts.append(f"{size_text(reserved)} reserved for the system")
        lines.append(" · ".join(parts))
        lines.append(f"of {size_text(vol.total_bytes)} in all")
    return lines


class PulseWindow(DetailWindow):
    """Attributes:
    bars: project bars by project id; gauges: disk gauges by path.
    """

    kind = "pulse"
    title = formats.WINDOW_TITLES["pulse"]
    default_size = (820, 520)

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.add_link("jobs")
        self.add_link("activity")
        self.bars: dict[str, Bar] = {}
        self.gauges: dict[str, Gauge] = {}
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("<b>Project progress</b> (approved / total, last 30 d)"))
        self._projects = QGridLayout()
        self._projects.setColumnStretch(1, 1)
        lay.addLayout(self._projects)
        self.projects_note = QLabel()
        self.projects_note.setStyleSheet(f"color: {self.theme.text_dim};")
        lay.addWidget(self.projects_note)
        lay.addSpacing(12)
        lay.addWidget(QLabel("<b>Disk health</b> (warning at 80 %, critical at 90 %)"))
        self._disks = QHBoxLayout()
        lay.addLayout(self._disks)
        self.disk_note = QLabel()
        self.disk_note.setStyleSheet(f"color: {self.theme.text_dim};")
        lay.addWidget(self.disk_note)
        lay.addStretch(1)
        self.pane = StatePane(body, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)
        self._shown: tuple[object, object] = (None, None)

    def resources(self) -> list[str]:
        # disk paths are infrastructure: only admins may see them, others are told so
        return [PROJECTS, DISK] if self.is_admin else [PROJECTS]

    def show_state(self, state: StatusState) -> None:
        projects, disk = self.entry(PROJECTS), self.entry(DISK)
        if projects.value is None and disk.value is None:
            self.show_entry(self.pane, PROJECTS, "the studio pulse")
            return
        if (projects.value, disk.value) != self._shown:
            self._shown = (projects.value, disk.value)
            self._fill_projects(projects.value)
            self._fill_disks(disk.value)
        self.projects_note.setText(entry_problem(projects, "project progress", state.role) or "")
        if not self.is_admin and state.role is not None:
            self.disk_note.setText("Disk health is visible to admins.")
        else:
            self.disk_note.setText(entry_problem(disk, "disk health", state.role) or "")
        self.pane.show_content()

    def _fill_projects(self, value: object) -> None:
        while self._projects.count():
            item = self._projects.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.bars = {}
        rows = (
            [p for p in value if isinstance(p, ProjectProgress)] if isinstance(value, tuple) else []
        )
        for i, p in enumerate(rows):
            name = QLabel(p.project_id + (" (blocked)" if p.blocked else ""))
            bar = Bar(theme=self.theme, height=10)
            color = _PROJECT_COLOR[p.colour]
            bar.set_value(p.percent, color)
            bar.setAccessibleName(f"{p.project_id}: {p.approved}/{p.total}, {p.percent:.0f}%")
            frac = QLabel(f"{p.approved}/{p.total} · {p.percent:.0f}%")
            extra = QLabel(
                " · ".join(
                    t
                    for t in (
                        f"{p.active} active" if p.active else "",
                        f"{p.failed} failed" if p.failed else "",
                    )
                    if t
                )
            )
            extra.setStyleSheet(f"color: {self.theme.text_dim};")
            for col, widget in enumerate((name, bar, frac, extra)):
                self._projects.addWidget(widget, i, col)
            self.bars[p.project_id] = bar
        if not rows and isinstance(value, tuple):
            self.projects_note.setText("No projects with jobs in the last 30 d.")
        done = sum(p.approved for p in rows)
        total = sum(p.total for p in rows)
        self.subtitle.setText(f"{len(rows)} projects · {done}/{total} jobs done")

    def _fill_disks(self, value: object) -> None:
        while self._disks.count():
            item = self._disks.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.gauges = {}
        if not isinstance(value, DiskHealth):
            return
        for vol in value.volumes:
            gauge = Gauge(theme=self.theme, size=120)
            text = "—" if vol.used_percent is None else f"{vol.used_percent:.0f}%"
            gauge.set_value(vol.used_percent, _DISK_COLOR[vol.level], text, vol.level)
            gauge.setAccessibleName(f"{vol.path}: {text} used, {vol.level}")
            holder = QWidget()
            inner = QVBoxLayout(holder)
            inner.addWidget(gauge)
            lines = [f"<b>{html.escape(vol.label or vol.path)}</b>"]
            lines += [html.escape(line) for line in disk_lines(vol)]
            if vol.error:
                lines.append(
                    f"<span style='color:{self.theme.down}'>{html.escape(vol.error)}</span>"
                )
            caption = QLabel("<br>".join(lines))
            caption.setToolTip(vol.path)
            inner.addWidget(caption)
            self._disks.addWidget(holder)
            self.gauges[vol.path] = gauge
        self._disks.addStretch(1)
