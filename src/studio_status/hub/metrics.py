"""Prometheus metrics: what the hub knows, in the text format studios already scrape.

Gauges are read from the hub's live state at scrape time (never a second copy that could
drift from what the REST answers say); the few counts nothing else keeps (checks run and
failed, replay requests, sockets by role) are kept in :class:`HubCounters`, fed by the hub
and the event socket. Uptime needs the store, so :meth:`HubMetrics.render` first gathers it
asynchronously and then renders synchronously, with no await in between: concurrent
scrapes never see each other's half. prometheus-client and the collector
(:mod:`~studio_status.hub.exposition`) load at the first scrape: a hub nobody scrapes (the
app's own, most of all) never carries them.

Metric names and labels are documented in ``docs/metrics.md``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio_status.protocol import HealthStatus

if TYPE_CHECKING:
    from .exposition import Exposition
    from .service import Hub

__all__ = ["STATUS_CODE", "HubCounters", "HubMetrics"]

#: ``studio_status_service_status``: the Nagios exit code of the state, as in
#: ``studio-status status`` (0 healthy, 1 degraded, 2 down, 3 unknown)
STATUS_CODE: dict[HealthStatus, int] = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.DOWN: 2,
    HealthStatus.UNKNOWN: 3,
}
_FAILED = (HealthStatus.DOWN, HealthStatus.UNKNOWN)


@dataclass
class HubCounters:
    """Counts since the hub started, for the metrics nothing else keeps."""

    checks: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    replays: Counter[str] = field(default_factory=Counter)
    sockets: Counter[str] = field(default_factory=Counter)

    def check(self, service: str, status: HealthStatus) -> None:
        self.checks[service] += 1
        if status in _FAILED:
            self.failed[service] += 1


class HubMetrics:
    """One registry per hub, built at the first scrape: the hub's own figures plus the
    process and Python runtime."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._exposition: Exposition | None = None

    async def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, uptime gathered first (the only part
        that awaits)."""
        names = list(self._hub.state.services)
        report = await self._hub.uptime.report("24h", names, timeline=False)
        if self._exposition is None:
            from .exposition import Exposition

            self._exposition = Exposition(self._hub)
        return self._exposition.render(report)
