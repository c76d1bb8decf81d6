"""Service health: the live reading, stored check records and uptime windows (seed 001)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .common import HealthStatus, WireModel

__all__ = [
    "CheckRecord",
    "HealthOverview",
    "ServiceActions",
    "ServiceDetail",
    "ServiceHealth",
    "UptimeWindow",
]


class ServiceHealth(WireModel):
    """Latest known state of one service, as the hub holds it in memory.

    ``since`` is when the service entered its current status, so views can say
    "down for 4 min" without asking for history.
    """

    name: str
    label: str | None = None
    kind: str | None = None
    status: HealthStatus = HealthStatus.UNKNOWN
    latency_ms: int | None = None
    error_message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime | None = None
    since: datetime | None = None
    muted_until: datetime | None = None


class CheckRecord(WireModel):
    """One immutable row of the ``health_checks`` time series."""

    id: int | None = None
    service_name: str
    status: HealthStatus
    latency_ms: int | None = None
    error_message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime


class UptimeWindow(WireModel):
    """A continuous status window of one service; ``ended_at`` is None for the open one."""

    id: int | None = None
    service_name: str
    status: HealthStatus
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: int | None = None


class HealthOverview(WireModel):
    """Body of ``GET /admin/health``'s ``data``: every service plus the overall status."""

    overall: HealthStatus
    services: list[ServiceHealth]


class ServiceActions(WireModel):
    """Which quick actions the hub can perform on a service: restart needs a configured
    command, logs a configured file, and a pushed service is not checked by the hub at all.
    The app shows what is not possible as disabled, with the reason, rather than failing."""

    recheck: bool = True
    diagnose: bool = True
    restart: bool = False
    logs: bool = False


class ServiceDetail(WireModel):
    """Body of ``GET /admin/health/{service}``'s ``data``: latest state plus recent history.

    ``actions`` is None from a hub that does not say (the app then offers every action)."""

    service: ServiceHealth
    history: list[CheckRecord]
    window: UptimeWindow | None = None
    actions: ServiceActions | None = None
