"""Alert configuration, mutes and maintenance windows (seed 001), as the API shows them.

The alert itself is :class:`studio_status.protocol.activity.Alert`; its ``details`` carry
``escalated_at`` (sent to the external channel's outbox), ``delivered_at`` (a send
succeeded), ``flapping``, ``reminder`` and ``changed`` (a status change within one incident).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AnyUrl,
    BeforeValidator,
    Field,
    UrlConstraints,
    WithJsonSchema,
    model_validator,
)

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

#: An http(s) URL without a length limit of its own (a body is bounded anyway): the URL is
#: stored normalized (percent-encoded, ``/`` added), which may make it longer than it was
#: sent, and a limit would then refuse the stored value when read back.
WebhookUrl = Annotated[
    AnyUrl,
    UrlConstraints(allowed_schemes=["http", "https"], host_required=True),
    WithJsonSchema(
        {"type": "string", "format": "uri", "minLength": 1, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}
    ),
]

#: ``muted_until`` of a mute without an end ("until cleared")
FOREVER = datetime.fromisoformat("9999-12-31T00:00:00+00:00")


class AlertConfig(InputModel):
    """Per-service alerting. ``webhook`` posts a JSON body; ``slack`` posts a Slack
    incoming-webhook body (``{"text": ...}``); both go to ``webhook_url``."""

    enabled: bool = True
    escalation_delay_seconds: int = Field(default=300, ge=0, le=7 * 86400)
    webhook_url: WebhookUrl | None = None
    channels: list[Channel] = Field(default_factory=lambda: list(_DEFAULT_CHANNELS))
    #: consecutive failing checks before an incident opens, and passing ones before it closes
    failures_before_down: int = Field(default=1, ge=1, le=100)
    successes_before_healthy: int = Field(default=1, ge=1, le=100)
    #: this many confirmed status changes within ``flap_window_seconds`` mean flapping
    flap_transitions: int = Field(default=6, ge=3, le=1000)
    flap_window_seconds: int = Field(default=900, ge=10, le=86400)
    #: repeat an open incident's notice this often (None: never)
    reminder_seconds: int | None = Field(default=None, ge=60, le=7 * 86400)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _absent(**constraints: Any) -> Any:
    """A field that may be left out but not sent as null (null would mean nothing here)."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class AlertConfigUpdate(InputModel):
    """Body of ``PUT /admin/health/alerts/{service}``: the fields to change; those left
    out stay. ``null`` clears ``webhook_url`` and ``reminder_seconds`` (no reminders) and
    is refused for the others, which always have a value."""

    enabled: bool = _absent()
    escalation_delay_seconds: int = _absent(ge=0, le=7 * 86400)
    webhook_url: WebhookUrl | None = None
    channels: list[Channel] = _absent()
    failures_before_down: int = _absent(ge=1, le=100)
    successes_before_healthy: int = _absent(ge=1, le=100)
    flap_transitions: int = _absent(ge=3, le=1000)
    flap_window_seconds: int = _absent(ge=10, le=86400)
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


def _not_a_number(value: object) -> object:
    """A date-time is an ISO 8601 string: pydantic would read a number as epoch seconds,
    and ``-1.5e-202`` would be stored as 1970."""
    if isinstance(value, int | float):
        raise ValueError("a date-time must be an ISO 8601 string, not a number")
    return value


DateTimeText = Annotated[datetime, BeforeValidator(_not_a_number)]

#: the longest repeat of a maintenance window (one year)
MAX_EVERY_SECONDS = 366 * 86400


class MaintenanceIn(InputModel):
    """A maintenance window: one-off, or repeating every ``every_seconds`` (e.g. 604800
    for weekly) until ``until``. ``service`` None: every service. ``end`` must be after
    ``start`` (422 otherwise)."""

    service: str | None = None
    start: DateTimeText
    end: DateTimeText
    every_seconds: float | None = Field(default=None, ge=3600, le=MAX_EVERY_SECONDS)
    until: DateTimeText | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


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
