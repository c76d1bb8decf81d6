"""The footer summary of seed 000, field for field, with its ``{"data": ...}`` envelope.

Seed 000 names three services (comfyui, database, workers); a hub may watch any number,
so ``services`` is a mapping from service name to :class:`FooterService`, whose optional
fields cover each of the seed's shapes (``instances``, ``latency_ms``, ``online``/``total``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .common import HealthStatus, WireModel

__all__ = [
    "BudgetStatus",
    "CloudGpuSummary",
    "FooterData",
    "FooterEnvelope",
    "FooterService",
    "JobsSummary",
    "WorkflowsSummary",
]


class BudgetStatus(StrEnum):
    """Colour of the cloud-GPU segment (seed 000, requirement 1.3)."""

    WITHIN_BUDGET = "within_budget"
    APPROACHING = "approaching"
    EXCEEDED = "exceeded"
    ERROR = "error"


class FooterService(WireModel):
    """One service dot. ``label`` is the abbreviated name shown on the strip (``DB``)."""

    status: HealthStatus = HealthStatus.UNKNOWN
    checked_at: datetime | None = None
    latency_ms: int | None = None
    instances: int | None = None
    online: int | None = None
    total: int | None = None
    label: str | None = None


class CloudGpuSummary(WireModel):
    """Active pods and total cost rate; cost in integer cents to avoid float drift."""

    active_pods: int = 0
    cost_per_hour_cents: int = 0
    budget_status: BudgetStatus = BudgetStatus.WITHIN_BUDGET


class JobsSummary(WireModel):
    """Running and queued jobs; ``eta_seconds`` answers seed 000's open ETA question.

    ``overall_progress`` is None when no running job reports progress, so the strip shows an
    indeterminate bar instead of an invented number.
    """

    running: int = 0
    queued: int = 0
    overall_progress: int | None = Field(default=None, ge=0, le=100)
    eta_seconds: int | None = None
    #: what ``eta_seconds`` covers: ``all`` (running and queued, the queued ones at their
    #: worker's typical run time) or ``running`` only (some queued job has no run time to
    #: go by yet)
    eta_covers: Literal["all", "running"] | None = None
    #: active jobs whose source cannot vouch for them now (not in running / queued); None
    #: when there are none (the seed's shape stays as it was)
    stalled: int | None = Field(default=None, ge=1)


class WorkflowsSummary(WireModel):
    """Active workflows and the stage most of them are in."""

    active: int = 0
    current_stage: str | None = None


class FooterData(WireModel):
    """The ``data`` of ``GET /api/v1/status/footer``; admin-only parts are None otherwise."""

    services: dict[str, FooterService] | None = None
    cloud_gpu: CloudGpuSummary | None = None
    jobs: JobsSummary = Field(default_factory=JobsSummary)
    workflows: WorkflowsSummary = Field(default_factory=WorkflowsSummary)


class FooterEnvelope(WireModel):
    """The response envelope exactly as seed 000 shows it."""

    data: FooterData
