"""The one state store every view reads: pure rules, no I/O, no Qt.

The network side (:mod:`studio_status.client.stream`) feeds it snapshots, events and
polled footers; views subscribe and repaint. The store never blocks and never raises on
data from the wire: a message that does not fit is dropped with a log line.

Segment history: every change worth telling (a service changing status, a pod, a job
failing, the budget) becomes a :class:`Notice` with an increasing ``id``, kept per segment
(last :data:`HISTORY` of each) so the strip can show "last 5 transitions", flash on a new
degrade, and the tray can notify once per notice.

Details: data a detail window needs beyond the live state (a service's 24 h of checks, the
uptime timeline, logs, costs ...) is fetched by :mod:`studio_status.client.details` and
kept here under a resource key (``service:comfyui``, ``uptime:24h``) as a
:class:`DetailEntry`: the last good value, when it was fetched, and the last error. A failed
refresh keeps the old value, so a window can show it with the error beside it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from studio_status.protocol import (
    Alert,
    AlertFired,
    AlertResolved,
    BudgetStatus,
    CloudPod,
    CloudPodStatusChanged,
    Event,
    FooterChanged,
    FooterData,
    FooterService,
    HealthStatus,
    JobInfo,
    JobProgress,
    JobQueueChanged,
    JobStatus,
    JobStatusChanged,
    ProtocolError,
    Role,
    ServiceHealth,
    ServiceHealthChanged,
    SnapshotMessage,
    StabilityState,
    StabilityStatus,
    SystemSnapshotReceived,
    SystemStabilityChanged,
    WorkflowInfo,
    WorkflowStatusChanged,
    utcnow,
    worst_status,
)
from studio_status.protocol.checklist import ReadinessChanged
from studio_status.protocol.dashboard import ActivityCreated, ActivityItem
from studio_status.protocol.systems import Outage, SystemOutageChanged

from .link import LinkProblem

__all__ = [
    "HISTORY",
    "ConnectionState",
    "DetailEntry",
    "Notice",
    "Segment",
    "Source",
    "StatusState",
    "StatusStore",
]

# a lost job may have finished fine: nobody can tell, which is worth a look, not an alarm
_JOB_SEVERITY = {JobStatus.FAILED: HealthStatus.DOWN, JobStatus.LOST: HealthStatus.DEGRADED}

log = logging.getLogger("client.state")

#: Notices kept per segment (seed 000, 2.2 shows the last 5).
HISTORY = 5
#: Live activity items kept (the feed's first page is 50, seed 002 note 3).
ACTIVITY_KEPT = 200


class ConnectionState(StrEnum):
    """How fresh the data is. Views must say so when it is not ``live``."""

    CONNECTING = "connecting"  # nothing heard yet this run (data may come from the cache)
    LIVE = "live"  # the event stream is up
    POLLING = "polling"  # the stream is down, footer polling answers
    OFFLINE = "offline"  # nothing answers


class Segment(StrEnum):
    SERVICES = "services"
    CLOUD_GPU = "cloud_gpu"
    WORKFLOWS = "workflows"
    JOBS = "jobs"


@dataclass(frozen=True)
class Notice:
    """A change worth telling a person about; ``severity`` drives colour and notifications."""

    id: int
    segment: Segment
    at: datetime
    subject: str
    severity: HealthStatus
    text: str
    previous: HealthStatus | None = None
    #: what it is about, in words (``DB``, ``render job-7-719``), and what the text's
    #: headline would not say (the error): a notification's title and body
    label: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Source:
    """Whose data this is: the profile and the hub it names, shown on the strip's right end
    and in the tray, so two studios or two roles on one desktop are never confused.

    ``hub`` is the URL, or "this computer" for a hub the app runs itself; ``override`` is
    True when ``--hub`` / ``--token`` replace what the profile says (never saved);
    ``insecure`` when the profile turned certificate checks off (said on the strip).
    """

    profile: str
    hub: str
    override: bool = False
    insecure: bool = False


@dataclass(frozen=True)
class DetailEntry:
    """One fetched resource: ``value`` is the last good answer (None until one came).

    ``loading`` is True while a fetch runs; ``error`` is the last failure's one-line reason,
    cleared by the next success; ``missing`` says the hub has no such route or resource
    (HTTP 404), which a window shows as "not available" rather than as an outage.
    """

    value: object | None = None
    fetched_at: datetime | None = None
    error: str | None = None
    loading: bool = False
    missing: bool = False


@dataclass(frozen=True)
class StatusState:
    """An immutable view of everything known; views read only this."""

    role: Role | None = None
    footer: FooterData | None = None
    services: dict[str, ServiceHealth] = field(default_factory=dict)
    jobs: dict[str, JobInfo] = field(default_factory=dict)
    workflows: dict[str, WorkflowInfo] = field(default_factory=dict)
    pods: dict[str, CloudPod] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    stability: StabilityState | None = None
    history: dict[Segment, tuple[Notice, ...]] = field(default_factory=dict)
    connection: ConnectionState = ConnectionState.CONNECTING
    stale: bool = True
    offline_since: datetime | None = None
    updated_at: datetime | None = None
    last_seq: int | None = None
    hub_id: str | None = None
    simulated: bool = False
    systems: dict[str, SystemSnapshotReceived] = field(default_factory=dict)
    outages: dict[str, Outage] = field(default_factory=dict)
    readiness: ReadinessChanged | None = None
    activity: tuple[ActivityItem, ...] = ()
    details: dict[str, DetailEntry] = field(default_factory=dict)
    #: why there is no live data (None when live, or not known yet); one value all views say
    problem: LinkProblem | None = None
    source: Source | None = None
    #: the footer on screen came from the disk cache and nothing live replaced it yet
    cached: bool = False
    #: problems of the app itself (a repaired settings file, no keyring), by key: shown at
    #: the top of the tray menu and as a mark on the strip until dealt with
    app_problems: dict[str, str] = field(default_factory=dict)
    #: services whose open incident the hub calls flapping (snapshot, then alert events)
    flapping: frozenset[str] = frozenset()
    #: when the link last became live (desktop clock): anything dated before is catch-up
    #: (replay after a start, a reconnect, a resume from sleep), even for a view that only
    #: sees coalesced states and so never saw the link down
    live_since: datetime | None = None
    version: int = 0

    def muted(self, name: str, now: datetime | None = None) -> bool:
        """Whether the hub holds notices for service ``name`` (muted from any desktop)."""
        svc = self.services.get(name)
        until = svc.muted_until if svc is not None else None
        return until is not None and until > (now or utcnow())

    @property
    def worst(self) -> HealthStatus:
        """Worst service state, ``unknown`` when disconnected or nothing is known.

        Muted services are left out (they are marked as muted where they are shown), unless
        every service is muted: then they all count, rather than pretending all is well.
        """
        if self.connection is ConnectionState.OFFLINE or not self.footer:
            return HealthStatus.UNKNOWN
        services = self.footer.services
        if not services:
            return HealthStatus.UNKNOWN
        now = utcnow()
        heard = [s.status for n, s in services.items() if not self.muted(n, now)]
        return worst_status(heard or [s.status for s in services.values()])

    @property
    def last_notice_id(self) -> int:
        return max((n[-1].id for n in self.history.values() if n), default=0)


Listener = Callable[[StatusState], None]


class StatusStore:
    """Holds the current :class:`StatusState` and tells listeners when it changes.

    Listeners are called synchronously after each change; repaint coalescing is the
    view side's job (:class:`studio_status.client.coalesce.Coalescer`), so the store stays
    cheap under a burst of thousands of events.
    """

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._state = StatusState()
        self._listeners: list[Listener] = []
        self._history: dict[Segment, deque[Notice]] = {s: deque(maxlen=HISTORY) for s in Segment}
        self._notice_id = 0

    @property
    def state(self) -> StatusState:
        return self._state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that removes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- inputs -----------------------------------------------------------------------

    def load_cached(
        self,
        footer: FooterData,
        role: Role | None,
        at: datetime | None,
        hub_id: str | None = None,
    ) -> None:
        """Show the last good footer from disk, marked stale until live data arrives.

        ``hub_id`` is the hub it came from: the first answer from a hub with another id
        replaces it (see :meth:`apply_footer`), so one hub's data never shows for another.
        """
        self._commit(
            footer=footer, role=role, stale=True, updated_at=at, hub_id=hub_id, cached=True
        )

    def set_source(self, source: Source | None) -> None:
        """The profile and hub the app shows now (the session sets it at start)."""
        if source != self._state.source:
            self._commit(source=source)

    def set_app_problem(self, key: str, text: str | None) -> None:
        """Report (``text``) or clear (None) a problem of the app itself under ``key``."""
        if self._state.app_problems.get(key) == text:
            return
        problems = dict(self._state.app_problems)
        if text is None:
            problems.pop(key, None)
        else:
            problems[key] = text
        self._commit(app_problems=problems)

    def set_problem(self, problem: LinkProblem | None) -> None:
        """What is wrong with the link (None: nothing). A problem the user must act on
        (a refused token, an untrusted certificate, a hub too old) also forgets the data:
        nothing on screen can be vouched for, so nothing is shown but the problem."""
        if problem == self._state.problem:
            return
        if problem is not None and problem.needs_user and self._has_data():
            self._forget_data(problem=problem, connection=ConnectionState.OFFLINE)
            return
        changes: dict[str, object] = {"problem": problem}
        if problem is not None and problem.needs_user:
            changes["connection"] = ConnectionState.OFFLINE
            changes["stale"] = True
        self._commit(**changes)

    def _has_data(self) -> bool:
        s = self._state
        return bool(s.footer is not None or s.services or s.jobs or s.workflows or s.pods)

    def _forget_data(self, **changes: object) -> None:
        """Drop every datum of the hub (not the link's own facts): another hub or a hub
        we may no longer trust. Notice ids keep counting (see :meth:`reset`)."""
        for history in self._history.values():
            history.clear()
        keep = self._state
        self._state = StatusState(
            version=keep.version,
            source=keep.source,
            app_problems=keep.app_problems,
            connection=keep.connection,
            offline_since=keep.offline_since,
            problem=keep.problem,
        )
        self._commit(**changes)

    def apply_snapshot(self, msg: SnapshotMessage) -> None:
        """Replace everything with a fresh snapshot from the hub."""
        snap = msg.data
        services = dict(snap.services or {})
        dots = snap.footer.services if snap.footer is not None and snap.footer.services else {}
        for t in snap.transitions or []:
            known = services.get(t.service)
            dot = dots.get(t.service)
            given = (known.label if known else None) or (dot.label if dot else None)
            label = given or t.service
            self._add_notice(
                Segment.SERVICES,
                t.service,
                t.status,
                _service_text(label, t.status),
                previous=t.previous,
                at=t.at,
                label=given,
            )
        self._commit(
            role=snap.role,
            footer=snap.footer,
            services=services,
            jobs={j.id: j for j in snap.jobs},
            workflows={w.id: w for w in snap.workflows},
            pods={p.id: p for p in snap.pods or []},
            simulated=snap.simulated,
            flapping=frozenset(snap.flapping or ()),
            stability=_stability_now(snap.stability),
            live_since=self._became_live(),
            connection=ConnectionState.LIVE,
            stale=False,
            offline_since=None,
            updated_at=self._clock(),
            last_seq=msg.seq,
            hub_id=msg.hub_id,
            problem=None,
            cached=False,
        )

    def apply_footer(self, footer: FooterData, *, polled: bool, hub_id: str | None = None) -> None:
        """A footer read over REST (start-up fetch or the 30 s polling fallback).

        ``hub_id`` is the identity the hub sent with it: when it is not the hub the data on
        screen came from (the cache's, or the last snapshot's), that data is dropped first.
        """
        if hub_id is not None and self._state.hub_id not in (None, hub_id):
            log.info(
                "footer from hub %s, data on screen from %s: dropped", hub_id, self._state.hub_id
            )
            self._forget_data(last_seq=None)
        changes: dict[str, object] = {
            "footer": footer,
            "stale": False,
            "updated_at": self._clock(),
            "problem": None,
            "cached": False,
        }
        if hub_id is not None:
            changes["hub_id"] = hub_id
        if polled and self._state.connection is not ConnectionState.LIVE:
            changes["connection"] = ConnectionState.POLLING
            changes["offline_since"] = None
        self._commit(**changes)

    def apply_heartbeat(self, seq: int) -> None:
        """The stream is alive; data is fresh even if nothing changed.

        The hub sends a heartbeat only when this connection's queue is empty, carrying the
        seq up to which it has considered us: every event up to it that we may see has
        arrived, and the rest were filtered out for our role or topics. So ``last_seq``
        moves up to it, and a resume starts after events we were never going to get.
        """
        last = self._state.last_seq
        self._commit(
            stale=False, updated_at=self._clock(), last_seq=seq if last is None else max(last, seq)
        )

    def apply_event(self, event: Event) -> bool:
        """Apply one event; returns False when it was ignored (duplicate, unknown, malformed)."""
        last = self._state.last_seq
        if last is not None and event.seq <= last:
            return False  # already applied (replay overlap or a duplicate frame)
        try:
            data = event.typed()
        except ProtocolError as exc:
            # Its data is unusable but its seq was delivered: count it, or the next event
            # would look like a gap and a resume would replay this one forever.
            log.warning("dropped event seq=%s: %s", event.seq, exc)
            self._commit(last_seq=event.seq)
            return False
        changes: dict[str, object] = {
            "last_seq": event.seq,
            "stale": False,
            "updated_at": self._clock(),
        }
        if data is None:
            log.debug("ignored unknown event type %r (seq=%s)", event.type, event.seq)
        elif isinstance(data, FooterChanged):
            changes["footer"] = data.footer
        elif isinstance(data, ServiceHealthChanged):
            changes.update(self._on_service(data, event.ts))
        elif isinstance(data, CloudPodStatusChanged):
            changes.update(self._on_pod(data, event.ts))
        elif isinstance(data, JobStatusChanged):
            changes.update(self._on_job(data, event.ts))
        elif isinstance(data, JobProgress):
            job = self._state.jobs.get(data.job_id)
            if job is not None:
                jobs = dict(self._state.jobs)
                jobs[data.job_id] = job.model_copy(
                    update={"progress": data.progress, "eta_seconds": data.eta_seconds}
                )
                changes["jobs"] = jobs
        elif isinstance(data, JobQueueChanged):
            jobs = dict(self._state.jobs)
            for job_id, position in data.positions.items():
                if job_id in jobs:
                    jobs[job_id] = jobs[job_id].model_copy(update={"queue_position": position})
            changes["jobs"] = jobs
        elif isinstance(data, WorkflowStatusChanged):
            changes.update(self._on_workflow(data, event.ts))
        elif isinstance(data, AlertFired | AlertResolved):
            alerts = dict(self._state.alerts)
            alerts[data.alert.id] = data.alert
            changes["alerts"] = alerts
            flapping = set(self._state.flapping)
            if isinstance(data, AlertFired) and data.alert.details.get("flapping"):
                flapping.add(data.alert.service)
            else:
                flapping.discard(data.alert.service)
            changes["flapping"] = frozenset(flapping)
        elif isinstance(data, SystemStabilityChanged):
            changes["stability"] = data.state
        elif isinstance(data, ActivityCreated):
            # newest first, as the feed shows them; a window that is open shows these live
            items = [data.item, *(i for i in self._state.activity if i.id != data.item.id)]
            changes["activity"] = tuple(items[:ACTIVITY_KEPT])
        elif isinstance(data, ReadinessChanged):
            changes["readiness"] = data
        elif isinstance(data, SystemOutageChanged):
            outages = dict(self._state.outages)
            outages[data.outage.id] = data.outage
            changes["outages"] = outages
        elif isinstance(data, SystemSnapshotReceived):
            systems = dict(self._state.systems)
            systems[data.system] = data
            changes["systems"] = systems
        self._commit(**changes)
        return True

    def set_connection(self, connection: ConnectionState) -> None:
        """The network side reports a change of link; offline marks the data stale."""
        if connection is self._state.connection:
            return
        changes: dict[str, object] = {"connection": connection}
        if connection is ConnectionState.OFFLINE:
            changes["stale"] = True
            changes["offline_since"] = self._state.offline_since or self._clock()
        elif connection is ConnectionState.LIVE:
            changes["offline_since"] = None
            changes["live_since"] = self._became_live()
        self._commit(**changes)

    def report(self, subject: str, severity: HealthStatus, text: str) -> None:
        """A notice from the app itself, not from the hub (its own hub stopped or runs
        again): shown and notified like a service's change."""
        self._add_notice(Segment.SERVICES, subject, severity, text)
        self._commit()

    def _became_live(self) -> datetime | None:
        """The new ``live_since`` when the link goes live: now, unless it already was."""
        if self._state.connection is ConnectionState.LIVE:
            return self._state.live_since
        return self._clock()

    def set_detail(self, key: str, entry: DetailEntry) -> None:
        """Store a fetched resource (see :mod:`studio_status.client.details`)."""
        details = dict(self._state.details)
        details[key] = entry
        self._commit(details=details)

    def drop_detail(self, key: str) -> None:
        """Forget a resource nobody shows any more (its window closed)."""
        if key in self._state.details:
            details = dict(self._state.details)
            del details[key]
            self._commit(details=details)

    def mark_stale(self) -> None:
        """Neither the stream nor polling answered in time (2x heartbeat)."""
        if not self._state.stale:
            self._commit(stale=True)

    def reset(self) -> None:
        """Forget everything: the app switched to another hub (profile), nothing carries over.

        Notice ids keep counting up, so listeners that remember the last id they saw (the
        tray's notification gate) never mistake old numbers for new notices.
        """
        for history in self._history.values():
            history.clear()
        self._state = StatusState(
            version=self._state.version, app_problems=self._state.app_problems
        )
        self._commit()

    # -- event rules ------------------------------------------------------------------

    def _on_service(self, data: ServiceHealthChanged, at: datetime) -> dict[str, object]:
        services = dict(self._state.services)
        services[data.service] = data.current
        changes: dict[str, object] = {"services": services}
        footer = self._state.footer
        if footer is not None and footer.services is not None:
            entry = footer.services.get(data.service) or FooterService(label=data.current.label)
            svc = dict(footer.services)
            svc[data.service] = entry.model_copy(
                update={
                    "status": data.current.status,
                    "checked_at": data.current.checked_at,
                    "latency_ms": data.current.latency_ms,
                }
            )
            changes["footer"] = footer.model_copy(update={"services": svc})
        if data.previous != data.current.status:
            name = data.current.label or data.service
            self._add_notice(
                Segment.SERVICES,
                data.service,
                data.current.status,
                _service_text(name, data.current.status, data.current.error_message),
                previous=data.previous,
                at=at,
                label=data.current.label,
                detail=data.current.error_message,
            )
        return changes

    def _on_pod(self, data: CloudPodStatusChanged, at: datetime) -> dict[str, object]:
        pods = dict(self._state.pods)
        pods[data.pod.id] = data.pod
        status = data.pod.status.upper()
        severity = HealthStatus.DOWN if status in {"ERROR", "DEAD"} else HealthStatus.HEALTHY
        self._add_notice(
            Segment.CLOUD_GPU,
            data.pod.id,
            severity,
            _pod_text(data.pod.name or data.pod.id, data.pod.status, data.previous),
            at=at,
            label=f"pod {data.pod.name or data.pod.id}",
            detail=_pod_text(data.pod.name or data.pod.id, data.pod.status, data.previous),
        )
        return {"pods": pods}

    def _on_job(self, data: JobStatusChanged, at: datetime) -> dict[str, object]:
        jobs = dict(self._state.jobs)
        job = data.job
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            jobs[job.id] = job
        else:
            jobs.pop(job.id, None)
            severity = _JOB_SEVERITY.get(job.status, HealthStatus.HEALTHY)
            name = job.name or _job_name(job.id, job.type)
            text = f"{name} {job.status.value}" + (f": {job.error}" if job.error else "")
            self._add_notice(
                Segment.JOBS, job.id, severity, text, at=at, label=name, detail=job.error
            )
        return {"jobs": jobs}

    def _on_workflow(self, data: WorkflowStatusChanged, at: datetime) -> dict[str, object]:
        workflows = dict(self._state.workflows)
        wf = data.workflow
        if wf.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            workflows[wf.id] = wf
        else:
            workflows.pop(wf.id, None)
        severity = HealthStatus.DOWN if wf.status is JobStatus.FAILED else HealthStatus.HEALTHY
        self._add_notice(
            Segment.WORKFLOWS, wf.id, severity, f"{wf.name}: {wf.stage or wf.status.value}", at=at
        )
        return {"workflows": workflows}

    # -- plumbing ---------------------------------------------------------------------

    def _add_notice(
        self,
        segment: Segment,
        subject: str,
        severity: HealthStatus,
        text: str,
        *,
        previous: HealthStatus | None = None,
        at: datetime | None = None,
        label: str | None = None,
        detail: str | None = None,
    ) -> None:
        self._notice_id += 1
        self._history[segment].append(
            Notice(
                self._notice_id,
                segment,
                at or self._clock(),
                subject,
                severity,
                text,
                previous,
                label,
                detail,
            )
        )

    def _commit(self, **changes: object) -> None:
        history = {s: tuple(d) for s, d in self._history.items() if d}
        self._state = replace(
            self._state,
            history=history,
            version=self._state.version + 1,
            **changes,  # type: ignore[arg-type]
        )
        for listener in list(self._listeners):
            try:
                listener(self._state)
            except Exception:  # a broken view must not stop the others or the stream
                log.exception("state listener %r failed", listener)


def _job_name(job_id: str, kind: str | None) -> str:
    """``render job-7-719``: the id once, with the job's type when known (never "job job-7")."""
    name = job_id if job_id.lower().startswith("job") else f"job {job_id}"
    return f"{kind} {name}" if kind and kind.lower() != "job" else name


def _pod_text(name: str, status: str, previous: str | None) -> str:
    """``pod a100-1 running (was starting)``: the provider's states as words, not enums."""
    now = status.replace("_", " ").lower()
    was = f" (was {previous.replace('_', ' ').lower()})" if previous else ""
    return f"pod {name} {now}{was}"


def _service_text(name: str, status: HealthStatus, error: str | None = None) -> str:
    text = f"{name} {status.value}"
    return f"{text}: {error}" if error and status is not HealthStatus.HEALTHY else text


def budget_severity(budget: BudgetStatus) -> HealthStatus:
    """Budget state as a severity, for the cloud segment's colour and shape."""
    return {
        BudgetStatus.WITHIN_BUDGET: HealthStatus.HEALTHY,
        BudgetStatus.APPROACHING: HealthStatus.DEGRADED,
        BudgetStatus.EXCEEDED: HealthStatus.DOWN,
        BudgetStatus.ERROR: HealthStatus.DOWN,
    }[budget]


def _stability_now(status: StabilityStatus | None) -> StabilityState | None:
    """The stability a snapshot vouches for, so "System Stable" / "Processing Data" is
    right from the first moment (changes follow as events). None when the hub has no
    listener, or its listener is not connected: then the state may be stale, and the views
    fall back on the jobs they see rather than state an old answer as now."""
    if status is None or not status.listening:
        return None
    return status.state
