"""External systems (seed 004, any named system): pushed snapshots become services.

A collector posts a snapshot every few minutes. Each system is a service in the health view
(registered on first sight, and again at start for systems already in the store), whose
status comes from three things:

- the snapshot's own flags: ``offline`` → down; ``degraded``/``maintenance``, a filesystem
  unavailable or degraded, or a login node unavailable → degraded; every login node
  unavailable → down;
- outages in force: ``major`` → down, ``minor``/``maintenance`` → degraded;
- age: a last snapshot older than ``stale_after_seconds`` reads ``unknown``. A dead collector
  must never leave a system looking healthy (seed 004: > 10 min is a warning).

Snapshots are kept ``retention_days`` (default 7) and pruned hourly in the background.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from studio_status.protocol import HealthStatus, SystemSnapshotReceived, utcnow, worst_status
from studio_status.protocol.systems import (
    Availability,
    Outage,
    OutageIn,
    OutageSeverity,
    OutageStatus,
    Reservation,
    ReservationIn,
    SnapshotResult,
    SystemLatest,
    SystemOutageChanged,
    SystemPoint,
    SystemSnapshotIn,
    SystemSummary,
)

from .checks.base import CheckResult
from .config import SystemsSettings
from .store import systems as db
from .store.systems import Component, StoredSnapshot

if TYPE_CHECKING:
    from .service import Hub

__all__ = ["RESERVED_NAMES", "SYSTEM_KIND", "SystemError", "SystemsService", "flag_status"]

log = logging.getLogger("hub.systems")

SYSTEM_KIND = "system"
#: Path words under /api/v1/status/ that cannot be system names.
RESERVED_NAMES = frozenset(
    {
        "footer",
        "stability",
        "outage",
        "outages",
        "reservation",
        "reservations",
        "systems",
        "cloud",
        "events",
    }
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
FUTURE_SLACK = timedelta(minutes=5)
RETENTION_EVERY_SECONDS = 3600.0


class SystemError(ValueError):
    """A request the systems service refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def flag_status(snap: dict[str, Any]) -> tuple[HealthStatus, str | None]:
    """Status from a snapshot's own flags (see the module docstring) and why."""
    availability = snap.get("availability", Availability.ONLINE.value)
    if availability == Availability.OFFLINE.value:
        return HealthStatus.DOWN, snap.get("message") or "reported offline"
    logins = snap.get("login_nodes") or []
    if logins and not any(n.get("available", True) for n in logins):
        return HealthStatus.DOWN, "no login node available"
    if availability in (Availability.DEGRADED.value, Availability.MAINTENANCE.value):
        return HealthStatus.DEGRADED, snap.get("message") or f"reported {availability}"
    bad_fs = [
        f["name"]
        for f in snap.get("filesystems") or []
        if not f.get("available", True) or f.get("degraded", False)
    ]
    if bad_fs:
        return HealthStatus.DEGRADED, f"filesystem {', '.join(bad_fs)} degraded"
    bad_login = [n["name"] for n in logins if not n.get("available", True)]
    if bad_login:
        return HealthStatus.DEGRADED, f"login node {', '.join(bad_login)} unavailable"
    return HealthStatus.HEALTHY, None


def _outage_status(outage: Outage) -> HealthStatus:
    return HealthStatus.DOWN if outage.severity is OutageSeverity.MAJOR else HealthStatus.DEGRADED


def _in_force(outage: Outage, now: datetime) -> bool:
    return (
        outage.status is not OutageStatus.RESOLVED
        and outage.start_time <= now
        and (outage.end_time is None or outage.end_time > now)
    )


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _point(snap: StoredSnapshot) -> SystemPoint:
    d = snap.data
    util, jobs = d.get("utilization") or {}, d.get("jobs") or {}
    return SystemPoint(
        timestamp=snap.timestamp,
        availability=snap.availability,
        status=snap.status,
        cpu_percent=util.get("cpu_percent"),
        gpu_percent=util.get("gpu_percent"),
        memory_percent=util.get("memory_percent"),
        jobs_running=jobs.get("running"),
        jobs_pending=jobs.get("pending"),
        active_users=d.get("active_users"),
    )


@dataclass
class _Latest:
    timestamp: datetime
    received_at: datetime
    availability: Availability
    flags: HealthStatus
    reason: str | None


class SystemsService:
    def __init__(
        self,
        hub: Hub,
        settings: SystemsSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.clock = clock
        self.latest: dict[str, _Latest] = {}
        self.outages: dict[str, Outage] = {}  # unresolved, by id
        self._lock = asyncio.Lock()

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.settings.stale_after_seconds)

    # -- lifecycle --------------------------------------------------------------------

    async def load(self) -> None:
        """Register systems already in the store before the hub restores its state, so
        their history and ``since`` survive a restart like any service's."""
        for snap in await db.latest_per_system(self.hub.store):
            flags, reason = flag_status(snap.data)
            self.latest[snap.system] = _Latest(
                snap.timestamp, snap.received_at, snap.availability, flags, reason
            )
            self._register(snap.system)
        for outage in await db.list_outages(self.hub.store):
            self.outages[outage.id] = outage
            self._register(outage.system)

    async def run(self) -> None:
        """Re-evaluate staleness and outage windows, and prune old snapshots hourly."""
        every = min(60.0, self.settings.stale_after_seconds / 4)
        await self.refresh()
        since_prune = RETENTION_EVERY_SECONDS
        while True:
            if since_prune >= RETENTION_EVERY_SECONDS:
                since_prune = 0.0
                try:
                    await self.prune()
                except Exception as exc:  # storage trouble: try again next round
                    log.warning("systems retention skipped: %s", exc)
            await asyncio.sleep(every)
            since_prune += every
            await self.refresh()

    def _register(self, system: str) -> None:
        self.hub.state.ensure_service(system, system, SYSTEM_KIND)

    def check_name(self, system: str) -> None:
        if not _NAME.match(system) or system in RESERVED_NAMES:
            raise SystemError(
                f"system: {system!r} is not a valid system name (lower-case letters, digits,"
                " '_', '-', '.'; not a reserved word)",
                404 if system in RESERVED_NAMES else 422,
            )
        existing = self.hub.state.services.get(system)
        if existing is not None and existing.kind != SYSTEM_KIND:
            raise SystemError(f"system: {system!r} is the name of a watched service", 409)

    # -- status -----------------------------------------------------------------------

    def evaluate(self, system: str, now: datetime) -> tuple[HealthStatus, str | None]:
        latest = self.latest.get(system)
        statuses: list[HealthStatus] = []
        reasons: list[str] = []
        if latest is None:
            statuses.append(HealthStatus.UNKNOWN)
            reasons.append("no snapshot yet")
        elif now - latest.timestamp > self.stale_after:
            minutes = (now - latest.timestamp).total_seconds() / 60
            statuses.append(HealthStatus.UNKNOWN)
            reasons.append(f"no snapshot for {minutes:.0f} min")
        else:
            statuses.append(latest.flags)
            if latest.reason:
                reasons.append(latest.reason)
        for outage in self.outages.values():
            if outage.system == system and _in_force(outage, now):
                statuses.append(_outage_status(outage))
                reasons.append(f"outage: {outage.title}")
        status = worst_status(statuses)
        return status, "; ".join(reasons) or None

    def _record(self, system: str, now: datetime, *, always: bool) -> HealthStatus:
        status, reason = self.evaluate(system, now)
        current = self.hub.state.services.get(system)
        if always or current is None or current.status is not status:
            latest = self.latest.get(system)
            details: dict[str, Any] = {}
            if latest is not None:
                details = {
                    "availability": latest.availability.value,
                    "last_snapshot_at": latest.timestamp.isoformat(),
                    "age_seconds": round((now - latest.timestamp).total_seconds()),
                }
            self._register(system)
            self.hub.record(system, CheckResult(status, error_message=reason, details=details), now)
        return status

    async def refresh(self, now: datetime | None = None) -> None:
        """Record any system whose status changed with time alone (staleness, outage
        windows opening or closing)."""
        now = now or self.clock()
        for system in sorted(set(self.latest) | {o.system for o in self.outages.values()}):
            self._record(system, now, always=False)

    # -- ingest -----------------------------------------------------------------------

    async def ingest(self, system: str, snap: SystemSnapshotIn) -> SnapshotResult:
        self.check_name(system)
        now = self.clock()
        ts = _utc(snap.timestamp) if snap.timestamp is not None else now
        if ts > now + FUTURE_SLACK:
            raise SystemError("timestamp: is in the future (check the collector's clock)")
        if ts < now - timedelta(days=self.settings.retention_days):
            raise SystemError("timestamp: is older than the retention period")
        data = snap.model_dump(mode="json")
        data["timestamp"] = ts.isoformat()
        flags, reason = flag_status(data)
        components: list[Component] = [
            (kind, row["name"], row)
            for kind, key in (
                ("login_node", "login_nodes"),
                ("compute", "compute"),
                ("queue", "queues"),
                ("filesystem", "filesystems"),
            )
            for row in data[key]
        ]
        stored = StoredSnapshot(system, ts, now, snap.availability, flags, data)
        created = await db.put_snapshot(self.hub.store, stored, components)
        async with self._lock:
            latest = self.latest.get(system)
            if latest is None or ts >= latest.timestamp:
                self.latest[system] = _Latest(ts, now, snap.availability, flags, reason)
            status = self._record(system, now, always=latest is None or ts >= latest.timestamp)
        util, jobs = data["utilization"], data["jobs"]
        self.hub.bus.publish(
            "system.snapshot",
            SystemSnapshotReceived(
                system=system,
                availability=snap.availability.value,
                timestamp=ts,
                summary={
                    "status": status.value,
                    "cpu_percent": util.get("cpu_percent"),
                    "gpu_percent": util.get("gpu_percent"),
                    "memory_percent": util.get("memory_percent"),
                    "jobs_running": jobs.get("running"),
                    "jobs_pending": jobs.get("pending"),
                    "active_users": data.get("active_users"),
                },
            ),
        )
        return SnapshotResult(system=system, timestamp=ts, created=created, status=status)

    async def report_outage(self, body: OutageIn) -> Outage:
        self.check_name(body.system)
        now = self.clock()
        before = None
        if body.id is not None:
            before = self.outages.get(body.id) or await db.get_outage(self.hub.store, body.id)
            if before is None and body.status is OutageStatus.RESOLVED:
                # resolving what was never reported is a mistake (a mistyped id), not news
                raise SystemError(f"id: no outage {body.id!r} to resolve", 404)
        end = body.end_time
        if body.status is OutageStatus.RESOLVED and end is None:
            end = now
        outage = Outage(
            id=body.id or f"out-{secrets.token_hex(6)}",
            system=body.system,
            component=body.component,
            severity=body.severity,
            status=body.status,
            title=body.title,
            description=body.description,
            start_time=_utc(body.start_time)
            if body.start_time
            else (before.start_time if before else now),
            end_time=_utc(end) if end else None,
            estimated_resolution=(
                _utc(body.estimated_resolution) if body.estimated_resolution else None
            ),
            updated_at=now,
        )
        await db.put_outage(self.hub.store, outage)
        async with self._lock:
            if outage.status is OutageStatus.RESOLVED:
                self.outages.pop(outage.id, None)
            else:
                self.outages[outage.id] = outage
            if before is not None and before.system != outage.system:
                self._record(before.system, now, always=False)
            self._record(outage.system, now, always=False)
        self.hub.bus.publish(
            "system.outage_changed",
            SystemOutageChanged(outage=outage, previous_status=before.status if before else None),
        )
        return outage

    async def add_reservation(self, body: ReservationIn) -> tuple[Reservation, bool]:
        self.check_name(body.system)
        reservation = Reservation(
            system=body.system,
            name=body.name,
            start_time=_utc(body.start_time),
            end_time=_utc(body.end_time),
            node_count=body.node_count,
            partition=body.partition,
            description=body.description,
        )
        created = await db.put_reservation(self.hub.store, reservation)
        return reservation, created

    # -- reads ------------------------------------------------------------------------

    def summaries(self) -> list[SystemSummary]:
        now = self.clock()
        out = []
        for system in sorted(set(self.latest) | {o.system for o in self.outages.values()}):
            latest = self.latest.get(system)
            status, _ = self.evaluate(system, now)
            age = (now - latest.timestamp).total_seconds() if latest else None
            out.append(
                SystemSummary(
                    system=system,
                    status=status,
                    availability=latest.availability if latest else None,
                    last_snapshot_at=latest.timestamp if latest else None,
                    age_seconds=age,
                    stale=age is None or age > self.settings.stale_after_seconds,
                    active_outages=sum(
                        1 for o in self.outages.values() if o.system == system and _in_force(o, now)
                    ),
                )
            )
        return out

    async def latest_view(self, system: str) -> SystemLatest | None:
        snap = await db.latest(self.hub.store, system)
        if snap is None:
            return None
        now = self.clock()
        status, _ = self.evaluate(system, now)
        age = (now - snap.timestamp).total_seconds()
        return SystemLatest(
            system=system,
            status=status,
            stale=age > self.settings.stale_after_seconds,
            age_seconds=age,
            received_at=snap.received_at,
            snapshot=snap.data,
            outages=[o for o in self.outages.values() if o.system == system],
            reservations=await db.list_reservations(
                self.hub.store, ending_after=now, system=system
            ),
        )

    async def history(self, system: str, hours: float, limit: int = 5000) -> list[SystemPoint]:
        since = self.clock() - timedelta(hours=hours)
        return [_point(s) for s in await db.history(self.hub.store, system, since, limit)]

    async def outages_view(
        self, system: str | None, include_resolved_hours: float | None
    ) -> list[Outage]:
        since = (
            None
            if include_resolved_hours is None
            else self.clock() - timedelta(hours=include_resolved_hours)
        )
        return await db.list_outages(self.hub.store, system=system, resolved_since=since)

    async def reservations_view(self, system: str | None) -> list[Reservation]:
        return await db.list_reservations(self.hub.store, ending_after=self.clock(), system=system)

    # -- retention --------------------------------------------------------------------

    async def prune(self, now: datetime | None = None) -> int:
        cutoff = (now or self.clock()) - timedelta(days=self.settings.retention_days)
        total, deleted = 0, -1
        while deleted != 0:  # batch by batch, yielding to the API in between
            deleted = await db.delete_before(self.hub.store, cutoff)
            total += deleted
        if total:
            log.info("systems retention: %d rows older than %s removed", total, cutoff)
        return total
