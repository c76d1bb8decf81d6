"""The event envelope ``{seq, type, ts, data}`` and the typed data of every event type.

Unknown event types are kept as :class:`Event` with ``data`` as a plain dict and
``known`` False, so a newer hub never breaks an older app. A *known* type whose data does
not fit its model is a :class:`ProtocolError`: that is a broken peer, not a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, Field

from .activity import Alert, CloudPod, JobInfo, StabilityState, WorkflowInfo
from .checklist import ReadinessChanged
from .common import HealthStatus, Role, WireModel, parse_model
from .dashboard import ActivityCreated
from .footer import FooterData
from .health import ServiceHealth
from .systems import SystemOutageChanged

__all__ = [
    "ADMIN_TOPICS",
    "EVENT_TOPICS",
    "EVENT_TYPES",
    "AlertFired",
    "AlertResolved",
    "CloudPodStatusChanged",
    "Event",
    "FooterChanged",
    "JobProgress",
    "JobQueueChanged",
    "JobStatusChanged",
    "ServiceHealthChanged",
    "SystemSnapshotReceived",
    "SystemStabilityChanged",
    "Topic",
    "WorkflowStatusChanged",
    "parse_event_data",
    "topic_allowed",
]


class ServiceHealthChanged(WireModel):
    """A service changed status; ``current`` is its whole new reading."""

    service: str
    previous: HealthStatus | None = None
    current: ServiceHealth


class FooterChanged(WireModel):
    """The footer summary as this subscriber may see it, sent whenever it changes."""

    footer: FooterData


class CloudPodStatusChanged(WireModel):
    pod: CloudPod
    previous: str | None = None


class JobStatusChanged(WireModel):
    job: JobInfo
    previous: str | None = None


class JobProgress(WireModel):
    job_id: str
    progress: float | None = Field(default=None, ge=0, le=100)
    eta_seconds: int | None = None


class JobQueueChanged(WireModel):
    """Queue positions that moved without a status change (jobs ahead of them started or
    left). Coalesced: one event carries every move since the last one; None = the job has
    left the line and its outcome is being looked up."""

    positions: dict[str, int | None]


class WorkflowStatusChanged(WireModel):
    workflow: WorkflowInfo
    previous: str | None = None


class AlertFired(WireModel):
    alert: Alert


class AlertResolved(WireModel):
    alert: Alert


class SystemStabilityChanged(WireModel):
    state: StabilityState
    active_jobs: int | None = None


class SystemSnapshotReceived(WireModel):
    """An external system (seed 004) pushed a new snapshot."""

    system: str
    availability: str | None = None
    timestamp: datetime | None = None
    summary: dict[str, Any] = Field(default_factory=dict)


class Topic:
    """Topic names a client subscribes to. ``job:<id>`` detail topics exist per job."""

    HEALTH: Final = "health"
    FOOTER: Final = "footer"
    CLOUD: Final = "cloud"
    JOBS: Final = "jobs"
    WORKFLOWS: Final = "workflows"
    ALERTS: Final = "alerts"
    SYSTEM: Final = "system"
    JOB_PROGRESS: Final = "job_progress"  # every job's progress: for windows that show them all
    JOB_DETAIL_PREFIX: Final = "job:"  # one job's progress and status: ``job:<id>``
    ACTIVITY: Final = "activity"  # the studio pulse feed (seed 002)
    ACTIVITY_ADMIN: Final = "activity_admin"  # feed items about services and alerts


#: event type -> (data model, topic it is published on)
EVENT_TYPES: Final[dict[str, tuple[type[BaseModel], str]]] = {
    "service.health_changed": (ServiceHealthChanged, Topic.HEALTH),
    "status.footer_changed": (FooterChanged, Topic.FOOTER),
    "cloud.pod_status_changed": (CloudPodStatusChanged, Topic.CLOUD),
    "job.status_changed": (JobStatusChanged, Topic.JOBS),
    "job.progress": (JobProgress, Topic.JOB_PROGRESS),
    "job.queue_changed": (JobQueueChanged, Topic.JOBS),
    "workflow.status_changed": (WorkflowStatusChanged, Topic.WORKFLOWS),
    "alert.fired": (AlertFired, Topic.ALERTS),
    "alert.resolved": (AlertResolved, Topic.ALERTS),
    "system.stability_changed": (SystemStabilityChanged, Topic.SYSTEM),
    "system.snapshot": (SystemSnapshotReceived, Topic.SYSTEM),
    "activity.created": (ActivityCreated, Topic.ACTIVITY),
    "activity.admin_created": (ActivityCreated, Topic.ACTIVITY_ADMIN),
    "system.readiness_changed": (ReadinessChanged, Topic.SYSTEM),
    "system.outage_changed": (SystemOutageChanged, Topic.SYSTEM),
}

EVENT_TOPICS: Final = frozenset(topic for _, topic in EVENT_TYPES.values())

#: Topics whose events carry infrastructure data; never delivered to non-admins.
ADMIN_TOPICS: Final = frozenset({Topic.HEALTH, Topic.CLOUD, Topic.ALERTS, Topic.ACTIVITY_ADMIN})


def topic_allowed(topic: str, role: Role) -> bool:
    """Whether ``role`` may receive events of ``topic``; the hub filters on this."""
    return role is Role.ADMIN or topic not in ADMIN_TOPICS


class Event(WireModel):
    """One event on the bus. ``data`` stays a dict on the wire; :meth:`typed` validates it."""

    seq: int = Field(ge=0)
    type: str = Field(min_length=1, max_length=200)
    ts: datetime
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.type in EVENT_TYPES

    @property
    def topic(self) -> str | None:
        entry = EVENT_TYPES.get(self.type)
        return entry[1] if entry else None

    def typed(self) -> BaseModel | None:
        """The validated data model, or None for an event type this version does not know."""
        return parse_event_data(self.type, self.data)


def parse_event_data(event_type: str, data: Any) -> BaseModel | None:
    """Validate the data of a known event type; unknown types give None (tolerated)."""
    entry = EVENT_TYPES.get(event_type)
    if entry is None:
        return None
    return parse_model(entry[0], data, f"{event_type} event")
