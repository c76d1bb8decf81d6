"""The ``[health]`` table of the hub config: uptime, alerts, maintenance, startup checklist.

Kept apart from :mod:`studio_status.hub.config` so the health features can grow their
settings without every change touching the core schema; ``HubConfig.health`` holds one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio_status.protocol.alerts import AlertConfig, MaintenanceIn

from .checks.specs import CheckSpec

__all__ = [
    "FilesStartup",
    "HealthSettings",
    "MigrationsStartup",
    "NotifySettings",
    "ProbeStartup",
    "ServiceStartup",
    "StartupCheckSpec",
]

_CHECK_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Startup(_Model):
    name: str = Field(pattern=_CHECK_NAME)
    label: str | None = None
    required: bool = True


class MigrationsStartup(_Startup):
    """The database schema is at this hub's version."""

    kind: Literal["migrations"] = "migrations"


class ServiceStartup(_Startup):
    """A watched service answers (healthy or degraded); with ``min_online``, its check's
    ``online`` detail (workers, ComfyUI instances) is at least that."""

    kind: Literal["service"] = "service"
    service: str
    min_online: int | None = Field(default=None, ge=1)


class FilesStartup(_Startup):
    """Files that must exist and be readable, e.g. required model weights."""

    kind: Literal["files"] = "files"
    paths: list[Path] = Field(min_length=1)


class ProbeStartup(_Startup):
    """Any checker spec, run once at boot (and again while it fails)."""

    kind: Literal["probe"] = "probe"
    check: CheckSpec
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)


StartupCheckSpec = Annotated[
    MigrationsStartup | ServiceStartup | FilesStartup | ProbeStartup, Field(discriminator="kind")
]


class NotifySettings(_Model):
    """``[health.notify]``: Apprise channels (``hub/channels.py``) for escalated notices.

    Example::

        [health.notify]
        urls = ["mailto://${SMTP_USER}:${SMTP_PASSWORD}@mail.example.com?to=ops@example.com"]
        [health.notify.services]
        database = ["ntfy://ntfy.example.com/db-oncall", "msteams://${keyring:teams}"]

    ``urls`` get every service's notices, ``services`` adds channels for one service.
    Secrets are named, not written: ``${NAME}`` (environment) or ``${keyring:NAME}``.
    """

    urls: list[str] = Field(default_factory=list)
    services: dict[str, list[str]] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        return _channel_urls(urls)

    @field_validator("services")
    @classmethod
    def _service_urls(cls, services: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: _channel_urls(urls) for name, urls in services.items()}

    def urls_for(self, service: str) -> list[str]:
        return list(dict.fromkeys([*self.urls, *self.services.get(service, [])]))


def _channel_urls(urls: list[str]) -> list[str]:
    for number, url in enumerate(urls, start=1):
        if not re.match(r"^[a-z][a-z0-9+.-]*://", url):  # the text may hold a secret: not shown
            raise ValueError(f"channel {number} is not an Apprise URL (service://...)")
    return urls


class HealthSettings(_Model):
    """Example::

    [health]
    degraded_weight = 0.5
    window_retention_days = 400
    connectivity_service = "gateway"

    [[health.startup]]
    name = "models"
    kind = "files"
    paths = ["/models/sdxl.safetensors"]
    """

    degraded_weight: float = Field(default=0.5, ge=0, le=1)
    window_retention_days: float = Field(default=400.0, gt=0)
    #: a service whose failure means the hub itself lost its network: while it is down,
    #: other services' failures are recorded as ``unknown`` (the hub cannot tell), not down
    connectivity_service: str | None = None
    rollup_every_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: the pre-flight checklist; absent: migrations, plus every ComfyUI and workers service
    #: required and every other service optional (see ``hub/checklist.py``)
    startup: list[StartupCheckSpec] | None = None
    startup_retry_seconds: float = Field(default=15.0, gt=0, le=3600)
    #: alerting defaults for every service (``PUT /admin/health/alerts/{service}`` overrides)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    maintenance: list[MaintenanceIn] = Field(default_factory=list)
    alert_tick_seconds: float = Field(default=5.0, gt=0, le=300)
    notify: NotifySettings = Field(default_factory=NotifySettings)
