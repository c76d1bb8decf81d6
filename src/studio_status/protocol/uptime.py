"""Uptime percentages and timelines: the body of ``GET /admin/health/uptime`` (seed 001).

The exact definition of the percentage lives in :mod:`studio_status.hub.uptime` and in
``docs/uptime.md``; these models only carry its results, so the app never re-derives them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import HealthStatus, WireModel

__all__ = [
    "ErrorSeen",
    "OutageWindow",
    "ServiceUptime",
    "SpanState",
    "StateSeconds",
    "TimelineSpan",
    "UptimeReport",
]


class SpanState(StrEnum):
    """What a stretch of time counts as. The last three never count as up or down."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"
    NO_DATA = "no_data"


class StateSeconds(WireModel):
    """Seconds spent in each state within the period; they add up to the period length."""

    healthy: float = 0.0
    degraded: float = 0.0
    down: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0
    no_data: float = 0.0


class TimelineSpan(WireModel):
    """One colour block of the timeline, clipped to the period."""

    state: SpanState
    start: datetime
    end: datetime


class ErrorSeen(WireModel):
    message: str
    count: int
    first_at: datetime
    last_at: datetime


class OutageWindow(WireModel):
    """A down or degraded stretch with the error messages its checks reported.

    ``start``/``end`` are clipped to the period; ``ongoing`` says the service is still in it.
    Messages come from the raw checks, so outages older than their retention have none.
    """

    status: HealthStatus
    start: datetime
    end: datetime
    duration_seconds: float
    ongoing: bool = False
    errors: list[ErrorSeen] = Field(default_factory=list)


class ServiceUptime(WireModel):
    """``uptime_percent`` is for the requested period; None when nothing counted (all
    no-data, unknown or maintenance). The 24 h / 7 d / 30 d figures are always present."""

    service: str
    uptime_percent: float | None
    seconds: StateSeconds
    uptime_24h: float | None = None
    uptime_7d: float | None = None
    uptime_30d: float | None = None
    timeline: list[TimelineSpan] | None = None
    outages: list[OutageWindow] | None = None


class UptimeReport(WireModel):
    period: str
    start: datetime
    end: datetime
    degraded_weight: float
    services: list[ServiceUptime]
