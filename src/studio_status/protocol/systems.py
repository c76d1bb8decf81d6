"""External systems (seed 004, generalised to any named system): snapshots, outages,
reservations.

Ingest models forbid unknown fields, so a collector's typo answers 422 naming the field
instead of being stored and silently ignored; what a collector has beyond this schema goes
in ``extra``. Read models are ordinary wire models (unknown fields kept).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from .common import HealthStatus, InputModel, WireModel

__all__ = [
    "Availability",
    "ComputeGroup",
    "FilesystemRow",
    "JobCounts",
    "LoginNode",
    "Outage",
    "OutageIn",
    "OutageSeverity",
    "OutageStatus",
    "QueueRow",
    "Reservation",
    "ReservationIn",
    "SnapshotResult",
    "SystemLatest",
    "SystemOutageChanged",
    "SystemPoint",
    "SystemSnapshotIn",
    "SystemSummary",
    "Utilization",
]

_Pct = Field(default=None, ge=0, le=100)
_Count = Field(default=None, ge=0)
_NAME = Field(min_length=1, max_length=100)


class Availability(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


class LoginNode(InputModel):
    name: str = _NAME
    available: bool = True
    users: int | None = _Count
    load: float | None = Field(default=None, ge=0)
    cpu_percent: float | None = _Pct
    gpu_percent: float | None = _Pct


class ComputeGroup(InputModel):
    """A compute partition (Derecho's cpu / gpu) or a node type (Casper's bigmem, gpu-a100).

    No count exceeds ``nodes_total``, nor do ``nodes_available`` and ``nodes_down``
    together (422)."""

    name: str = _NAME
    nodes_total: int = Field(ge=0)
    nodes_available: int | None = _Count
    nodes_down: int | None = _Count
    nodes_reserved: int | None = _Count
    nodes_allocated: int | None = _Count
    cores_per_node: int | None = _Count
    memory_gb_per_node: float | None = Field(default=None, ge=0)
    gpu_model: str | None = Field(default=None, max_length=100)
    gpus_per_node: int | None = _Count
    cpu_percent: float | None = _Pct
    gpu_percent: float | None = _Pct
    memory_percent: float | None = _Pct

    @model_validator(mode="after")
    def _fits(self) -> ComputeGroup:
        parts = {
            "nodes_available": self.nodes_available,
            "nodes_down": self.nodes_down,
            "nodes_reserved": self.nodes_reserved,
            "nodes_allocated": self.nodes_allocated,
        }
        for field, value in parts.items():
            if value is not None and value > self.nodes_total:
                raise ValueError(f"{field} ({value}) exceeds nodes_total ({self.nodes_total})")
        if (self.nodes_available or 0) + (self.nodes_down or 0) > self.nodes_total:
            raise ValueError("nodes_available + nodes_down exceeds nodes_total")
        return self


class Utilization(InputModel):
    cpu_percent: float | None = _Pct
    gpu_percent: float | None = _Pct
    memory_percent: float | None = _Pct


class JobCounts(InputModel):
    running: int | None = _Count
    pending: int | None = _Count


class QueueRow(InputModel):
    name: str = _NAME
    running_jobs: int | None = _Count
    pending_jobs: int | None = _Count
    active_users: int | None = _Count
    cores_allocated: int | None = _Count
    gpus_allocated: int | None = _Count
    nodes_allocated: int | None = _Count


class FilesystemRow(InputModel):
    """``used_tb`` does not exceed ``capacity_tb`` (422)."""

    name: str = _NAME
    available: bool = True
    degraded: bool = False
    capacity_tb: float | None = Field(default=None, ge=0)
    used_tb: float | None = Field(default=None, ge=0)
    utilization_percent: float | None = _Pct

    @model_validator(mode="after")
    def _fits(self) -> FilesystemRow:
        if (
            self.capacity_tb is not None
            and self.used_tb is not None
            and self.used_tb > self.capacity_tb
        ):
            raise ValueError("used_tb exceeds capacity_tb")
        return self


def _unique(rows: list[Any], field: str) -> None:
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.name in seen:
            raise ValueError(f"{field}.{i}.name: duplicate {row.name!r}")
        seen.add(row.name)


class SystemSnapshotIn(InputModel):
    """Body of ``POST /api/v1/status/{system}``: one point in the system's 5-minute series.

    ``timestamp`` defaults to the hub's receive time; a naive one is read as UTC. The pair
    (system, timestamp) is unique: posting it again replaces that snapshot (a retrying
    collector converges instead of duplicating). Rules the schema cannot state (422 when
    broken): ``timestamp`` is not in the future and not older than ``[systems]
    retention_days``; the names in ``login_nodes``, ``compute``, ``queues`` and
    ``filesystems`` are unique within each list.
    """

    timestamp: datetime | None = None
    availability: Availability = Availability.ONLINE
    message: str | None = Field(default=None, max_length=2000)
    login_nodes: list[LoginNode] = Field(default_factory=list, max_length=1000)
    compute: list[ComputeGroup] = Field(default_factory=list, max_length=1000)
    utilization: Utilization = Field(default_factory=Utilization)
    jobs: JobCounts = Field(default_factory=JobCounts)
    active_users: int | None = _Count
    queues: list[QueueRow] = Field(default_factory=list, max_length=1000)
    filesystems: list[FilesystemRow] = Field(default_factory=list, max_length=1000)
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_components(self) -> SystemSnapshotIn:
        _unique(self.login_nodes, "login_nodes")
        _unique(self.compute, "compute")
        _unique(self.queues, "queues")
        _unique(self.filesystems, "filesystems")
        return self


class SnapshotResult(WireModel):
    system: str
    timestamp: datetime
    created: bool  # False: an earlier snapshot with the same timestamp was replaced
    status: HealthStatus


class SystemPoint(WireModel):
    """One snapshot reduced to the figures a chart plots."""

    timestamp: datetime
    availability: Availability
    status: HealthStatus
    cpu_percent: float | None = None
    gpu_percent: float | None = None
    memory_percent: float | None = None
    jobs_running: int | None = None
    jobs_pending: int | None = None
    active_users: int | None = None


class OutageSeverity(StrEnum):
    MINOR = "minor"  # degraded
    MAJOR = "major"  # down
    MAINTENANCE = "maintenance"  # planned; degraded while it lasts


class OutageStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    SCHEDULED = "scheduled"
    RESOLVED = "resolved"


class OutageIn(InputModel):
    """Body of ``POST /api/v1/status/outage``. With ``id`` it updates that outage (404 to
    resolve an ``id`` never reported). ``end_time`` is not before ``start_time`` (422)."""

    id: str | None = Field(default=None, min_length=1, max_length=100)
    system: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    component: str | None = Field(default=None, max_length=100)
    severity: OutageSeverity = OutageSeverity.MINOR
    status: OutageStatus = OutageStatus.INVESTIGATING
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    start_time: datetime | None = None
    end_time: datetime | None = None
    estimated_resolution: datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> OutageIn:
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise ValueError("end_time is before start_time")
        return self


class Outage(WireModel):
    id: str
    system: str
    component: str | None = None
    severity: OutageSeverity
    status: OutageStatus
    title: str
    description: str | None = None
    start_time: datetime
    end_time: datetime | None = None
    estimated_resolution: datetime | None = None
    updated_at: datetime


class ReservationIn(InputModel):
    """Body of ``POST /api/v1/status/reservation``; (system, name) identifies it.
    ``end_time`` is after ``start_time`` (422)."""

    system: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    start_time: datetime
    end_time: datetime
    node_count: int | None = _Count
    partition: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _ordered(self) -> ReservationIn:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class Reservation(WireModel):
    system: str
    name: str
    start_time: datetime
    end_time: datetime
    node_count: int | None = None
    partition: str | None = None
    description: str | None = None


class SystemSummary(WireModel):
    """One system as the systems window lists it."""

    system: str
    status: HealthStatus
    availability: Availability | None = None
    last_snapshot_at: datetime | None = None
    age_seconds: float | None = None
    stale: bool = False
    active_outages: int = 0


class SystemLatest(WireModel):
    """``data`` of ``GET /api/v1/status/{system}/latest``."""

    system: str
    status: HealthStatus
    stale: bool
    age_seconds: float
    received_at: datetime
    snapshot: dict[str, Any]
    outages: list[Outage] = Field(default_factory=list)
    reservations: list[Reservation] = Field(default_factory=list)


class SystemOutageChanged(WireModel):
    """An outage was reported, updated or resolved."""

    outage: Outage
    previous_status: OutageStatus | None = None
