"""The hub as one object: store, state, bus, scheduler, writer and auth, wired together.

The HTTP layer (:mod:`studio_status.hub.api`) only reads from here; tests can drive a
:class:`Hub` directly or through a real server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel

from studio_status.protocol import (
    FooterChanged,
    HealthStatus,
    JobEventIn,
    PushResult,
    Role,
    ServiceHealthChanged,
    Snapshot,
    SnapshotMessage,
    WorkflowEventIn,
    utcnow,
)
from studio_status.tasks import TaskSet

from .activity import ActivityLog
from .alerts import AlertManager
from .auth import TokenAuth
from .bus import FOOTER_EVENT, EventBus, Subscriber
from .checklist import StartupRunner
from .checks import build_checker
from .checks.base import Checker, CheckResult
from .cloud import CloudService
from .config import HubConfig, ServiceConfig
from .jobs import Applied, JobBoard
from .scheduler import Scheduler
from .sources.configured import Source, build_sources
from .state import HealthState
from .store import create_store
from .store.sqlite import CheckWrite
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
    ) -> None:
        self.config = config
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
        self.activity = ActivityLog(self.store, clock=clock)
        self._clock = clock
        self._bus: EventBus | None = None
        self._checkers: dict[str, Checker] = {}
        self._http: httpx.AsyncClient | None = None
        self._scheduler: Scheduler | None = None
        self._tasks = TaskSet(log)
        self._footer_published: bytes | None = None
        self.started_at: datetime | None = None

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
        start_seq = await self.store.max_seq()
        # before anything can record a check: alert state must be loaded to be continued
        await self.uptime.start()
        await self.alerts.start()
        # services that come from data, not config, join before the state is restored
        await self.systems.load()
        await self.cloud.load()
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
        )
        # one connection pool for every HTTP-based checker (each private client would load
        # the CA bundle again and keep its own idle connections)
        slots = self.config.hub.max_concurrent_checks
        # room in the pool for every check in flight, and keep-alive for as many: a queue in
        # httpcore's pool is costly, and reconnecting per check wastes the targets' time too
        self._http = httpx.AsyncClient(
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
            max_concurrent=self.config.hub.max_concurrent_checks,
        )
        self.started_at = self._clock()
        self._spawn(self.uptime.run(), "uptime-rollup")
        self._spawn(self.checklist.run(), "startup-checklist")
        self._spawn(self.alerts.run(), "alerts")
        self._spawn(self.writer.run(), "store-writer")
        self._spawn(self._footer_refresh(), "footer-refresh")
        self._spawn(self._retention(), "retention")
        self._spawn(self.cloud.run(), "cloud")
        self._spawn(self.systems.run(), "systems")
        self.activity.attach(self.bus)  # no await since the bus began: it misses nothing
        self._spawn(self.activity.run(), "activity")
        self.sources = build_sources(self)
        for source in self.sources:
            self._spawn(source.run(), source.name)
        if run_checks:
            self._spawn(self._scheduler.run(), "scheduler")
        log.info("hub started: %d services, seq %d, id %s", len(self.services), start_seq, hub_id)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.spawn(coro, name)

    async def stop(self) -> None:
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
        await self.store.close()

    # -- results ----------------------------------------------------------------------

    def record(self, name: str, result: CheckResult, at: datetime) -> None:
        """Take one check result: memory first, then the events, then the (async) write.

        The health event goes out before anything it causes (an alert, the footer), so a
        client always sees the change before the notices about it.
        """
        result = self.uptime.adjust(name, result)
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
        """Refresh latencies and check times on clients once per heartbeat interval."""
        last: bytes | None = None
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
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

    def push_job(self, event: JobEventIn) -> PushResult:
        """Apply one job event from any source (push API, ComfyUI, simulator)."""
        return self._publish_applied(self.jobs.apply_job(event))

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
        self._refresh_job_summaries()
        self.publish_footer()
        return PushResult(applied=True, seq=last)

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
            ),
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
