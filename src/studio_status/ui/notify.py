"""Which notices become desktop notifications, pure (no Qt).

One incident is one notice: per subject (a service, a job, the budget) we remember the
severity last told, and say nothing until it changes. Told: a service degraded or down, a
service recovered (healthy after not healthy), a job failed, the budget exceeded. Notices
older than the app (a snapshot's transitions) are history, not news.

The user's preferences (:class:`~studio_status.appconfig.NotificationSettings`: which
transitions, quiet hours) are applied by :func:`wanted`; a notice held back by them still
counts as told, so the end of quiet hours does not replay the night. Each notification
carries its :attr:`Notification.key` (segment + subject): a desktop notifier replaces the
previous notice with the same key (a service going degraded → down → recovered is one
notice that changes), and :attr:`Notification.segment` names the window a click opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from studio_status.appconfig import NotificationSettings, Transition
from studio_status.client.state import Notice, Segment, StatusState
from studio_status.protocol import BudgetStatus, HealthStatus

from .formats import SERVICE_LABELS

__all__ = ["Notification", "NotificationGate", "wanted"]

_HISTORY_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    severity: HealthStatus
    subject: str
    kind: Transition = Transition.SERVICE_DOWN
    segment: Segment = Segment.SERVICES

    @property
    def key(self) -> str:
        """One incident's identity: later notices with the same key replace this one."""
        return f"{self.segment.value}:{self.subject}"


def wanted(note: Notification, settings: NotificationSettings, local_now: time) -> bool:
    """True if the user wants ``note`` shown now (kind chosen, not in quiet hours)."""
    if not settings.enabled or note.kind not in settings.transitions:
        return False
    return not settings.is_quiet(local_now)


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
                        Transition.BUDGET_EXCEEDED,
                        Segment.CLOUD_GPU,
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
                down = notice.severity is HealthStatus.DOWN
                word = "is down" if down else "is degraded"
                label = SERVICE_LABELS.get(notice.subject, notice.subject)
                kind = Transition.SERVICE_DOWN if down else Transition.SERVICE_DEGRADED
                return Notification(
                    f"{label} {word}", notice.text, notice.severity, notice.subject, kind
                )
            if notice.severity is HealthStatus.HEALTHY:
                self._told[key] = notice.severity
                was_bad = last in (HealthStatus.DEGRADED, HealthStatus.DOWN) or notice.previous in (
                    HealthStatus.DEGRADED,
                    HealthStatus.DOWN,
                )
                if was_bad:
                    label = SERVICE_LABELS.get(notice.subject, notice.subject)
                    return Notification(
                        f"{label} recovered",
                        notice.text,
                        notice.severity,
                        notice.subject,
                        Transition.SERVICE_RECOVERED,
                    )
            return None
        if notice.segment is Segment.JOBS and notice.severity is HealthStatus.DOWN:
            if last is HealthStatus.DOWN:
                return None
            self._told[key] = notice.severity
            return Notification(
                "Job failed",
                notice.text,
                notice.severity,
                notice.subject,
                Transition.JOB_FAILED,
                Segment.JOBS,
            )
        if notice.segment is Segment.CLOUD_GPU and notice.severity is HealthStatus.DOWN:
            if last is HealthStatus.DOWN:
                return None
            self._told[key] = notice.severity
            return Notification(
                "Cloud GPU pod error",
                notice.text,
                notice.severity,
                notice.subject,
                Transition.POD_ERROR,
                Segment.CLOUD_GPU,
            )
        self._told[key] = notice.severity
        return None
