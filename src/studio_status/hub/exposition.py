"""The Prometheus side of :mod:`studio_status.hub.metrics`, loaded at the first scrape.

The collector reads the hub's live state at scrape time; uptime, which needs the store, is
handed in already gathered, so rendering never awaits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from studio_status.protocol import BudgetStatus, HealthStatus, JobStatus, Role
from studio_status.protocol.uptime import UptimeReport

from .metrics import STATUS_CODE

if TYPE_CHECKING:
    from .service import Hub

__all__ = ["Exposition"]

_WINDOWS = ("24h", "7d", "30d")


@dataclass(frozen=True)
class _Gathered:
    """What needs an await: uptime per service and window, as a ratio (None: no data)."""

    uptime: dict[str, dict[str, float | None]]


class _HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.gathered = _Gathered({})

    def collect(self) -> Iterator[Metric]:
        yield from self._services()
        yield from self._jobs()
        yield from self._cloud()
        yield from self._stream()
        yield from self._storage()

    def _services(self) -> Iterator[Metric]:
        hub = self._hub
        state = GaugeMetricFamily(
            "studio_status_service_state",
            "1 for the service's current state, 0 for the others",
            labels=["service", "state"],
        )
        code = GaugeMetricFamily(
            "studio_status_service_status",
            "Current state as a code: 0 healthy, 1 degraded, 2 down, 3 unknown",
            labels=["service"],
        )
        latency = GaugeMetricFamily(
            "studio_status_service_latency_seconds",
            "Latency of the last check",
            labels=["service"],
        )
        muted = GaugeMetricFamily(
            "studio_status_service_muted",
            "1 while the service's alerts are muted",
            labels=["service"],
        )
        checks = CounterMetricFamily(
            "studio_status_service_checks", "Checks run since the hub started", labels=["service"]
        )
        failed = CounterMetricFamily(
            "studio_status_service_checks_failed",
            "Checks since the hub started whose result was down or unknown",
            labels=["service"],
        )
        uptime = GaugeMetricFamily(
            "studio_status_service_uptime_ratio",
            "Time-weighted uptime (degraded counts by the hub's degraded_weight)",
            labels=["service", "window"],
        )
        counters = hub.counters
        for name, svc in hub.state.services.items():
            for status in HealthStatus:
                state.add_metric([name, status.value], 1.0 if svc.status is status else 0.0)
            code.add_metric([name], STATUS_CODE[svc.status])
            if svc.latency_ms is not None:
                latency.add_metric([name], svc.latency_ms / 1000.0)
            muted.add_metric([name], 1.0 if svc.muted_until is not None else 0.0)
            checks.add_metric([name], counters.checks[name])
            failed.add_metric([name], counters.failed[name])
            for window, ratio in self.gathered.uptime.get(name, {}).items():
                if ratio is not None:
                    uptime.add_metric([name, window], ratio)
        yield from (state, code, latency, muted, checks, failed, uptime)

    def _jobs(self) -> Iterator[Metric]:
        board = self._hub.jobs
        summary = board.summary()
        jobs = GaugeMetricFamily("studio_status_jobs", "Jobs by state", labels=["state"])
        jobs.add_metric(["running"], summary.running)
        jobs.add_metric(["queued"], summary.queued)
        jobs.add_metric(["stalled"], summary.stalled or 0)
        yield jobs
        finished = CounterMetricFamily(
            "studio_status_jobs_finished",
            "Jobs that ended since the hub started, by result",
            labels=["result"],
        )
        for result in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST):
            finished.add_metric([result.value], board.finished[result])
        yield finished
        yield GaugeMetricFamily(
            "studio_status_workflows_active",
            "Workflows running",
            value=board.workflows_summary().active,
        )

    def _cloud(self) -> Iterator[Metric]:
        cloud = self._hub.state.cloud_gpu
        if cloud is None:
            return
        yield GaugeMetricFamily("studio_status_cloud_pods", "Active GPU pods", cloud.active_pods)
        yield GaugeMetricFamily(
            "studio_status_cloud_cost_per_hour",
            "Cost rate of the active pods, in the provider's currency per hour",
            cloud.cost_per_hour_cents / 100.0,
        )
        budget = GaugeMetricFamily(
            "studio_status_cloud_budget_state",
            "1 for the budget's current state, 0 for the others",
            labels=["state"],
        )
        for status in BudgetStatus:
            budget.add_metric([status.value], 1.0 if cloud.budget_status is status else 0.0)
        yield budget

    def _stream(self) -> Iterator[Metric]:
        hub = self._hub
        sockets = GaugeMetricFamily(
            "studio_status_sockets", "Open event sockets by role", labels=["role"]
        )
        for role in Role:
            sockets.add_metric([role.value], hub.counters.sockets[role.value])
        yield sockets
        yield CounterMetricFamily(
            "studio_status_events_published",
            "Events published on the bus since the hub started",
            hub.bus.published,
        )
        replays = CounterMetricFamily(
            "studio_status_replay_requests",
            "Resume requests since the hub started: resumed, or answered with a snapshot",
            labels=["outcome"],
        )
        for outcome in ("resumed", "snapshot"):
            replays.add_metric([outcome], hub.counters.replays[outcome])
        yield replays

    def _storage(self) -> Iterator[Metric]:
        writer = self._hub.writer
        yield GaugeMetricFamily(
            "studio_status_writer_backlog", "Records waiting to be written", writer.pending
        )
        yield GaugeMetricFamily(
            "studio_status_storage_failing", "1 while writes to storage fail", int(writer.failing)
        )
        yield CounterMetricFamily(
            "studio_status_storage_errors",
            "Failed storage writes since the hub started",
            writer.errors,
        )
        yield CounterMetricFamily(
            "studio_status_checks_dropped",
            "Raw checks dropped from a full backlog while storage failed",
            writer.dropped_checks,
        )


class Exposition:
    """The registry: the hub's collector plus the process and Python runtime collectors."""

    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._collector = _HubCollector(hub)
        self.registry.register(self._collector)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def render(self, report: UptimeReport) -> tuple[bytes, str]:
        uptime: dict[str, dict[str, float | None]] = {}
        for entry in report.services:
            figures = (entry.uptime_24h, entry.uptime_7d, entry.uptime_30d)
            uptime[entry.service] = {
                w: None if f is None else f / 100.0 for w, f in zip(_WINDOWS, figures, strict=True)
            }
        self._collector.gathered = _Gathered(uptime)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
