"""The hub as one object: store, state, bus, scheduler, writer and auth, wired together.

The HTTP layer (:mod:`studio_status.hub.api`) only reads from here; tests can drive a
:class:`Hub` directly or through a real server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel

from studio_status import pace
from studio_status.protocol import (
    Event,
    FooterChanged,
    HealthStatus,
    JobEventIn,
    JobQueueChanged,
    PushResult,
    Role,
    ServiceHealthChanged,
    Snapshot,
    SnapshotMessage,
    StabilityState,
    StabilityStatus,
    WorkflowEventIn,
    utcnow,
)
from studio_status.protocol.contract import CONTRACT
from studio_status.tasks import TaskSet
from studio_status.tlsdefault import verified_context

from .activity import ActivityLog
from .alerts import AlertManager
from .auth import TokenAuth
from .bus import FOOTER_EVENT, EventBus, Subscriber
from .checklist import StartupRunner
from .checks import build_checker
from .checks.base import Checker, CheckResult
from .cloud import CloudService
from .cluster import LEADER, EventFeed, Ownership
from .config import HubConfig, ServiceConfig
from .jobs import Applied, JobBoard
from .metrics import HubCounters, HubMetrics
from .scheduler import Scheduler
from .sources.configured import Source, build_sources
from .sources.pg_notify import SERVICE_KIND as PG_SERVICE_KIND
from .sources.pg_notify import PgNotifySource
from .sources.pg_notify import service_name as pg_service_name
from .state import HealthState
from .store import create_store
from .store.postgres import PostgresStore
from .store.sqlite import CheckWrite, StoreError
from .systems import SystemsService
from .uptime_tracker import UptimeTracker
from .writer import StoreWriter

__all__ = ["Hub"]

log = logging.getLogger("hub")

# how long a stop waits for the hub's tasks to end before it closes the store anyway
STOP_TASKS_SECONDS = 10.0

RETENTION_EVERY_SECONDS = 3600.0


class Hub:
    """Attributes:
    config: the validated config. services: the services watched (config or defaults).
    store, state, bus, writer, auth: the parts; ``bus`` exists once :meth:`start` ran.
    """

    def __init__(
        self,
        config: HubConfig,
        services: Sequence[ServiceConfig],
        *,
        bootstrap_token: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``clock`` and ``sleep`` are the time the hub and its sources live by (tests that
        replay a recording hand in the recording's)."""
        self.config = config
        self.sleep = sleep
        self.services = list(services)
        self.store = create_store(config.database())
        self.state = HealthState(self.services)
        self.writer = StoreWriter(self.store)
        self.uptime = UptimeTracker(self.store, self.writer, self.state, config.health, clock=clock)
        self.alerts = AlertManager(
            self.store,
            self.state,
            config.health,
            clock=clock,
            publish=self._publish_later,
        )
        self.uptime.maintenance = self.alerts.maintenance.intervals
        self.checklist = StartupRunner(
            config.health.startup,
            self.services,
            self.store,
            clock=clock,
            publish=self._publish_later,
            retry_seconds=config.health.startup_retry_seconds,
        )
        self.auth = TokenAuth(self.store, bootstrap_token=bootstrap_token)
        self.jobs = JobBoard(clock)
        self.cloud = CloudService(self, config.cloud, clock=clock)
        self.systems = SystemsService(self, config.systems, clock=clock)
        self.simulated = False
        self.sources: list[Source] = []  # configured job/stability sources, once started
        self.activity = ActivityLog(self.store, clock=clock, label=self._label)
        self.counters = HubCounters()
        self.metrics = HubMetrics(self)
        self._clock = clock
        self._bus: EventBus | None = None
        self._checkers: dict[str, Checker] = {}
        self._http: httpx.AsyncClient | None = None
        self._scheduler: Scheduler | None = None
        self._tasks = TaskSet(log)
        self._jobs_active = asyncio.Event()  # set when the board holds an active job
        self._footer_published: bytes | None = None
        self._moves_due: asyncio.TimerHandle | None = None
        self.started_at: datetime | None = None
        # replicas on PostgreSQL (see cluster.py); None for a hub of its own
        self.replica_id = uuid.uuid4().hex[:12]
        self.ownership: Ownership | None = None
        self._feed: EventFeed | None = None
        self._leader_tasks = TaskSet(log)
        self._jobs_reload: asyncio.TimerHandle | None = None

    def _label(self, name: str) -> str | None:
        """A service's label (``DB``) for what the hub tells people (the activity feed)."""
        svc = self.state.services.get(name)
        return svc.label if svc is not None else None

    @property
    def bus(self) -> EventBus:
        if self._bus is None:
            raise RuntimeError("hub not started")
        return self._bus

    @property
    def heartbeat_seconds(self) -> float:
        return self.config.hub.heartbeat_seconds

    async def start(self, *, run_checks: bool = True) -> None:
        await self.store.open()
        hub_id, clean = await self.store.begin_run()
        if not clean:
            log.warning(
                "the last run did not end cleanly (killed?): new hub id, clients will resync"
            )
        clustered = isinstance(self.store, PostgresStore)
        if isinstance(self.store, PostgresStore):
            self.store.replica_id = self.replica_id
            self._feed = EventFeed(
                self.store, on_event=self._on_delivered, on_settings=self._on_settings
            )
            await self._feed.open()  # before the start seq is read: nothing slips between
        start_seq = await self.store.max_seq()
        # before anything can record a check: alert state must be loaded to be continued
        await self.uptime.start()
        await self.alerts.start()
        # services that come from data, not config, join before the state is restored
        await self.systems.load()
        await self.cloud.load()
        for spec in self.config.sources.postgres:  # each listener's own health (seed 003)
            self.state.ensure_service(
                pg_service_name(spec.name), f"{spec.name} notifications", PG_SERVICE_KIND
            )
        self.state.restore(
            await self.store.open_windows(),
            await self.store.last_checks(),
            await self.store.recent_transitions(20),
        )
        self.jobs.restore(*await self.store.load_jobs(recent=200))
        self._refresh_job_summaries()
        self._bus = EventBus(
            hub_id,
            start_seq,
            ring_size=self.config.hub.event_log_size,
            persist=self.writer.add_event,
            clock=self._clock,
            numbered_by_store=clustered,
        )
        # one connection pool for every HTTP-based checker (each private client would load
        # the CA bundle again and keep its own idle connections)
        slots = self.config.hub.max_concurrent_checks
        # room in the pool for every check in flight, and keep-alive for as many: a queue in
        # httpcore's pool is costly, and reconnecting per check wastes the targets' time too
        self._http = httpx.AsyncClient(
            verify=verified_context(),
            follow_redirects=True,
            limits=httpx.Limits(max_connections=slots + 16, max_keepalive_connections=slots),
        )
        self._checkers = {
            s.name: build_checker(
                s.check, timeout=s.timeout_seconds, http=self._http, bus_probe=self.bus.probe
            )
            for s in self.services
        }
        self._scheduler = Scheduler(
            self.services,
            self._checkers,
            self.record,
            clock=self._clock,
            # the process's pace (a sped-up demo's), not ``self.sleep``: a replay's sleep
            # is for its sources; the hub's own checks keep their real rhythm there
            sleep=pace.sleep,
            max_concurrent=self.config.hub.max_concurrent_checks,
            owns=None if not clustered else self._owns,
        )
        self.started_at = self._clock()
        self._spawn(self.uptime.run(), "uptime-rollup")
        self._spawn(self.checklist.run(), "startup-checklist")
        self._spawn(self.alerts.run(), "alerts")
        self._spawn(self.writer.run(), "store-writer")
        self._spawn(self._footer_refresh(), "footer-refresh")
        if isinstance(self.store, PostgresStore) and self._feed is not None:
            self._feed.bus = self.bus
            await self._join_replicas(self.store)
            self._spawn(self._feed.run(), "event-feed")
        else:
            self._start_leader_tasks()
        if run_checks:
            self._spawn(self._scheduler.run(), "scheduler")
        log.info(
            "hub started: %d services, seq %d, id %s%s",
            len(self.services),
            start_seq,
            hub_id,
            f", replica {self.replica_id}" if clustered else "",
        )

    def _start_leader_tasks(self) -> None:
        """What one hub of a group runs for all: rollups' and retention's writes, the
        periodic footer, cloud polling, systems, job sources, the activity feed."""
        spawn = self._leader_tasks.spawn if self.ownership is not None else self._spawn
        spawn(self._retention(), "retention")
        spawn(self.cloud.run(), "cloud")
        spawn(self.systems.run(), "systems")
        self.activity.attach(self.bus)  # no await since the bus began: it misses nothing
        spawn(self.activity.run(), "activity")
        self.sources = build_sources(self)
        self._publish_all(
            self.jobs.stall_orphans(
                [s.name for s in self.sources],
                "{source} is not configured any more; nothing can report this job",
            )
        )
        for source in self.sources:
            spawn(source.run(), source.name)
        spawn(self._job_leases(), "job-leases")

    # -- replicas ---------------------------------------------------------------------

    async def _join_replicas(self, store: PostgresStore) -> None:
        """Take this replica's share of the services (and maybe the leader role) before
        the scheduler's first round, then keep looking (see cluster.py)."""
        from .store.cluster_pg import Coordinator

        coordinator = Coordinator(store.dsn, self.replica_id)
        await coordinator.open()
        shortest = min((s.interval_seconds for s in self.services), default=30.0)
        self.ownership = Ownership(
            coordinator,
            [s.name for s in self.services],
            period=min(max(shortest / 4, 0.25), 5.0),
            on_acquire=self._acquired,
            on_release=self._released,
        )
        self.alerts.owns = self._owns
        self.alerts.claimant = self.replica_id
        self.alerts.shared_outbox = True
        self.alerts.settings_changed = self._announce_settings
        self.uptime.rolls = lambda: self.ownership is not None and self.ownership.leader
        await self.ownership.round()
        self._spawn(self.ownership.run(), "replica-ownership")

    def _owns(self, name: str) -> bool:
        return self.ownership is None or self.ownership.owns(name)

    async def _acquired(self, name: str) -> None:
        if name == LEADER:
            log.info("replica %s leads the group", self.replica_id)
            self._start_leader_tasks()
            return
        await self.alerts.adopt(name)
        self.poke_checks(name)

    async def _released(self, name: str) -> None:
        if name == LEADER:
            log.info("replica %s no longer leads", self.replica_id)
            await self._leader_tasks.cancel_all(limit=STOP_TASKS_SECONDS)
            return
        await self.alerts.release(name)

    async def _announce_settings(self) -> None:
        if self.ownership is not None:
            with contextlib.suppress(StoreError):
                await self.ownership.coordinator.notify_settings("alerts")

    def _on_settings(self, what: str) -> None:
        if what == "alerts":
            self._spawn(self.alerts.reload_settings(), "reload-alert-settings")

    def _on_delivered(self, event: Event, origin: str | None) -> None:
        """Another replica's event: bring this one's memory along (its own are applied)."""
        if origin == self.replica_id:
            return
        if event.type == "service.health_changed":
            with contextlib.suppress(ValueError):
                changed = ServiceHealthChanged.model_validate(event.data)
                if not self._owns(changed.service):
                    self.state.apply_remote(changed.previous, changed.current)
        elif event.type.startswith(("job.", "workflow.")) and self._jobs_reload is None:
            # the board is rebuilt from storage, where the event's job state was committed
            # with it; a burst of job events costs one reload
            self._jobs_reload = asyncio.get_running_loop().call_later(
                0.05, lambda: self._spawn(self._reload_jobs(), "reload-jobs")
            )

    async def _reload_jobs(self) -> None:
        self._jobs_reload = None
        board = JobBoard(self._clock)
        board.restore(*await self.store.load_jobs(recent=200))
        self.jobs = board
        if board.jobs:
            self._jobs_active.set()
        self._refresh_job_summaries()

    async def _sync_readings(self) -> None:
        """Latency and check times of the services other replicas check."""
        try:
            last = await self.store.last_checks()
        except StoreError:
            return
        for name, check in last.items():
            if not self._owns(name):
                self.state.refresh_reading(name, check)

    async def settle(self) -> None:
        """Wait until everything published so far is committed and (replicas) delivered
        here: a sync point for tests and shutdown."""
        while True:
            await self.writer.flush()
            if self._feed is None:
                return
            before = self.bus.seq
            await self._feed.catch_up()
            for _ in range(3):  # subscribers (the activity feed) take what just arrived
                await asyncio.sleep(0)
            if self.writer.pending == 0 and self.bus.seq == before:
                return

    async def catch_up(self, seq: int) -> None:
        """Replicas: a client resuming here may have seen events (from another replica)
        that this one has not delivered yet; they are committed, so deliver them now."""
        if self._feed is not None and seq > self.bus.seq:
            with contextlib.suppress(StoreError):
                await self._feed.catch_up(seq)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.spawn(coro, name)

    async def stop(self) -> None:
        if self._jobs_reload is not None:
            self._jobs_reload.cancel()
        if self._moves_due is not None:
            self._moves_due.cancel()
            self._moves_due = None
        await self._leader_tasks.cancel_all(limit=STOP_TASKS_SECONDS)
        await self._tasks.cancel_all(limit=STOP_TASKS_SECONDS)
        # the writer was cancelled mid-wait; commit what is left before closing
        with contextlib.suppress(Exception):
            drain = asyncio.create_task(self.writer.run())
            try:
                async with asyncio.timeout(5.0):
                    await self.writer.flush()
            finally:
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drain
        for checker in self._checkers.values():
            with contextlib.suppress(Exception):
                await checker.aclose()
        if self._http is not None:
            await self._http.aclose()
        with contextlib.suppress(Exception):
            await self.uptime.finish()
        with contextlib.suppress(Exception):
            await self.alerts.stop()
        if self.writer.pending == 0 and not self.writer.failing:
            with contextlib.suppress(Exception):
                await self.store.mark_clean_end()
        if self.ownership is not None:
            await self.ownership.coordinator.close()  # the session's locks go with it
        if self._feed is not None:
            await self._feed.close()
        await self.store.close()

    # -- results ----------------------------------------------------------------------

    def record(self, name: str, result: CheckResult, at: datetime) -> None:
        """Take one check result: memory first, then the events, then the (async) write.

        The health event goes out before anything it causes (an alert, the footer), so a
        client always sees the change before the notices about it.
        """
        result = self.uptime.adjust(name, result)
        self.counters.check(name, result.status)
        previous = self.state.apply(name, result, at)
        self.checklist.observe(name, self.state.services[name])
        self.writer.add_check(
            CheckWrite(
                name, result.status, result.latency_ms, result.error_message, result.details, at
            )
        )
        if previous is not None:
            if previous is not result.status or previous is HealthStatus.UNKNOWN:
                log.info(
                    "%s: %s -> %s %s",
                    name,
                    previous.value,
                    result.status.value,
                    result.error_message or "",
                )
            self.bus.publish(
                "service.health_changed",
                ServiceHealthChanged(
                    service=name, previous=previous, current=self.state.services[name]
                ),
            )
        self.alerts.observe(name, result.status, result.error_message, at)
        if previous is not None:
            self.publish_footer()

    def publish_footer(self, *, force: bool = False) -> None:
        """Publish the footer if what it shows changed (statuses, counts), or when forced.

        Latency and check times change on every check; sending them on every check would
        flood the stream, so they ride along with material changes and the periodic
        refresh instead.
        """
        footer = self.state.footer(Role.ADMIN)
        material = footer.model_dump_json(
            exclude={"services": {"__all__": {"checked_at", "latency_ms"}}}
        ).encode()
        if not force and material == self._footer_published:
            return
        self._footer_published = material
        self.bus.publish(FOOTER_EVENT, FooterChanged(footer=footer))

    async def _footer_refresh(self) -> None:
        """Refresh latencies and check times on clients once per heartbeat interval (of a
        group of replicas, the leader publishes; each takes the others' readings)."""
        last: bytes | None = None
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if self.ownership is not None:
                await self._sync_readings()
                if not self.ownership.leader:
                    last = None
                    continue
            current = self.state.footer_json(Role.ADMIN)
            if current != last:
                self.publish_footer(force=True)
                last = current

    async def _retention(self) -> None:
        while True:
            cutoff = self._clock() - timedelta(days=self.config.hub.retention_days)
            try:
                deleted = -1
                while deleted != 0:  # batch by batch, yielding to the API in between
                    deleted = await self.store.prune(cutoff, self.config.hub.event_log_size)
                await self.uptime.prune(self._clock())  # windows and rollups, batched too
            except Exception as exc:  # storage trouble is the writer's to report
                log.warning("retention skipped: %s", exc)
            await asyncio.sleep(RETENTION_EVERY_SECONDS)

    def poke_checks(self, *names: str) -> None:
        """Check these services (default: every one) again now (something just changed)."""
        if self._scheduler is not None:
            for name in names or [s.name for s in self.services]:
                self._scheduler.poke(name)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    def _publish_later(self, event_type: str, data: BaseModel) -> object:
        """Publish for parts built before the bus exists (it is made in :meth:`start`)."""
        return self.bus.publish(event_type, data)

    @property
    def ready(self) -> bool:
        """The platform-wide pre-flight flag: every required startup check passed or was
        overridden. Job intake refuses new generation jobs while it is False."""
        return self.checklist.ready

    def checker(self, name: str) -> Checker:
        """The checker of ``name`` (KeyError if unknown), for on-demand diagnostics."""
        return self._checkers[name]

    async def recheck(self, name: str) -> CheckResult:
        if self._scheduler is None:
            raise RuntimeError("hub not started")
        return await self._scheduler.check_now(name)

    # -- jobs -------------------------------------------------------------------------

    def push_job(self, event: JobEventIn, *, source: str = "push") -> PushResult:
        """Apply one job event from any source (push API, ComfyUI, simulator); ``source``
        is who vouches for the job unless the event names one."""
        if event.source is None:
            event = event.model_copy(update={"source": source})
        return self._publish_applied(self.jobs.apply_job(event))

    def set_positions(self, source: str, positions: dict[str, int]) -> None:
        """The whole queue of ``source`` as it reports it (job id -> place from 1)."""
        changed = self.jobs.set_positions(source, positions)
        for job in changed:
            self.writer.add_state(job)
        if changed:
            self._schedule_moves()
            self._refresh_job_summaries()  # a job that left the line is not queued any more
            self.publish_footer()

    def _schedule_moves(self) -> None:
        """One ``job.queue_changed`` for every move within the coalescing interval."""
        if not self.jobs.moved or self._moves_due is not None:
            return
        delay = self.config.jobs.positions_coalesce_seconds
        self._moves_due = asyncio.get_running_loop().call_later(delay, self.flush_moves)

    def flush_moves(self) -> None:
        """Publish the collected queue moves now (the coalescing timer calls it)."""
        if self._moves_due is not None:
            self._moves_due.cancel()
        self._moves_due = None
        moves = self.jobs.take_moves()
        if moves:
            self.bus.publish("job.queue_changed", JobQueueChanged(positions=moves))

    def sweep_jobs(self) -> None:
        """Stall and lose the jobs nobody vouches for any more (see ``[jobs]``)."""
        settings = self.config.jobs
        self._publish_all(self.jobs.sweep(settings.stall_seconds, settings.lost_seconds))

    def abandon_jobs(self, source: str, reason: str) -> None:
        """``source`` will never report its active jobs again: they end as lost now."""
        self._publish_all(self.jobs.abandon(source, reason))

    @property
    def sweeping(self) -> bool:
        """Whether the lease sweep runs (some job was active when it last looked)."""
        return self._jobs_active.is_set()

    async def _job_leases(self) -> None:
        """Sweep while some job is active; with none, sleep until one is (an idle hub
        swept an empty board every few seconds)."""
        while True:
            if not self.jobs.jobs:
                self._jobs_active.clear()
                await self._jobs_active.wait()
            await asyncio.sleep(self.config.jobs.sweep_seconds)
            self.sweep_jobs()

    def _publish_all(self, results: list[Applied]) -> None:
        for applied in results:
            self._publish_applied(applied)

    def push_workflow(self, event: WorkflowEventIn) -> PushResult:
        return self._publish_applied(self.jobs.apply_workflow(event))

    def _publish_applied(self, applied: Applied) -> PushResult:
        if not applied.applied:
            return PushResult(applied=False, reason=applied.reason)
        last = None
        for event_type, data in applied.events:
            last = self.bus.publish(event_type, data).seq
        if applied.changed is not None:
            self.writer.add_state(applied.changed)
        if self.jobs.jobs:
            self._jobs_active.set()
        self._schedule_moves()
        self._refresh_job_summaries()
        self.publish_footer()
        return PushResult(applied=True, seq=last or None)  # replicas: numbered at commit

    def _refresh_job_summaries(self) -> None:
        self.state.set_activity(self.jobs.summary(), self.jobs.workflows_summary())

    # -- streaming --------------------------------------------------------------------

    def snapshot(self, sub: Subscriber) -> SnapshotMessage:
        """The state as ``sub`` may see it, at ``sub.cursor`` (build it without awaiting)."""
        admin = sub.role is Role.ADMIN
        return SnapshotMessage(
            seq=sub.cursor,
            ts=self._clock(),
            hub_id=self.bus.hub_id,
            data=Snapshot(
                role=sub.role,
                footer=self.state.footer(sub.role),
                services=dict(self.state.services) if admin else None,
                transitions=list(self.state.transitions)[-20:] if admin else None,
                jobs=list(self.jobs.jobs.values()),
                workflows=list(self.jobs.workflows.values()),
                heartbeat_seconds=self.heartbeat_seconds,
                simulated=self.simulated,
                stability=self.stability(),
                contract=CONTRACT,
                flapping=self.alerts.flapping() if admin else None,
            ),
        )

    def stability(self) -> StabilityStatus | None:
        """What the ``pg_notify`` listeners know of seed 003's stability: processing if any
        database says so, stable if all that know say so; None without listeners."""
        listeners = [s for s in self.sources if isinstance(s, PgNotifySource)]
        if not self.config.sources.postgres:
            return None
        known = [s.payloads for s in listeners if s.payloads.stable is not None]
        state = None
        if known:
            stable = all(p.stable for p in known)
            state = StabilityState.STABLE if stable else StabilityState.PROCESSING
        counts = [p.active_jobs for p in known if p.active_jobs is not None]
        return StabilityStatus(
            state=state,
            active_jobs=sum(counts) if counts else None,
            listening=bool(listeners) and all(s.connected for s in listeners),
        )

    async def replay(self, sub: Subscriber, after: int) -> list[Any] | None:
        """Events after ``after`` up to ``sub.cursor`` as ``sub`` may see them, or None
        when the gap can no longer be filled (then the client gets a snapshot)."""
        upto = sub.cursor
        if after > upto:
            return None
        ringed = self.bus.replay_from_ring(after, upto)
        if ringed is None:
            ring_start = self.bus.ring_start or upto + 1
            stored = await self.store.events_after(after, ring_start - after - 1)
            expected = list(range(after + 1, min(ring_start, upto + 1)))
            if [e.seq for e in stored][: len(expected)] != expected:
                return None
            tail = self.bus.replay_from_ring(ring_start - 1, upto) or []
            ringed = [e for e in stored if e.seq <= upto] + tail
        return self.bus.replay(ringed, sub)

    @property
    def storage_ok(self) -> bool:
        return not self.writer.failing
