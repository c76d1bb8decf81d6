"""The hub's in-memory view of the latest state: what every read endpoint serves.

Nothing here waits on a probe or the database. The footer is rendered once per change and
per audience (admin / everyone else) and cached as bytes, so ``GET /api/v1/status/footer``
costs a dictionary lookup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime

from studio_status.protocol import (
    CheckRecord,
    CloudGpuSummary,
    FooterData,
    FooterEnvelope,
    FooterService,
    HealthStatus,
    JobsSummary,
    Role,
    ServiceHealth,
    Transition,
    UptimeWindow,
    WorkflowsSummary,
    worst_status,
)

from .checks.base import CheckResult
from .config import ServiceConfig

__all__ = ["HealthState"]

TRANSITIONS_KEPT = 50


class HealthState:
    """Latest reading per service, recent transitions, and the rendered footer."""

    def __init__(self, services: Sequence[ServiceConfig]) -> None:
        self._in_footer = {s.name: s.footer for s in services}
        self.services: dict[str, ServiceHealth] = {
            s.name: ServiceHealth(name=s.name, label=s.label, kind=s.check.kind) for s in services
        }
        self.transitions: deque[Transition] = deque(maxlen=TRANSITIONS_KEPT)
        self.jobs = JobsSummary()
        self.workflows = WorkflowsSummary()
        self.cloud_gpu: CloudGpuSummary | None = None
        self._footer_cache: dict[bool, bytes] = {}

    def restore(
        self,
        windows: dict[str, UptimeWindow],
        last: dict[str, CheckRecord],
        transitions: Sequence[Transition],
    ) -> None:
        """Resume from storage after a restart, so ``since`` and history survive it."""
        for name, svc in self.services.items():
            window, check = windows.get(name), last.get(name)
            if window is None or check is None:
                continue
            self.services[name] = svc.model_copy(
                update={"status": window.status, "since": window.started_at, **_reading(check)}
            )
        self.transitions.extend(t for t in transitions if t.service in self.services)
        self._footer_cache.clear()

    def ensure_service(
        self, name: str, label: str | None, kind: str, *, footer: bool = False
    ) -> bool:
        """Register a service that is not in the config (an external system, the cloud
        source) so it reads ``unknown`` until fed; returns whether it was new. Such services
        stay off the footer unless asked: the strip is for the studio's own core services.
        """
        if name in self.services:
            return False
        self.services[name] = ServiceHealth(name=name, label=label, kind=kind)
        self._in_footer[name] = footer
        self._footer_cache.clear()
        return True

    def apply(self, name: str, result: CheckResult, at: datetime) -> HealthStatus | None:
        """Record a reading; returns the previous status when the status changed, else None.

        A first reading after start (previous ``unknown`` with no ``since``) counts as a
        change, so subscribers learn the real status at once.
        """
        old = self.services[name]
        changed = old.status is not result.status or old.since is None
        self.services[name] = old.model_copy(
            update={
                "status": result.status,
                "latency_ms": result.latency_ms,
                "error_message": result.error_message,
                "details": result.details,
                "checked_at": at,
                "since": at if changed else old.since,
            }
        )
        self._footer_cache.clear()
        if not changed:
            return None
        self.transitions.append(
            Transition(
                service=name,
                previous=old.status,
                status=result.status,
                at=at,
                error_message=result.error_message,
            )
        )
        return old.status

    def apply_remote(self, previous: HealthStatus | None, current: ServiceHealth) -> bool:
        """Take a reading another replica made (from its ``service.health_changed``);
        False when this one already shows it."""
        name = current.name
        if name not in self.services or self.services[name] == current:
            return False
        old = self.services[name]
        if old.checked_at and current.checked_at and current.checked_at < old.checked_at:
            return False  # older than what this replica shows (events cross on the way)
        self.services[name] = current
        self._footer_cache.clear()
        if old.status is not current.status and current.checked_at is not None:
            self.transitions.append(
                Transition(
                    service=name,
                    previous=previous,
                    status=current.status,
                    at=current.since or current.checked_at,
                    error_message=current.error_message,
                )
            )
        return True

    def refresh_reading(self, name: str, check: CheckRecord) -> None:
        """Latency and check time from another replica's newest stored check (its status
        changes arrive as events; between them only these move)."""
        old = self.services.get(name)
        if old is None or (old.checked_at is not None and old.checked_at >= check.checked_at):
            return
        self.services[name] = old.model_copy(update=_reading(check))
        self._footer_cache.clear()

    def set_activity(self, jobs: JobsSummary, workflows: WorkflowsSummary) -> None:
        """New job and workflow summaries for the footer (from the job board)."""
        if jobs != self.jobs or workflows != self.workflows:
            self.jobs, self.workflows = jobs, workflows
            self._footer_cache.clear()

    def set_cloud(self, cloud: CloudGpuSummary | None) -> None:
        if cloud != self.cloud_gpu:
            self.cloud_gpu = cloud
            self._footer_cache.clear()

    @property
    def overall(self) -> HealthStatus:
        return worst_status([s.status for s in self.services.values()])

    def footer(self, role: Role) -> FooterData:
        admin = role is Role.ADMIN
        return FooterData(
            services=self._footer_services() if admin else None,
            cloud_gpu=self.cloud_gpu if admin else None,
            jobs=self.jobs,
            workflows=self.workflows,
        )

    def footer_json(self, role: Role) -> bytes:
        admin = role is Role.ADMIN
        cached = self._footer_cache.get(admin)
        if cached is None:
            cached = FooterEnvelope(data=self.footer(role)).model_dump_json().encode()
            self._footer_cache[admin] = cached
        return cached

    def _footer_services(self) -> dict[str, FooterService]:
        out: dict[str, FooterService] = {}
        for name, svc in self.services.items():
            if not self._in_footer.get(name, False):
                continue
            details = svc.details
            entry = FooterService(
                status=svc.status,
                checked_at=svc.checked_at,
                latency_ms=svc.latency_ms,
                label=svc.label,
            )
            if svc.kind == "comfyui" and isinstance(details.get("instances"), int):
                entry.instances = details["instances"]
            if svc.kind == "workers":
                online, total = details.get("online"), details.get("total")
                if isinstance(online, int) and isinstance(total, int):
                    entry.online, entry.total = online, total
            out[name] = entry
        return out


def _reading(check: CheckRecord) -> dict[str, object]:
    """What a stored check says of its service beyond the status: restored after a restart
    and refreshed from another replica's newest check alike."""
    return {
        "checked_at": check.checked_at,
        "latency_ms": check.latency_ms,
        "error_message": check.error_message,
        "details": check.details,
    }
