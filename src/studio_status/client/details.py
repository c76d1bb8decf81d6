"""What detail windows show beyond the live state, fetched on their intent, kept in the store.

Views never fetch. A window says what it shows (:meth:`Details.watch` a resource key such as
``service:comfyui`` or ``uptime:24h``) and what it no longer shows (:meth:`Details.unwatch`);
this module fetches over REST with the app's one httpx client and token, puts the answer
into :class:`~studio_status.client.state.StatusStore` as a
:class:`~studio_status.client.state.DetailEntry`, and refreshes watched resources when the
live stream says they changed:

* a new reading of a watched service (its time and latency ride on the footer) appends to
  its history at once, no round trip; a change of status (``service.health_changed``)
  refetches it, since the hub's stored checks are the truth;
* a status change anywhere refreshes the uptime timeline and the startup checklist;
* a job leaving the live set refreshes the job list (its "recently completed" part);
* a pod change refreshes pods and costs; a new notice refreshes the activity feed;
* a pushed snapshot of an external system refreshes that system, an outage report the
  systems and outages; a change of the readiness flag refreshes the startup checklist.

Refreshes of one key are throttled (``min_interval``), so a burst of events costs one
request. Detail topics (seed 003: a job's progress only while its window is open) go through
:meth:`hold_topics` / :meth:`release_topics`, reference-counted so two windows holding the
same topic do not release it for each other.

Quick actions (recheck, diagnose, restart) run through :meth:`run_action`; each result, the
hub's answer or the error, lands in the store under ``actions:<service>`` so the window shows
the audit of what was done from this desktop, newest first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Protocol
from urllib.parse import quote

from pydantic import Field, TypeAdapter, ValidationError

from studio_status.protocol import (
    CheckRecord,
    JobInfo,
    ProtocolError,
    ServiceDetail,
    ServiceHealth,
    WireModel,
    WorkflowInfo,
    parse_model,
    utcnow,
)
from studio_status.protocol.actions import AuditEntry
from studio_status.protocol.checklist import StartupChecklist
from studio_status.protocol.cloud import CloudCosts, CloudPodsView
from studio_status.protocol.dashboard import ActiveTasks, ActivityPage, DiskHealth, ProjectProgress
from studio_status.protocol.systems import Outage, Reservation, SystemLatest, SystemSummary
from studio_status.protocol.uptime import UptimeReport
from studio_status.tasks import TaskSet

from .errors import BadResponse, ClientError, HubUnavailable, NotAllowed, NotFound, Unauthorized
from .rest import RestClient
from .state import DetailEntry, StatusState, StatusStore

__all__ = [
    "ACTIONS",
    "ActionRecord",
    "Details",
    "JobsList",
    "LogLines",
    "TopicSink",
    "actions_key",
    "resource_path",
]

log = logging.getLogger("client.details")

#: Quick actions of seed 001 (task 2.6 / 3.2); all admin-only on the hub.
#: ``test-notification`` sends a test notice to the service's alert channels.
ACTIONS: Final = ("recheck", "diagnose", "restart", "test-notification")
#: Audit entries kept per service on this desktop.
AUDIT_KEEP: Final = 20
#: The tray's mute choices (seconds) as the hub names them; None is "until cleared".
MUTE_DURATIONS: Final[dict[int | None, str]] = {
    3600: "1h",
    14400: "4h",
    28800: "8h",
    None: "until_cleared",
}
#: History rows kept per service while appending live readings between fetches.
HISTORY_KEEP: Final = 5000


class TopicSink(Protocol):
    """Where detail topics go: :class:`~studio_status.client.stream.StatusClient`."""

    async def subscribe(self, topics: Iterable[str]) -> None: ...

    async def unsubscribe(self, topics: Iterable[str]) -> None: ...


class JobsList(WireModel):
    """``data`` of ``GET /api/v1/jobs``: active jobs, recently finished ones, workflows."""

    active: list[JobInfo] = Field(default_factory=list)
    recent: list[JobInfo] = Field(default_factory=list)
    workflows: list[WorkflowInfo] = Field(default_factory=list)


class LogLines(WireModel):
    """``data`` of ``GET /admin/health/{service}/logs``: the last lines, oldest first."""

    service: str | None = None
    lines: list[str] = Field(default_factory=list)
    source: str | None = None


@dataclass(frozen=True)
class ActionRecord:
    """One quick action from this desktop: what, when, and what the hub said.

    ``output`` is the diagnose text (or the hub's message); ``audit`` the hub's audit id or
    line when it returns one; ``error`` is set when the action failed.
    """

    service: str
    action: str
    at: datetime
    ok: bool
    output: str = ""
    audit: str | None = None
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def actions_key(service: str) -> str:
    return f"actions:{service}"


# -- resources --------------------------------------------------------------------------

Parser = Callable[[Any], object]


def _unwrap(body: Any) -> Any:
    """The ``data`` of a ``{"data": ...}`` envelope (every hub route uses one)."""
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    return body


def _model(model: type[WireModel]) -> Parser:
    def parse(data: Any) -> object:
        return parse_model(model, data, model.__name__)

    return parse


def _raw(data: Any) -> object:
    return data


def _list(model: type[WireModel]) -> Parser:
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[model])  # type: ignore[valid-type]

    def parse(data: Any) -> object:
        try:
            return tuple(adapter.validate_python(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise ProtocolError(model.__name__, f"{loc}: {first['msg']}") from None

    return parse


def _widget(data: Any) -> object:
    """``widget:<name>``: the studio pulse widgets each have their own model."""
    if isinstance(data, list):
        return _list(ProjectProgress)(data)
    if isinstance(data, dict) and "volumes" in data:
        return parse_model(DiskHealth, data, "disk-health")
    if isinstance(data, dict) and "running" in data:
        return parse_model(ActiveTasks, data, "active-tasks")
    return data


def _logs(data: Any) -> object:
    if isinstance(data, list):  # a bare list of lines
        data = {"lines": data}
    return parse_model(LogLines, data, "logs")


@dataclass(frozen=True)
class _Resource:
    path: str  # with ``{arg}`` for the key's argument, already URL-quoted
    parse: Parser = _raw
    params: Callable[[str], dict[str, str | int | float]] | None = None


def _uptime_params(period: str) -> dict[str, str | int | float]:
    return {"period": period, "timeline": "true"}


def _query(query: str) -> dict[str, str | int | float]:
    """``activity:limit=50&category=job`` → query parameters."""
    out: dict[str, str | int | float] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name and value:
            out[name] = value
    return out


#: Resource kind (the key before ``:``) → how to fetch and parse it.
RESOURCES: Final[dict[str, _Resource]] = {
    "service": _Resource("/admin/health/{arg}", _model(ServiceDetail), lambda _a: {"hours": 24}),
    "logs": _Resource("/admin/health/{arg}/logs", _logs),
    "audit": _Resource(
        "/admin/health/audit", _list(AuditEntry), lambda service: {"service": service}
    ),
    "uptime": _Resource("/admin/health/uptime", _model(UptimeReport), _uptime_params),
    "checklist": _Resource("/admin/health/startup-checklist", _model(StartupChecklist)),
    "jobs": _Resource("/api/v1/jobs", _model(JobsList), lambda _a: {"recent": 20}),
    "pods": _Resource("/admin/cloud/pods", _model(CloudPodsView)),
    "costs": _Resource("/admin/cloud/costs", _model(CloudCosts), lambda h: {"hours": h or "24"}),
    "activity": _Resource("/dashboard/widgets/activity-feed", _model(ActivityPage), _query),
    "widget": _Resource("/dashboard/widgets/{arg}", _widget),
    "system": _Resource("/api/v1/status/{arg}/latest", _model(SystemLatest)),
    "systems": _Resource("/api/v1/status/systems", _list(SystemSummary)),
    "outages": _Resource("/api/v1/status/outages", _list(Outage)),
    "reservations": _Resource("/api/v1/status/reservations", _list(Reservation)),
}


def _split(key: str) -> tuple[str, str]:
    kind, _, arg = key.partition(":")
    return kind, arg


def resource_path(key: str) -> tuple[str, dict[str, str | int | float] | None]:
    """The route and query of a resource key; ``KeyError`` for an unknown kind."""
    kind, arg = _split(key)
    res = RESOURCES[kind]
    path = res.path.replace("{arg}", quote(arg, safe=""))
    return path, (res.params(arg) if res.params is not None else None)


# -- the service --------------------------------------------------------------------------


class Details:
    """Fetches detail resources into the store on the views' intents; see the module doc.

    Attributes:
        watched: resource key → how many open views show it.
        held_topics: detail topic → how many open views hold it.
        requests: how many REST requests this service made (for tests and the bench).
    """

    def __init__(
        self,
        rest: RestClient,
        store: StatusStore,
        topics: TopicSink | None = None,
        *,
        min_interval: float = 2.0,
        follow_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rest = rest
        self._store = store
        self._topics = topics
        self._min_interval = min_interval
        self._follow_interval = follow_interval
        self._monotonic = monotonic
        self.watched: Counter[str] = Counter()
        self.held_topics: Counter[str] = Counter()
        self.requests = 0
        self._tasks = TaskSet(log, "details-")
        self._inflight: dict[str, asyncio.Task[DetailEntry]] = {}
        self._last_fetch: dict[str, float] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._seen: StatusState = store.state
        self._unsubscribe: Callable[[], None] | None = store.subscribe(self._on_store_changed)

    # -- reading ----------------------------------------------------------------------

    def entry(self, key: str) -> DetailEntry:
        return self._store.state.details.get(key) or DetailEntry()

    # -- intents (sync, from views) ---------------------------------------------------

    def watch(self, key: str) -> None:
        """A view shows ``key``: fetch it now unless a fresh copy is in the store."""
        self.watched[key] += 1
        if self.watched[key] == 1:
            self.refresh(key)
            if _split(key)[0] == "logs" and self._follow_interval > 0:
                self._followers[key] = self._spawn(self._follow(key), f"follow-{key}")

    def unwatch(self, key: str) -> None:
        """A view stopped showing ``key``; the last one to go drops it from the store."""
        if self.watched[key] <= 0:
            return
        self.watched[key] -= 1
        if self.watched[key] == 0:
            del self.watched[key]
            follower = self._followers.pop(key, None)
            if follower is not None:
                follower.cancel()
            handle = self._pending.pop(key, None)
            if handle is not None:
                handle.cancel()
            if not key.startswith("actions:"):
                self._store.drop_detail(key)

    def refresh(self, key: str, *, now: bool = True) -> None:
        """Fetch ``key`` (now, or at the throttle's next slot when ``now`` is False)."""
        if now:
            self._spawn(self.fetch(key), f"fetch-{key}")
        else:
            self._schedule(key)

    def hold_topics(self, topics: Iterable[str]) -> None:
        """Subscribe detail topics while a view that shows them is open (seed 003)."""
        new = []
        for topic in topics:
            self.held_topics[topic] += 1
            if self.held_topics[topic] == 1:
                new.append(topic)
        if new and self._topics is not None:
            self._spawn(self._topics.subscribe(new), "subscribe")

    def release_topics(self, topics: Iterable[str]) -> None:
        gone = []
        for topic in topics:
            if self.held_topics[topic] <= 0:
                continue
            self.held_topics[topic] -= 1
            if self.held_topics[topic] == 0:
                del self.held_topics[topic]
                gone.append(topic)
        if gone and self._topics is not None:
            self._spawn(self._topics.unsubscribe(gone), "unsubscribe")

    def request_action(self, service: str, action: str) -> None:
        """Run a quick action in the background; its record lands in the store."""
        self._spawn(self.run_action(service, action), f"action-{action}-{service}")

    # -- async work -------------------------------------------------------------------

    async def fetch(self, key: str) -> DetailEntry:
        """Fetch one resource now (joining a fetch of it already running)."""
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        task = asyncio.get_running_loop().create_task(self._fetch(key), name=f"details-{key}")
        self._inflight[key] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._inflight.pop(key, None)

    async def _fetch(self, key: str) -> DetailEntry:
        try:
            path, params = resource_path(key)
        except KeyError:
            log.error("unknown detail resource %r", key)
            raise
        parse = RESOURCES[_split(key)[0]].parse
        before = self.entry(key)
        self._store.set_detail(key, replace(before, loading=True))
        self._last_fetch[key] = self._monotonic()
        self.requests += 1
        try:
            body = await self._rest.get_json(path, params)
            value = parse(_unwrap(body))
        except ProtocolError as exc:
            entry = replace(before, loading=False, error=f"unexpected answer: {exc}")
        except NotFound as exc:
            log.info("detail %s: %s", key, exc)
            entry = replace(before, loading=False, error=exc.cause, missing=True)
        except ClientError as exc:
            log.info("detail %s: %s", key, exc)
            entry = replace(before, loading=False, error=_reason(exc))
        else:
            entry = DetailEntry(value=value, fetched_at=utcnow(), loading=False)
        finally:
            self._inflight.pop(key, None)
        if entry.error:
            log.info("detail %s: %s", key, entry.error)
        self._store.set_detail(key, entry)
        return entry

    async def run_action(self, service: str, action: str) -> ActionRecord:
        """``POST /admin/health/{service}/{action}``; the record is added to the audit."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        path = f"/admin/health/{quote(service, safe='')}/{action}"
        at = utcnow()
        self._add_record(ActionRecord(service, action, at, ok=False, output="running…"))
        try:
            body = await self._rest.post_json(
                path, {"confirm": True} if action == "restart" else None
            )
        except ClientError as exc:
            record = ActionRecord(service, action, at, ok=False, error=_reason(exc))
        else:
            record = _action_record(service, action, at, _unwrap(body))
        self._add_record(record)
        log.info(
            "action %s on %s: %s", action, service, "ok" if record.ok else record.error or "failed"
        )
        if action in ("recheck", "diagnose", "restart"):
            for key in (f"service:{service}", f"audit:{service}"):
                if key in self.watched:
                    self.refresh(key)
        return record

    async def override_check(self, check: str, reason: str) -> ActionRecord:
        """``POST /admin/health/startup-checklist/{check}/override`` with the admin's reason;
        recorded like a quick action (under ``actions:checklist``)."""
        path = f"/admin/health/startup-checklist/{quote(check, safe='')}/override"
        at = utcnow()
        try:
            await self._rest.post_json(path, {"reason": reason})
        except ClientError as exc:
            record = ActionRecord(
                "checklist", f"override {check}", at, ok=False, error=_reason(exc)
            )
        else:
            record = ActionRecord("checklist", f"override {check}", at, ok=True, output=reason)
        self._add_record(record)
        if "checklist" in self.watched:
            self.refresh("checklist")
        return record

    async def mute(self, seconds: int | None) -> ActionRecord:
        """Mute notices on the hub, so the mute holds on every desktop of the user.

        ``seconds``: 3600 / 14400 / 28800 (the tray's 1 h / 4 h / 8 h), None until cleared,
        0 clears it. Recorded like a quick action under ``actions:mute``.
        """
        at = utcnow()
        what = "unmute" if seconds == 0 else f"mute {MUTE_DURATIONS.get(seconds, '?')}"
        try:
            if seconds == 0:
                await self._rest.delete("/admin/health/mute")
            else:
                duration = MUTE_DURATIONS.get(seconds)
                if duration is None:
                    raise ValueError(
                        f"the hub mutes for 1 h, 4 h, 8 h or until cleared, not {seconds} s"
                    )
                await self._rest.put_json("/admin/health/mute", {"duration": duration})
        except NotFound:
            record = ActionRecord("mute", what, at, ok=True, output="nothing was muted")
        except (ClientError, ValueError) as exc:
            record = ActionRecord("mute", what, at, ok=False, error=str(exc))
        else:
            record = ActionRecord("mute", what, at, ok=True)
        self._add_record(record)
        log.info("%s on the hub: %s", what, "ok" if record.ok else record.error)
        return record

    def request_mute(self, seconds: int | None) -> None:
        self._spawn(self.mute(seconds), "mute")

    def request_override(self, check: str, reason: str) -> None:
        self._spawn(self.override_check(check, reason), f"override-{check}")

    def _add_record(self, record: ActionRecord) -> None:
        key = actions_key(record.service)
        old = self.entry(key).value
        records = [r for r in old if isinstance(r, ActionRecord)] if isinstance(old, tuple) else []
        # A finished action replaces its own "running…" line (same action, same start).
        records = [r for r in records if not (r.at == record.at and r.action == record.action)]
        self._store.set_detail(
            key, DetailEntry(value=(record, *records)[:AUDIT_KEEP], fetched_at=utcnow())
        )

    async def _follow(self, key: str) -> None:
        """Logs follow new lines while their viewer is open (the hub has no log events)."""
        while True:
            await asyncio.sleep(self._follow_interval)
            if key in self.watched:
                await self.fetch(key)

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        await self._tasks.cancel_all()

    # -- live refresh -----------------------------------------------------------------

    def _on_store_changed(self, state: StatusState) -> None:
        seen, self._seen = self._seen, state
        if not self.watched:
            return
        if state.services is not seen.services:
            self._on_services(seen, state)
        if state.footer is not seen.footer:
            self._on_footer(state)
        if state.jobs is not seen.jobs:
            finished = set(seen.jobs) - set(state.jobs)
            started = set(state.jobs) - set(seen.jobs)
            if (finished or started) and "jobs" in self.watched:
                self._schedule("jobs")
            if finished and "widget:project-progress" in self.watched:
                self._schedule("widget:project-progress")
        if state.pods is not seen.pods:
            for key in list(self.watched):
                if key == "pods" or key.startswith("costs:"):
                    self._schedule(key)
        if state.last_notice_id != seen.last_notice_id:
            for key in list(self.watched):
                if key.startswith("activity:"):
                    self._schedule(key)
        if state.readiness is not seen.readiness and "checklist" in self.watched:
            self._schedule("checklist")
        if state.outages is not seen.outages:
            for key in list(self.watched):
                if _split(key)[0] in ("system", "systems", "outages"):
                    self._schedule(key)
        if state.systems is not seen.systems:
            for key in list(self.watched):
                kind, arg = _split(key)
                moved = kind == "system" and state.systems.get(arg) is not seen.systems.get(arg)
                if moved or kind in ("outages", "reservations", "systems"):
                    self._schedule(key)

    def _on_services(self, seen: StatusState, state: StatusState) -> None:
        transition = False
        for name, current in state.services.items():
            before = seen.services.get(name)
            if current is before:
                continue
            changed = before is None or before.status is not current.status
            transition = transition or changed
            key = f"service:{name}"
            if key in self.watched and changed:
                self._schedule(key)
            if f"logs:{name}" in self.watched and changed:
                self._schedule(f"logs:{name}")
        if transition:
            for key in list(self.watched):
                if key.startswith("uptime:") or key == "checklist":
                    self._schedule(key)

    def _on_footer(self, state: StatusState) -> None:
        """The hub sends each check's time and latency with the footer (not as an event
        per check): append those readings to watched histories, without a round trip."""
        footer = state.footer
        if footer is None or not footer.services:
            return
        for name, dot in footer.services.items():
            key = f"service:{name}"
            if key not in self.watched or dot.checked_at is None:
                continue
            live = state.services.get(name)
            error = live.error_message if live is not None and live.status is dot.status else None
            self._append_reading(
                key,
                CheckRecord(
                    service_name=name,
                    status=dot.status,
                    latency_ms=dot.latency_ms,
                    error_message=error,
                    checked_at=dot.checked_at,
                ),
                live,
            )

    def _append_reading(
        self, key: str, record: CheckRecord, current: ServiceHealth | None = None
    ) -> None:
        """A new reading between fetches: add it to the history the window draws."""
        entry = self.entry(key)
        detail = entry.value
        if not isinstance(detail, ServiceDetail):
            return
        if detail.history and detail.history[-1].checked_at >= record.checked_at:
            return
        history = [*detail.history, record][-HISTORY_KEEP:]
        update: dict[str, object] = {"history": history}
        if current is not None:
            update["service"] = current
        self._store.set_detail(key, replace(entry, value=detail.model_copy(update=update)))

    def _schedule(self, key: str) -> None:
        """Refresh ``key`` at the throttle's next free slot (one request per burst)."""
        if key in self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        last = self._last_fetch.get(key, float("-inf"))
        delay = max(0.0, last + self._min_interval - self._monotonic())

        def fire() -> None:
            self._pending.pop(key, None)
            if key in self.watched:
                self._spawn(self.fetch(key), f"refresh-{key}")

        self._pending[key] = loop.call_later(delay, fire)

    # -- plumbing ---------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name)


def _reason(exc: ClientError) -> str:
    """The failure in the user's words (no HTTP codes, no API paths; the log has those)."""
    if isinstance(exc, NotAllowed):
        return f"not allowed: {exc}"  # "admins only", from the hub's own words
    if isinstance(exc, Unauthorized):
        return "not allowed: the hub refused the token"
    if isinstance(exc, BadResponse):
        return exc.cause or "unexpected answer from the hub"
    if isinstance(exc, HubUnavailable):
        return f"hub unreachable: {exc.cause}"
    return f"hub unreachable: {exc}"


def _action_record(service: str, action: str, at: datetime, data: Any) -> ActionRecord:
    """Read the hub's answer to an action tolerantly: the recheck's reading, the diagnose
    output, the restart command's exit code and output, an audit id when there is one."""
    if not isinstance(data, dict):
        return ActionRecord(service, action, at, ok=True, output="" if data is None else str(data))
    ok = bool(data.get("ok", data.get("success", True)))
    error = data.get("error")
    output: Any = data.get("output") or data.get("message") or ""
    if "exit_code" in data:  # a restart command
        ok = data.get("exit_code") == 0 and not data.get("timed_out")
        if data.get("timed_out"):
            error = "the restart command timed out"
        elif not ok:
            error = f"exit code {data.get('exit_code')}"
    elif isinstance(data.get("channels"), list):  # a test notification, channel by channel
        channels = [c for c in data["channels"] if isinstance(c, dict)]
        sent = [str(c.get("channel")) for c in channels if c.get("sent")]
        failed = [f"{c.get('channel')}: {c.get('error')}" for c in channels if not c.get("sent")]
        if not channels:
            error = "no alert channel is set up for this service"
        elif failed:
            error = "not delivered to " + "; ".join(failed) + " (retried later)"
        output = "sent to " + ", ".join(sent) if sent else ""
    elif "checked_at" in data and "status" in data:  # a recheck's reading
        bits = [str(data["status"])]
        if data.get("latency_ms") is not None:
            bits.append(f"{data['latency_ms']} ms")
        if data.get("error_message"):
            bits.append(str(data["error_message"]))
        output = " · ".join(bits)
    if error:
        ok = False
    if isinstance(output, dict | list):
        output = json.dumps(output, indent=2, default=str)
    audit = data.get("audit_id") or data.get("audit")
    if isinstance(audit, dict):
        audit = audit.get("id")
    return ActionRecord(
        service,
        action,
        at,
        ok=ok,
        output=str(output),
        audit=None if audit is None else str(audit),
        error=None if not error else str(error),
        data=data,
    )
