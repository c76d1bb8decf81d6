"""Real protocol models for UI tests: snapshots, footers and events as the hub sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from studio_status.protocol import (
    BudgetStatus,
    CloudGpuSummary,
    Event,
    FooterData,
    FooterService,
    HealthStatus,
    JobsSummary,
    Role,
    ServiceHealth,
    Snapshot,
    SnapshotMessage,
    WorkflowsSummary,
)

# -- model factories ------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 4, 31, tzinfo=UTC)


def services(
    comfyui: HealthStatus = HealthStatus.HEALTHY,
    database: HealthStatus = HealthStatus.HEALTHY,
    workers: HealthStatus = HealthStatus.HEALTHY,
    at: datetime = NOW,
) -> dict[str, FooterService]:
    return {
        "comfyui": FooterService(status=comfyui, instances=2, checked_at=at, latency_ms=12),
        "database": FooterService(status=database, latency_ms=3, checked_at=at),
        "workers": FooterService(status=workers, online=3, total=4, checked_at=at),
    }


def footer(
    role: Role = Role.ADMIN,
    *,
    svc: dict[str, FooterService] | None = None,
    pods: int = 2,
    cents: int = 124,
    budget: BudgetStatus = BudgetStatus.WITHIN_BUDGET,
    running: int = 3,
    queued: int = 5,
    progress: int | None = 72,
    workflows: int = 2,
    stage: str | None = "generating",
) -> FooterData:
    admin = role is Role.ADMIN
    return FooterData(
        services=(svc if svc is not None else services()) if admin else None,
        cloud_gpu=CloudGpuSummary(active_pods=pods, cost_per_hour_cents=cents, budget_status=budget)
        if admin
        else None,
        jobs=JobsSummary(running=running, queued=queued, overall_progress=progress),
        workflows=WorkflowsSummary(active=workflows, current_stage=stage),
    )


def snapshot(
    role: Role = Role.ADMIN, seq: int = 1, data: FooterData | None = None
) -> SnapshotMessage:
    return SnapshotMessage(
        seq=seq,
        ts=datetime.now(UTC),
        hub_id="hub-test",
        data=Snapshot(role=role, footer=data if data is not None else footer(role)),
    )


def health_event(
    seq: int,
    service: str,
    status: HealthStatus,
    previous: HealthStatus | None,
    at: datetime | None = None,
) -> Event:
    at = at or datetime.now(UTC)
    current = ServiceHealth(name=service, status=status, checked_at=at, latency_ms=5)
    return Event(
        seq=seq,
        type="service.health_changed",
        ts=at,
        data={
            "service": service,
            "previous": previous.value if previous else None,
            "current": current.model_dump(mode="json"),
        },
    )


def footer_event(seq: int, data: FooterData) -> Event:
    return Event(
        seq=seq,
        type="status.footer_changed",
        ts=datetime.now(UTC),
        data={"footer": data.model_dump(mode="json")},
    )


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
