"""Which notices become desktop notifications, pure (no Qt).

One incident is one notice: per subject (a service, a job, the budget) we remember the
severity last told, and say nothing until it changes. Told: a service degraded or down, a
service recovered (healthy after not healthy), a job failed, the budget exceeded. Notices
older than the app (a snapshot's transitions) are history, not news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from studio_status.client.state import Notice, Segment, StatusState
from studio_status.protocol import BudgetStatus, HealthStatus

from .formats import SERVICE_LABELS

__all__ = ["Notification", "NotificationGate"]

_HISTORY_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    severity: HealthStatus
    subject: str


class NotificationGate:
    """Feed it states; it returns the notifications worth showing, once per incident."""

    def __init__(self, started: datetime) -> None:
        self._started = started
        self._last_id = 0
        self._told: dict[tuple[Segment, str], HealthStatus] = {}
        self._budget: BudgetStatus | None = None

    def feed(self, state: StatusState) -> list[Notification]:
        out: list[Notification] = []
        notices = sorted(
            (n for seg in state.history.values() for n in seg if n.id > self._last_id),
            key=lambda n: n.id,
        )
        self._last_id = max(self._last_id, state.last_notice_id)
        for notice in notices:
            note = self._consider(notice)
            if note is not None:
                out.append(note)
        cloud = state.footer.cloud_gpu if state.footer else None
        if cloud is not None:
            budget = cloud.budget_status
            if budget is BudgetStatus.EXCEEDED and self._budget is not BudgetStatus.EXCEEDED:
                out.append(
                    Notification(
                        "Cloud GPU budget exceeded",
                        f"{cloud.active_pods} pods running",
                        HealthStatus.DOWN,
                        "budget",
                    )
                )
            self._budget = budget
        return out

    def _consider(self, notice: Notice) -> Notification | None:
        if notice.at < self._started - _HISTORY_GRACE:
            self._told[(notice.segment, notice.subject)] = notice.severity
            return None
        key = (notice.segment, notice.subject)
        last = self._told.get(key)
        if notice.segment is Segment.SERVICES:
            if notice.severity in (HealthStatus.DEGRADED, HealthStatus.DOWN):
                if last is notice.severity:
                    return None
                self._told[key] = notice.severity
                word = "is down" if notice.severity is HealthStatus.DOWN else "is degraded"
                label = SERVICE_LABELS.get(notice.subject, notice.subject)
                return Notification(f"{label} {word}", notice.text, notice.severity, notice.subject)
            if notice.severity is HealthStatus.HEALTHY:
                self._told[key] = notice.severity
                was_bad = last in (HealthStatus.DEGRADED, HealthStatus.DOWN) or notice.previous in (
                    HealthStatus.DEGRADED,
                    HealthStatus.DOWN,
                )
                if was_bad:
                    label = SERVICE_LABELS.get(notice.subject, notice.subject)
                    return Notification(
                        f"{label} recovered", notice.text, notice.severity, notice.subject
                    )
            return None
        if notice.segment is Segment.JOBS and notice.severity is HealthStatus.DOWN:
            if last is HealthStatus.DOWN:
                return None
            self._told[key] = notice.severity
            return Notification("Job failed", notice.text, notice.severity, notice.subject)
        if notice.segment is Segment.CLOUD_GPU and notice.severity is HealthStatus.DOWN:
            if last is HealthStatus.DOWN:
                return None
            self._told[key] = notice.severity
            return Notification("Cloud GPU pod error", notice.text, notice.severity, notice.subject)
        self._told[key] = notice.severity
        return None
