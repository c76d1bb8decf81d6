"""GPU costs: running pods, the total rate, the budget gauge, spend, forecast, rate chart.

Pods come from the live store (``cloud.pod_status_changed`` events) and from
``GET /admin/cloud/pods`` (key ``pods``: pods, budget and the sources' health); the chart
and spend from ``GET /admin/cloud/costs?hours=…`` (key ``costs:<hours>``), both refetched by
the client layer when a pod changes. Budget colours are the footer's (seed 000, 1.3).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio_status.client.state import StatusState
from studio_status.protocol import BudgetStatus, CloudPod, HealthStatus
from studio_status.protocol.cloud import (
    RUNNING_POD_STATUSES,
    BudgetState,
    CloudCosts,
    CloudPodsView,
    CloudProvider,
)
from studio_status.ui import formats
from studio_status.ui.widgets import Chart, ChartData, Gauge, Line, MetricCard, StatePane

from .base import DetailWindow, WindowContext
from .texts import PERIOD_LABELS, duration, plain_error

__all__ = ["PERIODS", "CostsWindow"]

PERIODS = {PERIOD_LABELS["24h"]: 24, PERIOD_LABELS["7d"]: 168}
_BUDGET_COLOR = {
    BudgetStatus.WITHIN_BUDGET: "healthy",
    BudgetStatus.APPROACHING: "degraded",
    BudgetStatus.EXCEEDED: "down",
    BudgetStatus.ERROR: "down",
}


def _money(cents: float) -> str:
    return formats.cost_text(round(cents))


_SOURCE_STATE = {
    HealthStatus.HEALTHY: "answering",
    HealthStatus.DEGRADED: "failing, last pods kept",
    HealthStatus.DOWN: "failing",
    HealthStatus.UNKNOWN: "silent",
}


def source_text(s: CloudProvider, now: datetime) -> str:
    """``runpod (asked by the hub, answering, last report 20 s ago)``: words, not enums."""
    how = "asked by the hub" if s.mode == "poll" else "sends its pods"
    bits = [how, _SOURCE_STATE.get(s.status, s.status.value)]
    if s.last_ok_at is not None:
        bits.append(f"last report {formats.ago(s.last_ok_at, now)}")
    if s.error:
        bits.append(plain_error(s.error, f"{s.name}'s pods"))
    return f"{s.name} ({', '.join(bits)})"


def merge_pods(fetched: list[CloudPod], live: dict[str, CloudPod]) -> dict[str, CloudPod]:
    """The hub's last list, with a live change where the status moved since: a live pod from
    a status event is only as fresh as that event, so it must not hide the provider's later
    readings (uptime, GPU load) of a pod whose status is unchanged."""
    pods = {p.id: p for p in fetched}
    for pod_id, pod in live.items():
        known = pods.get(pod_id)
        if known is None or known.status != pod.status:
            pods[pod_id] = pod
    return pods


def pod_uptime(pod: CloudPod, reported_at: datetime | None, now: datetime) -> float | None:
    """Uptime now: the provider's figure plus the time since it reported it (a running pod
    keeps running between reports; a stopped one's figure is final)."""
    if pod.uptime_seconds is None:
        return None
    if reported_at is None or pod.status not in RUNNING_POD_STATUSES:
        return float(pod.uptime_seconds)
    return pod.uptime_seconds + max(0.0, (now - reported_at).total_seconds())


class CostsWindow(DetailWindow):
    """Attributes:
    pods: the pods table; gauge: the budget gauge; cards: spend / forecast cards by name;
    chart: the cost-rate line.
    """

    kind = "cloud_gpu"
    title = formats.WINDOW_TITLES["cloud_gpu"]
    default_size = (940, 640)
    admin_only = True

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.hours = 24
        self.period_buttons: dict[int, QPushButton] = self.add_choices(
            list(PERIODS.items()), self.hours, self.set_hours, lambda t: f"Cost rate, {t}"
        )

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.gauge = Gauge(theme=self.theme, size=132)
        top.addWidget(self.gauge)
        grid = QGridLayout()
        self.cards = {
            name: MetricCard(name, theme=self.theme)
            for name in ("Rate now", "Spend today", "Spend this month", "Cap reached")
        }
        for i, card in enumerate(self.cards.values()):
            grid.addWidget(card, i // 2, i % 2)
        top.addLayout(grid, 1)
        lay.addLayout(top)
        self.chart = Chart(self.theme)
        self.chart.setAccessibleName("Total GPU cost rate")
        lay.addWidget(self.chart)
        self.pods = QTreeWidget()
        self.pods.setAccessibleName("Running pods")
        self.pods.setRootIsDecorated(False)
        self.pods.setAlternatingRowColors(True)
        self.pods.setHeaderLabels(["Pod", "GPU", "Cost/hr", "Uptime", "Status", "GPU util"])
        self.pods.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.pods, 1)
        self.empty_pods = QLabel("No pods running")
        self.empty_pods.setStyleSheet(f"color: {self.theme.text_dim}; font-size: 13px;")
        lay.addWidget(self.empty_pods)
        self.sources = QLabel()
        self.sources.setStyleSheet(f"color: {self.theme.text_dim};")
        lay.addWidget(self.sources)
        self.pane = StatePane(body, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)

    def resources(self) -> list[str]:
        return ["pods", f"costs:{self.hours}"]

    def set_hours(self, hours: int) -> None:
        if hours != self.hours:
            self.hours = hours
            self.period_buttons[hours].setChecked(True)
            self.rewatch()

    def show_state(self, state: StatusState) -> None:
        if not self.is_admin and state.role is not None:
            self.pane.show_empty("GPU costs are visible to admins only.")
            return
        entry = self.show_entry(self.pane, "pods", "cloud pods")
        view = entry.value if entry is not None else None
        if not isinstance(view, CloudPodsView):
            return
        pods = merge_pods(view.pods, state.pods)
        reported = {p.name: p.last_ok_at for p in view.providers}
        running = [p for p in pods.values() if p.status in RUNNING_POD_STATUSES]
        others = [p for p in pods.values() if p.status not in RUNNING_POD_STATUSES]
        shown = [p for p in others if p.status in {"ERROR", "DEAD", "STARTING", "PENDING"}]
        self._fill_pods(sorted(running, key=lambda p: p.name or p.id) + shown, reported)
        self._budget(view.budget, sum(p.cost_per_hour_cents for p in running), len(running))
        costs = self.entry(f"costs:{self.hours}").value
        if isinstance(costs, CloudCosts):
            self._chart(costs)
        else:
            self.chart.set_data(
                ChartData(
                    start=self.now() - timedelta(hours=self.hours),
                    end=self.now(),
                    line=Line((), "/hr"),
                    empty_text="Loading the cost history…",
                )
            )
        self.sources.setText(
            "Pods come from: "
            + (
                " · ".join(source_text(s, self.now()) for s in view.providers)
                or "no provider configured"
            )
        )
        self.pane.show_content()

    def _fill_pods(self, pods: list[CloudPod], reported: dict[str, datetime | None]) -> None:
        self.pods.clear()
        now = self.now()
        for p in pods:
            gpu = p.gpu_type or "—"
            if p.gpu_count:
                gpu = f"{p.gpu_count}× {gpu}"
            util = "—" if p.gpu_util_percent is None else f"{p.gpu_util_percent:.0f}%"
            self.pods.addTopLevelItem(
                QTreeWidgetItem(
                    [
                        p.name or p.id,
                        gpu,
                        f"{formats.cost_text(p.cost_per_hour_cents)}/hr",
                        duration(pod_uptime(p, reported.get(p.provider), now)),
                        p.status.lower(),
                        util,
                    ]
                )
            )
        self.pods.setVisible(bool(pods))
        self.empty_pods.setVisible(not pods)

    def _budget(self, budget: BudgetState, rate: int, running: int) -> None:
        color = _BUDGET_COLOR[budget.status]
        cap = budget.cap_per_hour_cents
        pct = None if not cap else 100 * rate / cap
        self.gauge.set_value(
            pct,
            color,
            "—" if pct is None else f"{pct:.0f}%",
            f"of {formats.cost_text(cap)}/hr cap" if cap else "no hourly cap",
        )
        self.cards["Rate now"].set_value(
            f"{formats.cost_text(rate)}/hr",
            f"{running} pod{'s' if running != 1 else ''} · {formats.BUDGET_TEXT[budget.status]}",
            color,
        )
        self.cards["Spend today"].set_value(_money(budget.spend_today_cents), "since 00:00 UTC")
        month_cap = budget.cap_per_month_cents
        self.cards["Spend this month"].set_value(
            _money(budget.spend_month_cents),
            f"projected {_money(budget.month_projected_cents)}"
            + (f" of {_money(month_cap)}" if month_cap else ""),
        )
        reached = budget.month_cap_reached_at
        if month_cap is None:
            self.cards["Cap reached"].set_value("—", "no monthly cap set")
        elif reached is None:
            self.cards["Cap reached"].set_value("Not this month", "at the current rate", "healthy")
        else:
            when = reached.astimezone().strftime("%a %d %b %H:%M")
            past = reached <= self.now()
            self.cards["Cap reached"].set_value(
                "Reached" if past else when,
                f"at {when}" if past else "at the current rate",
                "down" if past else "degraded",
            )
        self.subtitle.setText(
            f"{running} running · {formats.cost_text(rate)}/hr · "
            f"{formats.BUDGET_TEXT[budget.status]}"
        )

    def _chart(self, costs: CloudCosts) -> None:
        end = self.now()
        start = end - timedelta(hours=self.hours)
        points = tuple((p.at, p.cost_per_hour_cents / 100) for p in costs.series)
        if costs.series and costs.series[0].at - start > timedelta(hours=1):
            span = end - costs.series[0].at  # a young hub: draw what there is
            start = costs.series[0].at - max(span * 0.04, timedelta(seconds=5))
        self.chart.set_data(
            ChartData(
                start=start,
                end=end,
                line=Line(points, "/hr", color="processing", step=True, fmt="${:.2f}"),
                empty_text="No cost samples in this period",
            )
        )
