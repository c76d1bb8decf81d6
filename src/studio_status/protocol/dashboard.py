"""Studio pulse (seed 002): widget payloads, the activity feed and the per-user dashboard.

Activity items carry ``entity_type`` / ``entity_id`` so a click can open the job, workflow,
service or alert they are about. Items about infrastructure (service health, alerts) are
``admin_only`` and travel on their own admin-only event type, so a creator's feed never
names a service.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .activity import JobInfo
from .common import InputModel, WireModel

__all__ = [
    "ACTIVITY_CATEGORIES",
    "DEFAULT_LAYOUT",
    "ActiveTask",
    "ActiveTasks",
    "ActivityCreated",
    "ActivityItem",
    "ActivityPage",
    "DashboardConfig",
    "DashboardConfigIn",
    "DiskHealth",
    "DiskVolume",
    "ProgressColour",
    "ProjectProgress",
    "WidgetPlacement",
]

ACTIVITY_CATEGORIES = ("job", "workflow", "system", "service", "alert")
ActivityCategory = Literal["job", "workflow", "system", "service", "alert"]


class ActivityItem(WireModel):
    id: int
    ts: datetime
    category: ActivityCategory
    kind: str  # e.g. "job.completed", "alert.fired", "system.stable"
    title: str
    message: str | None = None
    severity: Literal["info", "success", "warning", "error"] = "info"
    entity_type: Literal["job", "workflow", "service", "alert", "system"]
    entity_id: str
    project_id: str | None = None
    admin_only: bool = False


class ActivityCreated(WireModel):
    item: ActivityItem


class ActivityPage(WireModel):
    items: list[ActivityItem]
    limit: int
    offset: int
    has_more: bool


class ActiveTask(WireModel):
    job: JobInfo
    elapsed_seconds: int | None = None


class ActiveTasks(WireModel):
    running: list[ActiveTask]
    queued: list[ActiveTask]
    recent_completed: list[ActiveTask]


class ProgressColour(StrEnum):
    """Seed 002: green above 75 %, yellow 50-75 %, red below 50 % or blocked."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class ProjectProgress(WireModel):
    project_id: str
    approved: int
    total: int
    percent: float
    active: int
    failed: int
    blocked: bool
    colour: ProgressColour


class DiskVolume(WireModel):
    """One disk the hub watches. ``label`` says what it holds in the user's words (the hub's
    data, a service's label); ``mount`` is the volume the figures are for (statvfs measures
    the whole volume, not the folder); older hubs send neither."""

    path: str
    label: str | None = None
    mount: str | None = None
    total_bytes: int | None = None
    used_bytes: int | None = None
    free_bytes: int | None = None
    used_percent: float | None = None
    level: Literal["ok", "warning", "critical", "unknown"]
    error: str | None = None


class DiskHealth(WireModel):
    volumes: list[DiskVolume]
    warning_percent: float
    critical_percent: float


class WidgetPlacement(InputModel):
    widget: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    x: int = Field(ge=0, le=64)
    y: int = Field(ge=0, le=1000)
    w: int = Field(ge=1, le=64)
    h: int = Field(ge=1, le=64)


#: Seed 002's grid: active tasks and project progress on top (2 columns each), disk health
#: (1) and the activity feed (3) below.
DEFAULT_LAYOUT: tuple[WidgetPlacement, ...] = (
    WidgetPlacement(widget="active-tasks", x=0, y=0, w=2, h=1),
    WidgetPlacement(widget="project-progress", x=2, y=0, w=2, h=1),
    WidgetPlacement(widget="disk-health", x=0, y=1, w=1, h=1),
    WidgetPlacement(widget="activity-feed", x=1, y=1, w=3, h=1),
)

_MAX_DOC_BYTES = 32 * 1024


def _small(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":")))
    if size > _MAX_DOC_BYTES:
        raise ValueError(f"at most {_MAX_DOC_BYTES} bytes as JSON, got {size}")
    return value


class DashboardConfigIn(InputModel):
    """What ``PUT /user/dashboard`` takes: the seed's layout and widget settings, and free
    ``preferences`` (the app keeps its strip's segment order and collapse state there).
    Each widget appears at most once in ``layout``; ``widget_settings`` and ``preferences``
    are at most 32 KiB each as JSON."""

    layout: list[WidgetPlacement] = Field(default_factory=list, max_length=50)
    widget_settings: dict[str, Any] = Field(default_factory=dict)
    preferences: dict[str, Any] = Field(default_factory=dict)

    _small_settings = field_validator("widget_settings", "preferences")(_small)

    @model_validator(mode="after")
    def _once_each(self) -> DashboardConfigIn:
        names = [p.widget for p in self.layout]
        if len(names) != len(set(names)):
            raise ValueError("layout: each widget may appear once")
        return self


class DashboardConfig(WireModel):
    layout: list[WidgetPlacement]
    widget_settings: dict[str, Any]
    preferences: dict[str, Any]
    is_default: bool
    updated_at: datetime | None = None
