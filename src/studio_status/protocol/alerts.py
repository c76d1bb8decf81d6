"""Alert configuration, mutes and maintenance windows (seed 001), as the API shows them.

The alert itself is :class:`studio_status.protocol.activity.Alert`; its ``details`` carry
``escalated_at`` (sent to the external channel's outbox), ``delivered_at`` (a send
succeeded), ``flapping``, ``reminder`` and ``changed`` (a status change within one incident).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, HttpUrl

from .activity import Alert
from .common import InputModel, WireModel

__all__ = [
    "FOREVER",
    "AlertConfig",
    "AlertConfigUpdate",
    "AlertsView",
    "Channel",
    "ChannelTest",
    "MaintenanceIn",
    "MaintenanceWindow",
    "Mute",
    "MuteRequest",
    "NotificationTest",
    "ServiceAlerts",
]

Channel = Literal["dashboard", "webhook", "slack"]
_DEFAULT_CHANNELS: tuple[Channel, ...] = ("dashboard", "webhook")

#: ``muted_until`` of a mute without an end ("until cleared")
FOREVER = datetime.fromisoformat("9999-12-31T00:00:00+00:00")


class AlertConfig(InputModel):
    """Per-service alerting. ``webhook`` posts a JSON body; ``slack`` posts a Slack
    incoming-webhook body (``{"text": ...}``); both go to ``webhook_url``."""

    enabled: bool = True
    escalation_delay_seconds: int = Field(default=300, ge=0, le=7 * 86400)
    webhook_url: HttpUrl | None = None
    channels: list[Channel] = Field(default_factory=lambda: list(_DEFAULT_CHANNELS))
    #: consecutive failing checks before an incident opens, and passing ones before it closes
    failures_before_down: int = Field(default=1, ge=1, le=100)
    successes_before_healthy: int = Field(default=1, ge=1, le=100)
    #: this many confirmed status changes within ``flap_window_seconds`` mean flapping
    flap_transitions: int = Field(default=6, ge=3, le=1000)
    flap_window_seconds: int = Field(default=900, ge=10, le=86400)
    #: repeat an open incident's notice this often (None: never)
    reminder_seconds: int | None = Field(default=None, ge=60, le=7 * 86400)


class AlertConfigUpdate(InputModel):
    """Body of ``PUT /admin/health/alerts/{service}``: the fields to change."""

    enabled: bool | None = None
    escalation_delay_seconds: int | None = Field(default=None, ge=0, le=7 * 86400)
    webhook_url: HttpUrl | None = None
    channels: list[Channel] | None = None
    failures_before_down: int | None = Field(default=None, ge=1, le=100)
    successes_before_healthy: int | None = Field(default=None, ge=1, le=100)
    flap_transitions: int | None = Field(default=None, ge=3, le=1000)
    flap_window_seconds: int | None = Field(default=None, ge=10, le=86400)
    reminder_seconds: int | None = Field(default=None, ge=60, le=7 * 86400)


class Mute(WireModel):
    """``service`` None: everything. ``until`` None: until cleared."""

    service: str | None = None
    until: datetime | None = None
    reason: str | None = None
    set_by: str
    set_at: datetime


class MuteRequest(InputModel):
    service: str | None = None
    duration: Literal["1h", "4h", "8h", "until_cleared"]
    reason: str | None = Field(default=None, max_length=500)


class MaintenanceIn(InputModel):
    """A maintenance window: one-off, or repeating every ``every_seconds`` (e.g. 604800
    for weekly) until ``until``. ``service`` None: every service."""

    service: str | None = None
    start: datetime
    end: datetime
    every_seconds: float | None = Field(default=None, ge=3600)
    until: datetime | None = None
    reason: str | None = Field(default=None, max_length=500)


class MaintenanceWindow(WireModel):
    id: str
    service: str | None = None
    start: datetime
    end: datetime
    every_seconds: float | None = None
    until: datetime | None = None
    reason: str | None = None
    created_by: str
    source: Literal["config", "api"] = "api"


class ServiceAlerts(WireModel):
    service: str
    config: AlertConfig
    alert: Alert | None = None
    muted_until: datetime | None = None
    in_maintenance: bool = False


class AlertsView(WireModel):
    services: list[ServiceAlerts]
    mutes: list[Mute]
    maintenance: list[MaintenanceWindow]


class ChannelTest(WireModel):
    """One channel's answer to a test notice: ``channel`` is the service and host only
    (never a credential); ``error`` says why it was not accepted (it is retried)."""

    channel: str
    sent: bool
    error: str | None = None


class NotificationTest(WireModel):
    """Body of ``POST /admin/health/{service}/test-notification``'s ``data``; no channels
    means none is set up for the service."""

    service: str
    channels: list[ChannelTest]
