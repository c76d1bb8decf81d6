"""The hub's job model: jobs and workflows from the push API and sources, with ETAs.

Rules kept here, without I/O, so the push API, the ComfyUI source and the simulator all go
through the same path:

- A repeated ``event_id`` is dropped (pushers retry), an event of a job older than the last
  one applied is refused as out of order, and nothing rewinds a finished job.
- Progress is only what a source reports; a running job with no report has ``progress``
  None (shown as indeterminate), never an invented number.
- ETA of a running job: remaining progress over the rate observed since its first progress
  report. The footer's cumulative ETA (seed 000's open question) is the longest ETA among
  running jobs — they run side by side on different workers, so the last one to finish
  decides when "everything running now" is done. Queued jobs are left out: their run time
  is unknown until they start, and guessing would make the number lie.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from studio_status.protocol import (
    JobEventIn,
    JobInfo,
    JobProgress,
    JobsSummary,
    JobStatus,
    JobStatusChanged,
    WorkflowEventIn,
    WorkflowInfo,
    WorkflowsSummary,
    WorkflowStatusChanged,
    utcnow,
)

__all__ = ["ACTIVE", "Applied", "JobBoard"]

ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
_FINAL = {
    "completed": JobStatus.COMPLETED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
}

Outgoing = list[tuple[str, BaseModel]]


class Applied:
    """Outcome of one pushed event: the events to publish, or why nothing happened."""

    def __init__(
        self,
        events: Outgoing | None = None,
        reason: str | None = None,
        changed: JobInfo | WorkflowInfo | None = None,
    ) -> None:
        self.events: Outgoing = events or []
        self.reason = reason
        self.changed = changed  # the new state to store

    @property
    def applied(self) -> bool:
        return self.reason is None


class JobBoard:
    def __init__(
        self,
        clock: Callable[[], datetime] = utcnow,
        *,
        recent_kept: int = 200,
        seen_kept: int = 20_000,
    ) -> None:
        self._clock = clock
        self.jobs: dict[str, JobInfo] = {}
        self.recent: deque[JobInfo] = deque(maxlen=recent_kept)
        self.workflows: dict[str, WorkflowInfo] = {}
        self.recent_workflows: deque[WorkflowInfo] = deque(maxlen=recent_kept)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_kept = seen_kept
        self._last_at: dict[str, datetime] = {}
        self._first_progress: dict[str, tuple[datetime, float]] = {}
        #: jobs that ended since the hub started, by final status (for the metrics)
        self.finished: Counter[JobStatus] = Counter()

    # -- restore ------------------------------------------------------------------------

    def restore(self, jobs: Iterable[JobInfo], workflows: Iterable[WorkflowInfo]) -> None:
        for job in jobs:
            if job.status in ACTIVE:
                self.jobs[job.id] = job
            else:
                self.recent.append(job)
        for wf in workflows:
            if wf.status in ACTIVE:
                self.workflows[wf.id] = wf
            else:
                self.recent_workflows.append(wf)

    # -- events -------------------------------------------------------------------------

    def _duplicate(self, event_id: str) -> bool:
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        if len(self._seen) > self._seen_kept:
            self._seen.popitem(last=False)
        return False

    def knows(self, job_id: str) -> bool:
        """Whether ``job_id`` is active or among the recent finished jobs."""
        return job_id in self.jobs or any(j.id == job_id for j in self.recent)

    def apply_job(self, ev: JobEventIn) -> Applied:
        if self._duplicate(ev.event_id):
            return Applied(reason="duplicate event_id")
        at = ev.at or self._clock()
        last = self._last_at.get(ev.job_id)
        if last is not None and at < last:
            return Applied(
                reason=f"out of order: job {ev.job_id} already has an event at {last.isoformat()}"
            )
        old = self.jobs.get(ev.job_id)
        if old is None and any(j.id == ev.job_id for j in self.recent):
            return Applied(reason=f"job {ev.job_id} has already finished")
        self._last_at[ev.job_id] = at
        job = old or JobInfo(id=ev.job_id, status=JobStatus.QUEUED, submitted_at=at)
        updates: dict[str, Any] = {
            k: v
            for k, v in {
                "type": ev.type,
                "project": ev.project,
                "worker": ev.worker,
                "submitted_by": ev.submitted_by,
                "queue_position": ev.queue_position,
            }.items()
            if v is not None
        }
        if ev.kind == "created":
            updates["status"] = job.status
            if (
                job.status is JobStatus.QUEUED
                and updates.get("queue_position") is None
                and (old is None or old.queue_position is None)
            ):
                # the source gives no position: first come, first served behind the others
                updates["queue_position"] = 1 + sum(
                    1 for j in self.jobs.values() if j.status is JobStatus.QUEUED
                )
        elif ev.kind == "started":
            updates.update(status=JobStatus.RUNNING, started_at=at, queue_position=None)
        elif ev.kind == "progress":
            if job.status is JobStatus.QUEUED:
                updates.update(status=JobStatus.RUNNING, started_at=at, queue_position=None)
            if ev.progress is not None:
                updates["progress"] = ev.progress
                updates["eta_seconds"] = self._eta(ev.job_id, at, ev.progress)
        else:
            updates.update(
                status=_FINAL[ev.kind],
                finished_at=at,
                error=ev.error,
                eta_seconds=None,
                queue_position=None,
            )
            if ev.kind == "completed":
                updates["progress"] = 100.0
        new = job.model_copy(update=updates)
        events: Outgoing = []
        if (
            old is not None
            and old.status is JobStatus.QUEUED
            and new.status is not JobStatus.QUEUED
        ):
            self._close_queue_gap(old.queue_position)
        if new.status in ACTIVE:
            self.jobs[new.id] = new
        else:
            self.jobs.pop(new.id, None)
            self.recent.append(new)
            if old is None or old.status is not new.status:
                self.finished[new.status] += 1
            self._first_progress.pop(new.id, None)
            self._last_at.pop(new.id, None)
        if old is None or old.status is not new.status:
            previous = old.status.value if old else None
            events.append(("job.status_changed", JobStatusChanged(job=new, previous=previous)))
        if ev.kind == "progress" and ev.progress is not None:
            events.append(
                (
                    "job.progress",
                    JobProgress(job_id=new.id, progress=new.progress, eta_seconds=new.eta_seconds),
                )
            )
        if ev.workflow_id and ev.workflow_id in self.workflows:
            wf = self.workflows[ev.workflow_id]
            if new.id not in wf.job_ids:
                self.workflows[wf.id] = wf.model_copy(update={"job_ids": [*wf.job_ids, new.id]})
        return Applied(events, changed=new)

    def _close_queue_gap(self, position: int | None) -> None:
        """A job left the queue: those behind it move up one place (sources that report
        positions again simply overwrite them)."""
        if position is None:
            return
        for job_id, job in self.jobs.items():
            if (
                job.status is JobStatus.QUEUED
                and job.queue_position is not None
                and job.queue_position > position
            ):
                self.jobs[job_id] = job.model_copy(
                    update={"queue_position": job.queue_position - 1}
                )

    def _eta(self, job_id: str, at: datetime, progress: float) -> int | None:
        first = self._first_progress.setdefault(job_id, (at, progress))
        elapsed = (at - first[0]).total_seconds()
        gained = progress - first[1]
        if elapsed <= 0 or gained <= 0:
            return None
        return round((100.0 - progress) * elapsed / gained)

    def apply_workflow(self, ev: WorkflowEventIn) -> Applied:
        if self._duplicate(ev.event_id):
            return Applied(reason="duplicate event_id")
        old = self.workflows.get(ev.workflow_id)
        if old is None and any(w.id == ev.workflow_id for w in self.recent_workflows):
            return Applied(reason=f"workflow {ev.workflow_id} has already finished")
        wf = old or WorkflowInfo(id=ev.workflow_id, name=ev.name or ev.workflow_id)
        updates: dict[str, Any] = {}
        if ev.name:
            updates["name"] = ev.name
        if ev.stage:
            updates["stage"] = ev.stage
        if ev.job_ids is not None:
            updates["job_ids"] = list(ev.job_ids)
        if ev.kind in _FINAL:
            updates["status"] = _FINAL[ev.kind]
        new = wf.model_copy(update=updates)
        if new.status in ACTIVE:
            self.workflows[new.id] = new
        else:
            self.workflows.pop(new.id, None)
            self.recent_workflows.append(new)
        if old is not None and old == new:
            return Applied()
        previous = old.stage or old.status.value if old else None
        return Applied(
            [("workflow.status_changed", WorkflowStatusChanged(workflow=new, previous=previous))],
            changed=new,
        )

    # -- summaries ----------------------------------------------------------------------

    def summary(self) -> JobsSummary:
        running = [j for j in self.jobs.values() if j.status is JobStatus.RUNNING]
        queued = sum(1 for j in self.jobs.values() if j.status is JobStatus.QUEUED)
        reported = [j.progress for j in running if j.progress is not None]
        etas = [j.eta_seconds for j in running if j.eta_seconds is not None]
        return JobsSummary(
            running=len(running),
            queued=queued,
            overall_progress=round(sum(reported) / len(reported)) if reported else None,
            eta_seconds=max(etas) if etas else None,
        )

    def workflows_summary(self) -> WorkflowsSummary:
        stages = Counter(w.stage for w in self.workflows.values() if w.stage)
        return WorkflowsSummary(
            active=len(self.workflows),
            current_stage=stages.most_common(1)[0][0] if stages else None,
        )
