"""Jobs, workflows, cloud pods, alerts and stability: the data behind the other segments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from .common import HealthStatus, WireModel

__all__ = [
    "Alert",
    "AlertState",
    "CloudPod",
    "JobInfo",
    "JobStatus",
    "StabilityState",
    "WorkflowInfo",
]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: the job's source can no longer vouch for it (restarted without it, gone, or silent
    #: past its lease); ``error`` says why. Whether it ran to the end is not known.
    LOST = "lost"


class JobInfo(WireModel):
    """One job; ``progress`` None means the source reports none (shown indeterminate).

    ``source`` is who vouches for the job (``push``, ``simulator``, ``comfyui:<name>``,
    ``postgres:<name>``). ``stalled_since`` is set while that source cannot vouch for it (no
    update within its lease, or the source is down): its numbers are then old, not live, and
    ``stall_reason`` says why. ``cached``: ComfyUI answered every output from its cache.
    """

    id: str
    name: str | None = None
    source: str | None = None
    type: str | None = None
    project: str | None = None
    status: JobStatus
    progress: float | None = Field(default=None, ge=0, le=100)
    queue_position: int | None = None
    worker: str | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    eta_seconds: int | None = None
    stalled_since: datetime | None = None
    stall_reason: str | None = None
    cached: bool = False


class WorkflowInfo(WireModel):
    id: str
    name: str
    stage: str | None = None
    status: JobStatus = JobStatus.RUNNING
    job_ids: list[str] = Field(default_factory=list)


class CloudPod(WireModel):
    id: str
    name: str | None = None
    status: str
    cost_per_hour_cents: int = 0
    gpu_type: str | None = None
    gpu_count: int | None = None
    uptime_seconds: int | None = None
    gpu_util_percent: float | None = None
    provider: str = "runpod"


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(WireModel):
    id: str
    service: str
    state: AlertState
    status: HealthStatus
    message: str | None = None
    fired_at: datetime
    resolved_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class StabilityState(StrEnum):
    """Seed 003's light channel: "System Stable" or "Processing Data"."""

    STABLE = "stable"
    PROCESSING = "processing"
