"""Cloud GPU wire models beyond the footer's summary: pods pushed in, budget and costs out.

Money is integer cents where it is a rate (``cost_per_hour_cents``, as in the footer) and
float cents where it is integrated spend: spend accrues continuously, and rounding every
poll's sliver to whole cents would drift by up to a cent per poll.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, field_validator, model_validator

from .activity import CloudPod
from .common import HealthStatus, InputModel, WireModel
from .footer import BudgetStatus, CloudGpuSummary

__all__ = [
    "ERROR_POD_STATUSES",
    "RUNNING_POD_STATUSES",
    "BudgetState",
    "CloudCosts",
    "CloudPodIn",
    "CloudPodsPush",
    "CloudPodsView",
    "CloudProvider",
    "CostPoint",
    "DaySpend",
    "PodsPushResult",
]

#: Pod statuses that count as active and billing (RunPod's GraphQL and REST vocabularies).
RUNNING_POD_STATUSES = frozenset({"RUNNING", "RESTARTING"})
#: Pod statuses that turn the budget segment red (seed 000, requirement 1.3: "pod error").
ERROR_POD_STATUSES = frozenset({"ERROR", "DEAD"})


class CloudPodIn(InputModel):
    """One pod as any provider pushes it. Give the rate in USD (``cost_per_hour``) or in
    cents (``cost_per_hour_cents``), not both (422); statuses are upper-cased (``running``
    → ``RUNNING``)."""

    # the one rule across fields JSON Schema can state: not both rates
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["cost_per_hour", "cost_per_hour_cents"],
                "properties": {
                    "cost_per_hour": {"type": "number"},
                    "cost_per_hour_cents": {"type": "number"},
                },
            }
        }
    )

    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    status: str = Field(min_length=1, max_length=40)
    cost_per_hour: float | None = Field(default=None, ge=0, le=100_000)
    cost_per_hour_cents: int | None = Field(default=None, ge=0, le=10_000_000)
    gpu_type: str | None = Field(default=None, max_length=200)
    gpu_count: int | None = Field(default=None, ge=0, le=1024)
    uptime_seconds: int | None = Field(default=None, ge=0)
    gpu_util_percent: float | None = Field(default=None, ge=0, le=100)

    @field_validator("status")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()

    @model_validator(mode="after")
    def _one_rate(self) -> CloudPodIn:
        if self.cost_per_hour is not None and self.cost_per_hour_cents is not None:
            raise ValueError("give cost_per_hour or cost_per_hour_cents, not both")
        return self

    def to_pod(self, provider: str) -> CloudPod:
        cents = self.cost_per_hour_cents
        if cents is None:
            cents = round((self.cost_per_hour or 0.0) * 100)
        return CloudPod(
            id=self.id,
            name=self.name,
            status=self.status,
            cost_per_hour_cents=cents,
            gpu_type=self.gpu_type,
            gpu_count=self.gpu_count,
            uptime_seconds=self.uptime_seconds,
            gpu_util_percent=self.gpu_util_percent,
            provider=provider,
        )


class CloudPodsPush(InputModel):
    """Body of ``POST /api/v1/cloud/pods``: the complete current pod list of one provider.

    A full list rather than deltas, so a lost push heals on the next one and a pod missing
    from the list is known to be gone. Costs accrue on the hub's clock, not the pusher's.
    Pod ids are unique within the list (422).
    """

    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    pods: list[CloudPodIn] = Field(max_length=5000)

    @model_validator(mode="after")
    def _unique_ids(self) -> CloudPodsPush:
        seen: set[str] = set()
        for i, pod in enumerate(self.pods):
            if pod.id in seen:
                raise ValueError(f"pods.{i}.id: duplicate pod id {pod.id!r}")
            seen.add(pod.id)
        return self


class PodsPushResult(WireModel):
    provider: str
    pods: int
    changed: int


class CloudProvider(WireModel):
    """Where pods come from and whether that source is answering.

    ``status`` is ``degraded`` while a polled provider errors (its last pods are kept and
    ``last_ok_at`` says how old they are) and ``unknown`` once a pushing source falls silent.
    """

    name: str
    mode: str  # "poll" or "push"
    status: HealthStatus = HealthStatus.UNKNOWN
    pods: int = 0
    last_ok_at: datetime | None = None
    error: str | None = None


class BudgetState(WireModel):
    """The budget behind the footer's colour, with the spend and forecast behind it.

    ``month_cap_reached_at`` is when the monthly cap is reached at the current rate (the
    past if already reached), None when no monthly cap is set or the month ends first.
    """

    status: BudgetStatus = BudgetStatus.WITHIN_BUDGET
    cost_per_hour_cents: int = 0
    cap_per_hour_cents: int | None = None
    cap_per_month_cents: int | None = None
    approaching_percent: float = 80.0
    spend_today_cents: float = 0.0
    spend_month_cents: float = 0.0
    month_projected_cents: float = 0.0
    month_cap_reached_at: datetime | None = None
    as_of: datetime | None = None


class CostPoint(WireModel):
    """One sample of the total cost rate, for charts (a step function: holds until the next)."""

    at: datetime
    cost_per_hour_cents: int
    active_pods: int


class DaySpend(WireModel):
    day: str  # ISO date, UTC
    spend_cents: float


class CloudPodsView(WireModel):
    """``data`` of ``GET /admin/cloud/pods``: pods, the footer's summary, budget, sources."""

    pods: list[CloudPod]
    summary: CloudGpuSummary
    budget: BudgetState
    providers: list[CloudProvider]


class CloudCosts(WireModel):
    """``data`` of ``GET /admin/cloud/costs``: the GPU-costs window's charts."""

    budget: BudgetState
    series: list[CostPoint]
    days: list[DaySpend]
