"""The studio pulse activity feed (seed 002), built from the hub's own event stream.

The feed listens on the bus like any client (as admin, on the topics that carry news):
job and workflow endings, workflow stage changes, stability and readiness flips, external
outages, service health transitions and alerts. Each becomes one :class:`ActivityItem`,
stored (its own table, so the feed outlives the event log's trimming) and published as
``activity.created`` — or ``activity.admin_created`` for items about infrastructure, which
only admins receive. Listening rather than being called keeps every producer (push API,
sources, checkers, alerts) unaware of the feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from studio_status.protocol import Event, Role, Topic, utcnow
from studio_status.protocol.dashboard import ActivityCreated, ActivityItem

from .bus import EventBus, Subscriber
from .store.dashboard import DashboardStore
from .store.sqlite import SqlStore, StoreError

__all__ = ["ActivityLog", "describe"]

log = logging.getLogger("hub.activity")

WATCHED = (Topic.JOBS, Topic.WORKFLOWS, Topic.SYSTEM, Topic.HEALTH, Topic.ALERTS)
_FINAL = {"completed": "success", "failed": "error", "cancelled": "warning", "lost": "warning"}
_HEALTH_SEVERITY = {"healthy": "success", "degraded": "warning", "down": "error"}


def describe(
    event: Event, label: Callable[[str], str | None] = lambda _name: None
) -> dict[str, Any] | None:
    """The feed item (without id) for one event, or None when it is not news. ``label``
    gives a service's label (``DB``) for its name: the feed names things as the app does."""
    d, kind = event.data, event.type
    if kind == "job.status_changed":
        job = d.get("job") or {}
        status = job.get("status")
        if status not in _FINAL or d.get("previous") == status:
            return None
        name = job.get("name") or job.get("type") or "Job"
        return {
            "category": "job", "kind": f"job.{status}", "severity": _FINAL[status],
            "title": f"{name} {status}", "message": job.get("error"),
            "entity_type": "job", "entity_id": job.get("id"), "project_id": job.get("project"),
        }  # fmt: skip
    if kind == "workflow.status_changed":
        wf = d.get("workflow") or {}
        status, stage, name = wf.get("status"), wf.get("stage"), wf.get("name") or wf.get("id")
        base = {"category": "workflow", "entity_type": "workflow", "entity_id": wf.get("id")}
        if status in _FINAL:
            return {**base, "kind": f"workflow.{status}", "severity": _FINAL[status],
                    "title": f"Workflow {name} {status}"}  # fmt: skip
        if stage and d.get("previous") not in (None, stage):
            return {**base, "kind": "workflow.stage", "title": f"Workflow {name}: {stage}",
                    "message": f"from {d.get('previous')}"}  # fmt: skip
        return None
    if kind == "system.stability_changed":
        stable = d.get("state") == "stable"
        return {
            "category": "system", "entity_type": "system", "entity_id": "stability",
            "kind": "system.stable" if stable else "system.processing",
            "title": "System stable" if stable else "Processing data",
            "severity": "success" if stable else "info",
        }  # fmt: skip
    if kind == "system.readiness_changed":
        ready = bool(d.get("ready"))
        blocking = ", ".join(str(b) for b in d.get("blocking") or [])
        return {
            "category": "system", "entity_type": "system", "entity_id": "readiness",
            "kind": "system.ready" if ready else "system.not_ready",
            "title": "Platform ready" if ready else "Platform not ready",
            "message": f"waiting for {blocking}" if blocking else None,
            "severity": "success" if ready else "warning",
        }  # fmt: skip
    if kind == "system.outage_changed":
        outage = d.get("outage") or {}
        return {
            "category": "system", "entity_type": "system", "entity_id": str(outage.get("system")),
            "kind": f"system.outage_{outage.get('status')}",
            "title": f"{outage.get('system')}: {outage.get('title')}",
            "message": outage.get("description"),
            "severity": "success" if outage.get("status") == "resolved" else "warning",
        }  # fmt: skip
    return _describe_admin(kind, d, label)


def _describe_admin(
    kind: str, d: dict[str, Any], label: Callable[[str], str | None]
) -> dict[str, Any] | None:
    if kind == "service.health_changed":
        current = (d.get("current") or {}).get("status")
        previous = d.get("previous")
        if previous is None or previous == current:
            return None
        name = str(d.get("service"))
        shown = (d.get("current") or {}).get("label") or label(name) or name  # not an id
        return {
            "category": "service", "entity_type": "service", "entity_id": d.get("service"),
            "kind": f"service.{current}", "title": f"{shown} is {current}",
            "message": f"was {previous}", "severity": _HEALTH_SEVERITY.get(str(current), "info"),
            "admin_only": True,
        }  # fmt: skip
    if kind in ("alert.fired", "alert.resolved"):
        alert = d.get("alert") or {}
        fired = kind == "alert.fired"
        service = label(str(alert.get("service"))) or alert.get("service")
        return {
            "category": "alert", "entity_type": "alert", "entity_id": alert.get("id"),
            "kind": kind, "title": f"Alert: {service}" if fired else f"Resolved: {service}",
            "message": alert.get("message"), "severity": "error" if fired else "success",
            "admin_only": True,
        }  # fmt: skip
    return None


class ActivityLog:
    """Turns bus events into stored, published feed items. See the module docstring."""

    def __init__(
        self,
        store: SqlStore,
        *,
        keep: int = 20_000,
        clock: Callable[[], datetime] = utcnow,
        label: Callable[[str], str | None] = lambda _name: None,
    ) -> None:
        self._label = label
        self.db = DashboardStore(store)
        self._keep = keep
        self._clock = clock
        self._bus: EventBus | None = None
        self._sub: Subscriber | None = None
        self._pending: list[ActivityItem] = []
        self._written = asyncio.Event()
        self._written.set()

    def attach(self, bus: EventBus) -> None:
        """Listen from now on (synchronous, so no event slips by before :meth:`run`)."""
        self._bus = bus
        self._sub = bus.subscribe(Role.ADMIN, WATCHED)

    async def run(self) -> None:
        assert self._bus is not None and self._sub is not None
        try:
            while True:
                if self._sub.overflowed:  # fell behind: take the stream up again from here
                    log.warning("activity feed fell behind; some items were skipped")
                    self._bus.unsubscribe(self._sub)
                    self._sub = self._bus.subscribe(Role.ADMIN, WATCHED)
                if self._sub.queue.empty() and self._pending:
                    await self._write()
                    continue
                if self._sub.queue.empty():
                    self._written.set()
                event = await self._sub.queue.get()
                self._written.clear()
                self.take(event)
        finally:
            self._bus.unsubscribe(self._sub)

    def take(self, event: Event) -> ActivityItem | None:
        draft = describe(event, self._label)
        if draft is None or not draft.get("entity_id"):
            return None
        # the id is the seq of the event it tells of: unique, ordered, and known at once
        item = ActivityItem.model_validate({"id": event.seq, "ts": event.ts, **draft})
        assert self._bus is not None
        kind = "activity.admin_created" if item.admin_only else "activity.created"
        self._bus.publish(kind, ActivityCreated(item=item))
        self._pending.append(item)
        return item

    async def _write(self) -> None:
        batch, self._pending = self._pending, []
        try:
            await self.db.add_activity(batch, self._keep)
        except StoreError as exc:  # the writer reports storage trouble; keep the items
            log.debug("activity not stored yet: %s", exc)
            self._pending[:0] = batch
            await asyncio.sleep(1.0)

    async def flush(self) -> None:
        """Wait until every event published so far is in the feed table (tests)."""
        if self._sub is not None and (not self._sub.queue.empty() or self._pending):
            self._written.clear()
        await self._written.wait()
