"""Uptime timeline (seed 001, 4.3): a row per service of colour blocks over 24 h / 7 d / 30 d.

Data: ``GET /admin/health/uptime?period=…`` through ``details`` (key ``uptime:<period>``),
refetched by the client layer when a service changes status. Each row carries the 7-day and
30-day percentages (time-weighted, as the hub computes them: ``docs/uptime.md``). A click or
Enter on a down or degraded block shows its start, end, duration and the errors its checks
reported; hovering shows the time under the cursor.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.state import StatusState
from studio_status.protocol.uptime import OutageWindow, ServiceUptime, SpanState, UptimeReport
from studio_status.ui import formats
from studio_status.ui.widgets import Band, Chart, ChartData, Span, StatePane

from .base import DetailWindow, WindowContext
from .texts import PERIOD_LABELS, degraded_weight_text, duration, label_of, percent

__all__ = ["PERIODS", "UptimeWindow", "span_color"]

PERIODS = ("24h", "7d", "30d")
_COLORS = {
    SpanState.HEALTHY: "healthy",
    SpanState.DEGRADED: "degraded",
    SpanState.DOWN: "down",
    SpanState.UNKNOWN: "unknown",
    SpanState.MAINTENANCE: "processing",
    SpanState.NO_DATA: "separator",
}
_WORDS = {
    SpanState.NO_DATA: "no data (hub not running)",
    SpanState.MAINTENANCE: "maintenance",
}


def span_color(state: SpanState) -> str:
    return _COLORS[state]


def _fmt_time(at: datetime, period: str) -> str:
    local = at.astimezone()
    return local.strftime("%H:%M:%S" if period == "24h" else "%a %d %b %H:%M")


class UptimeWindow(DetailWindow):
    """Attributes:
    period: the shown period; chart: one band per service; table: percentages;
    outage: the selected block's details.
    """

    kind = "uptime"
    title = formats.WINDOW_TITLES["uptime"]
    default_size = (980, 560)
    admin_only = True

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.period = "24h"
        self.period_buttons: dict[str, QPushButton] = self.add_choices(
            [(PERIOD_LABELS[p], p) for p in PERIODS],
            self.period,
            self.set_period,
            lambda t: f"Show {t}",
        )

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        self.chart = Chart(self.theme)
        self.chart.setAccessibleName("Uptime timeline, one row per service")
        self.chart.span_clicked.connect(self.on_chart_span_clicked)
        lay.addWidget(self.chart)
        legend = QHBoxLayout()
        for state in (
            SpanState.HEALTHY,
            SpanState.DEGRADED,
            SpanState.DOWN,
            SpanState.UNKNOWN,
            SpanState.MAINTENANCE,
            SpanState.NO_DATA,
        ):
            color = getattr(self.theme, _COLORS[state])
            label = QLabel(f"<span style='color:{color}'>■</span> {_WORDS.get(state, state.value)}")
            legend.addWidget(label)
        legend.addStretch(1)
        lay.addLayout(legend)
        self.outage = QLabel(
            "Click a red or yellow block (or select it with the arrow keys "
            "and press Enter) to see that outage."
        )
        self.outage.setWordWrap(True)
        self.outage.setAccessibleName("Selected outage")
        self.outage.setMinimumHeight(64)
        self.outage.setStyleSheet(
            f"background: {self.theme.surface}; border-radius: 6px; padding: 8px;"
        )
        lay.addWidget(self.outage)
        self.table = QTreeWidget()
        self.table.setAccessibleName("Uptime percentages")
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(
            ["Service", "This period", *PERIOD_LABELS.values(), "Down", "Degraded"]
        )
        lay.addWidget(self.table, 1)
        self.pane = StatePane(body, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)

    def resources(self) -> list[str]:
        return [f"uptime:{self.period}"]

    def set_period(self, period: str) -> None:
        if period == self.period:
            return
        self.period = period
        self.period_buttons[period].setChecked(True)
        self.outage.setText("")
        self.rewatch()

    def show_state(self, state: StatusState) -> None:
        if not self.is_admin and state.role is not None:
            self.pane.show_empty("Uptime is visible to admins only.")
            return
        entry = self.show_entry(self.pane, f"uptime:{self.period}", "the uptime timeline")
        if entry is None:
            return
        report = entry.value
        if not isinstance(report, UptimeReport):
            return
        if not report.services:
            self.pane.show_empty(
                "This hub watches no services yet, so there is no uptime to show. An admin "
                "adds services to the hub's configuration."
            )
            return
        self._draw(report)
        self.pane.show_content()

    def _draw(self, report: UptimeReport) -> None:
        bands = []
        for svc in report.services:
            spans = tuple(self._span(svc, s.state, s.start, s.end) for s in svc.timeline or [])
            note = f"7 d {percent(svc.uptime_7d)} · 30 d {percent(svc.uptime_30d)}"
            bands.append(Band(self._label(svc.service), spans, note))
        self.chart.set_data(
            ChartData(
                start=report.start,
                end=report.end,
                bands=tuple(bands),
                empty_text="No uptime data yet",
            )
        )
        rows = [
            [
                self._label(svc.service),
                percent(svc.uptime_percent),
                percent(svc.uptime_24h),
                percent(svc.uptime_7d),
                percent(svc.uptime_30d),
                duration(svc.seconds.down) if svc.seconds.down else "—",
                duration(svc.seconds.degraded) if svc.seconds.degraded else "—",
            ]
            for svc in report.services
        ]
        current = [
            [self.table.topLevelItem(i).text(c) for c in range(7)]  # type: ignore[union-attr]
            for i in range(self.table.topLevelItemCount())
        ]
        if current != rows:
            self.table.clear()
            for row in rows:
                self.table.addTopLevelItem(QTreeWidgetItem(row))
        worst = min(
            (s.uptime_percent for s in report.services if s.uptime_percent is not None),
            default=None,
        )
        outages = sum(len(s.outages or []) for s in report.services)
        self.subtitle.setText(
            f"{PERIOD_LABELS.get(report.period, report.period)} · {len(report.services)} services"
            f" · lowest {percent(worst)} · {outages} outage{'s' if outages != 1 else ''} · "
            f"{degraded_weight_text(report.degraded_weight)}"
        )

    def _span(self, svc: ServiceUptime, state: SpanState, start: datetime, end: datetime) -> Span:
        words = _WORDS.get(state, state.value)
        label = (
            f"{self._label(svc.service)}: {words}\n{_fmt_time(start, self.period)} – "
            f"{_fmt_time(end, self.period)} ({duration((end - start).total_seconds())})"
        )
        payload: object = None
        if state in (SpanState.DOWN, SpanState.DEGRADED):
            outage = _outage_for(svc.outages or [], start, end)
            payload = (self._label(svc.service), outage, start, end, state)
            if outage is not None and outage.errors:
                label += "\n" + outage.errors[0].message
        return Span(start, end, _COLORS[state], label, payload)

    def _label(self, name: str) -> str:
        return label_of(self.ctx.feed.state, name)

    def on_chart_span_clicked(self, payload: object) -> None:
        if not isinstance(payload, tuple) or len(payload) != 5:
            return
        service, outage, start, end, state = payload
        if isinstance(outage, OutageWindow):
            start, end = outage.start, outage.end
        lines = [
            f"<b>{service}</b> — {_WORDS.get(state, state.value)}"
            + (" (ongoing)" if isinstance(outage, OutageWindow) and outage.ongoing else ""),
            f"From {_fmt_time(start, '7d')} to {_fmt_time(end, '7d')} · "
            f"{duration((end - start).total_seconds())}",
        ]
        if isinstance(outage, OutageWindow) and outage.errors:
            for err in outage.errors[:5]:
                lines.append(
                    f"• {err.message} — {err.count}× ({formats.clock(err.first_at)}–"
                    f"{formats.clock(err.last_at)})"
                )
        else:
            lines.append("No error messages were kept for this stretch.")
        self.outage.setText("<br>".join(lines))
        self.outage.setAccessibleName(self.outage.text())


def _outage_for(outages: list[OutageWindow], start: datetime, end: datetime) -> OutageWindow | None:
    best = None
    best_overlap = 0.0
    for o in outages:
        overlap = (min(end, o.end) - max(start, o.start)).total_seconds()
        if overlap > best_overlap:
            best, best_overlap = o, overlap
    return best
