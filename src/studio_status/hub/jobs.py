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
  is unknown until they start, and guessing would make the number lie; ``eta_covers`` says
  so (``running``) whenever something is queued. Except for jobs queued for one worker that
  runs one job at a time (a ComfyUI instance): behind its current job they take about its
  typical (median) recent run time each, and then the ETA covers ``all``.
- Every active job has a lease: any event of it (or ``alive``) renews it. A job nobody
  vouches for within ``stall_seconds`` is marked stalled (``stalled_since`` = when it was
  last vouched for, with the reason); ``lost_seconds`` later it ends as ``lost``. A lost
  job's ``finished_at`` is when it was last known alive, so its duration never includes the
  silence. Stalled jobs are counted apart in the summary, not as running or queued.
- Queue positions a source reports are set together (:meth:`JobBoard.set_positions`), so
  two jobs never share a place; moves without a status change are collected in
  :attr:`JobBoard.moved` for one coalesced ``job.queue_changed`` event.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
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
    "lost": JobStatus.LOST,
}
# kinds that speak about a job the hub must already know
_ABOUT_KNOWN = frozenset({"alive", "stalled", "lost"})

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
        self._vouched: dict[str, datetime] = {}  # job id -> when its source last spoke of it
        self._explicit: set[str] = set()  # queued jobs whose source reports its whole line
        self._n = 0
        self._run_times: dict[str, deque[float]] = {}  # worker -> recent run seconds
        #: queue positions changed without a status event since :meth:`take_moves`
        self.moved: dict[str, int | None] = {}
        #: jobs that ended since the hub started, by final status (for the metrics)
        self.finished: Counter[JobStatus] = Counter()

    # -- restore ------------------------------------------------------------------------

    def restore(self, jobs: Iterable[JobInfo], workflows: Iterable[WorkflowInfo]) -> None:
        """Jobs as the last run left them; an active one's lease starts now (its source
        gets one lease to vouch for it again)."""
        now = self._clock()
        for job in jobs:
            if job.status in ACTIVE:
                self.jobs[job.id] = job
                self._vouched[job.id] = now
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

    def vouched_at(self, job_id: str) -> datetime | None:
        """When an active job's source last spoke of it (None for a job not active)."""
        return self._vouched.get(job_id)

    def apply_job(self, ev: JobEventIn) -> Applied:
        if self._duplicate(ev.event_id):
            return Applied(reason="duplicate event_id")
        at = ev.at or self._clock()
        last = self._last_at.get(ev.job_id)
        if ev.kind == "stalled" and last is not None:
            at = max(at, last)  # "not heard of since" may predate the last event applied
        if last is not None and at < last:
            return Applied(
                reason=f"out of order: job {ev.job_id} already has an event at {last.isoformat()}"
            )
        old = self.jobs.get(ev.job_id)
        if old is None and any(j.id == ev.job_id for j in self.recent):
            return Applied(reason=f"job {ev.job_id} has already finished")
        if old is None and ev.kind in _ABOUT_KNOWN:
            return Applied(reason=f"job {ev.job_id} is not known")
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
                "name": ev.name,
                "source": ev.source,
            }.items()
            if v is not None
        }
        if ev.kind == "stalled":
            if job.stalled_since is None:
                updates.update(stalled_since=at, stall_reason=ev.error or "no word from its source")
        else:
            self._vouched[ev.job_id] = at
            if ev.kind != "lost":
                updates.update(stalled_since=None, stall_reason=None)
        if ev.kind in ("alive", "stalled"):
            pass
        elif ev.kind == "created":
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
                # a lost job ended, as far as anyone knows, when it was last vouched for
                finished_at=job.stalled_since if ev.kind == "lost" and job.stalled_since else at,
                error=ev.error,
                eta_seconds=None,
                queue_position=None,
            )
            if ev.kind == "completed":
                updates["progress"] = 100.0
                updates["cached"] = ev.cached
        new = job.model_copy(update=updates)
        events: Outgoing = []
        if (
            old is not None
            and old.status is new.status is JobStatus.QUEUED
            and old.queue_position != new.queue_position
        ):
            self.moved[new.id] = new.queue_position
        if (
            old is not None
            and old.status is JobStatus.QUEUED
            and new.status is not JobStatus.QUEUED
        ):
            self._close_queue_gap(old.queue_position, new.source)
        if new.status in ACTIVE:
            self.jobs[new.id] = new
        else:
            self._forget(new.id)
            self.recent.append(new)
            self._learn_run_time(new)
            if old is None or old.status is not new.status:
                self.finished[new.status] += 1
        if old is None or old.status is not new.status or old.stalled_since != new.stalled_since:
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

    def _forget(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
        self._first_progress.pop(job_id, None)
        self._last_at.pop(job_id, None)
        self._vouched.pop(job_id, None)
        self._explicit.discard(job_id)
        self.moved.pop(job_id, None)

    def _close_queue_gap(self, position: int | None, source: str | None) -> None:
        """A job left the queue: those of its source behind it move up one place. (A
        source reporting its whole line takes a job out of it, position None, as soon as
        it is gone from the line, so its later end moves nobody twice.)"""
        if position is None:
            return
        for job_id, job in self.jobs.items():
            if (
                job.status is JobStatus.QUEUED
                and job.source == source
                and job.queue_position is not None
                and job.queue_position > position
            ):
                self._move(job_id, job.queue_position - 1)

    def _move(self, job_id: str, position: int | None) -> JobInfo:
        job = self.jobs[job_id].model_copy(update={"queue_position": position})
        self.jobs[job_id] = job
        self.moved[job_id] = position
        return job

    def set_positions(self, source: str, positions: Mapping[str, int]) -> list[JobInfo]:
        """The whole line of ``source`` at once, as it reported it: its queued jobs not in
        ``positions`` have left the line (position None until their outcome is known).
        Returns the jobs whose position changed (to store)."""
        changed = []
        for job_id, job in list(self.jobs.items()):
            if job.status is not JobStatus.QUEUED or job.source != source:
                continue
            self._explicit.add(job_id)
            position = positions.get(job_id)
            if job.queue_position != position:
                changed.append(self._move(job_id, position))
        return changed

    def leaving(self, job: JobInfo) -> bool:
        """A queued job its source no longer shows in line, whose outcome it is looking up
        (not counted as queued: it is not waiting any more)."""
        return (
            job.status is JobStatus.QUEUED
            and job.id in self._explicit
            and job.queue_position is None
        )

    def take_moves(self) -> dict[str, int | None]:
        """Positions moved since the last call (of jobs still queued), and forget them."""
        moves = {
            k: v
            for k, v in self.moved.items()
            if k in self.jobs and self.jobs[k].status is JobStatus.QUEUED
        }
        self.moved = {}
        return moves

    # -- leases -------------------------------------------------------------------------

    def _internal(self, kind: str, job: JobInfo, at: datetime, reason: str) -> Applied:
        self._n += 1
        return self.apply_job(
            JobEventIn(
                event_id=f"hub-lease-{id(self)}-{self._n}",
                kind=kind,
                job_id=job.id,
                at=max(at, self._last_at.get(job.id, at)),
                error=reason,
            )
        )

    def sweep(self, stall_after: float, lost_after: float) -> list[Applied]:
        """Stall the jobs nobody vouched for within ``stall_after`` seconds, and end as lost
        those stalled for ``lost_after`` more."""
        now = self._clock()
        out = []
        for job in list(self.jobs.values()):
            vouched = self._vouched.get(job.id, now)
            if job.stalled_since is not None:
                if now - job.stalled_since >= timedelta(seconds=lost_after):
                    reason = f"{job.stall_reason}; given up after {_span(lost_after)} stalled"
                    out.append(self._internal("lost", job, now, reason))
            elif now - vouched >= timedelta(seconds=stall_after):
                reason = f"no word from {job.source or 'its source'} for {_span(stall_after)}"
                applied = self._internal("stalled", job, vouched, reason)
                out.append(applied)
        return [a for a in out if a.applied]

    def abandon(self, source: str, reason: str) -> list[Applied]:
        """``source`` knows it will never report these jobs again (a restarted simulator):
        every active job of it ends as lost now."""
        now = self._clock()
        return [
            self._internal("lost", job, now, reason)
            for job in list(self.jobs.values())
            if job.source == source
        ]

    def stall_orphans(self, sources: Iterable[str], reason: str) -> list[Applied]:
        """Active jobs whose source is none of ``sources`` (not configured any more): stalled
        now, lost after the lease like any job nobody vouches for."""
        known = {*sources, "push"}
        now = self._clock()
        return [
            self._internal("stalled", job, now, reason.format(source=job.source))
            for job in list(self.jobs.values())
            if (job.source or "push") not in known and job.stalled_since is None
        ]

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

    def _learn_run_time(self, job: JobInfo) -> None:
        if (
            job.status is JobStatus.COMPLETED
            and not job.cached
            and job.worker
            and job.started_at
            and job.finished_at
        ):
            seconds = (job.finished_at - job.started_at).total_seconds()
            self._run_times.setdefault(job.worker, deque(maxlen=20)).append(seconds)

    def _queue_eta(self, running: list[JobInfo], queued: list[JobInfo]) -> int | None:
        """When the queued jobs will be done too, or None when that cannot be told: only
        for jobs queued for a worker that runs one job at a time (a ComfyUI instance),
        whose recent runs give a typical run time, behind a current job with an ETA."""
        totals = []
        for worker, waiting in Counter(j.worker for j in queued).items():
            runs = self._run_times.get(worker) if worker else None
            if not runs:
                return None
            current = [j for j in running if j.worker == worker]
            if any(j.eta_seconds is None for j in current):
                return None
            head = max((j.eta_seconds or 0 for j in current), default=0)
            typical = sorted(runs)[len(runs) // 2]
            totals.append(head + waiting * typical)
        return round(max(totals)) if totals else None

    def summary(self) -> JobsSummary:
        live = [j for j in self.jobs.values() if j.stalled_since is None]
        running = [j for j in live if j.status is JobStatus.RUNNING]
        queued = [j for j in live if j.status is JobStatus.QUEUED and not self.leaving(j)]
        reported = [j.progress for j in running if j.progress is not None]
        etas = [j.eta_seconds for j in running if j.eta_seconds is not None]
        eta = max(etas) if etas else None
        covers: str | None = ("running" if queued else "all") if etas else None
        if queued and (all(j.eta_seconds is not None for j in running)):
            behind = self._queue_eta(running, queued)
            if behind is not None:
                eta, covers = max(eta or 0, behind), "all"
        return JobsSummary(
            running=len(running),
            queued=len(queued),
            overall_progress=round(sum(reported) / len(reported)) if reported else None,
            eta_seconds=eta,
            eta_covers=covers,
            stalled=(len(self.jobs) - len(live)) or None,
        )

    def workflows_summary(self) -> WorkflowsSummary:
        stages = Counter(w.stage for w in self.workflows.values() if w.stage)
        return WorkflowsSummary(
            active=len(self.workflows),
            current_stage=stages.most_common(1)[0][0] if stages else None,
        )


def _span(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
