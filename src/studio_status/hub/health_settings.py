"""The ``[health]`` table of the hub config: uptime, alerts, maintenance, startup checklist.

Kept apart from :mod:`studio_status.hub.config` so the health features can grow their
settings without every change touching the core schema; ``HubConfig.health`` holds one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthSettings"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthSettings(_Model):
    """Example::

    [health]
    degraded_weight = 0.5
    window_retention_days = 400
    connectivity_service = "gateway"
    """

    degraded_weight: float = Field(default=0.5, ge=0, le=1)
    window_retention_days: float = Field(default=400.0, gt=0)
    #: a service whose failure means the hub itself lost its network: while it is down,
    #: other services' failures are recorded as ``unknown`` (the hub cannot tell), not down
    connectivity_service: str | None = None
    rollup_every_seconds: float = Field(default=60.0, gt=0, le=3600)
