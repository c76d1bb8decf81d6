"""PostgreSQL ``LISTEN/NOTIFY`` source (seed 003): stability and job progress pushed by the
platform's own database.

The platform's triggers ``pg_notify`` a light payload on ``system_stability``
(``{"stable": bool}``) on every change to the job tables, and row details on a progress
channel such as ``import_job_progress``. This source listens on the configured channels
with one asyncpg connection and turns the payloads into ``system.stability_changed``
events (published only when the state changes: statement-level triggers repeat it) and
job events through :meth:`Hub.push_job`, the same path as every other source.

:class:`PgPayloads` holds the mapping rules without I/O; :class:`PgNotifySource` is the
connection around it. A lost connection (server restart, ``pg_terminate_backend``, a dead
network caught by the keepalive query) is reopened with backoff (back to its first step
after every connection that held), and the stability query (e.g.
``SELECT public.is_system_stable()``) is run again so that nothing missed while away stays
wrong.

The listener is a service of its own (``pg_notify.<name>``, off the footer): healthy while
it listens, down with the reason while it cannot, so its loss shows, alerts and counts in
uptime like any other. The last stability state it learnt is kept (``payloads.stable``)
for the snapshot every client gets on connect and for ``GET /api/v1/status/stability``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from studio_status.backoff import EQUAL, Backoff
from studio_status.hub.checks.base import CheckResult
from studio_status.protocol import (
    HealthStatus,
    JobEventIn,
    PushResult,
    StabilityState,
    SystemStabilityChanged,
    utcnow,
)

from .specs import PgNotifySpec

__all__ = ["SERVICE_KIND", "PgNotifySource", "PgPayloads", "job_state", "service_name"]

#: the ``kind`` of a listener's own service
SERVICE_KIND = "pg_notify"


def service_name(source: str) -> str:
    """The name of the service that tells the health of the listener named ``source``."""
    return f"{SERVICE_KIND}.{source}"


log = logging.getLogger("hub.sources.pg")

_ID_OK = re.compile(r"[^A-Za-z0-9_.:\-]")

# Platform job states (seed 003's import_job among them) onto the hub's job model. Any
# state not listed counts as running, as ``is_system_stable()`` counts it as active.
_STATES: dict[str, str] = {
    **dict.fromkeys(("finished", "completed", "complete", "done", "success", "succeeded"),
                    "completed"),
    **dict.fromkeys(("failed", "failure", "error", "errored"), "failed"),
    **dict.fromkeys(("rejected", "cancelled", "canceled", "aborted"), "cancelled"),
    **dict.fromkeys(
        ("pending", "queued", "waiting", "waiting_for_upload", "upload_completed",
         "waiting_for_review", "approved", "created"),
        "queued",
    ),
}  # fmt: skip


def job_state(state: str) -> str:
    """``queued``, ``running``, ``completed``, ``failed`` or ``cancelled`` for a state."""
    return _STATES.get(state.strip().lower(), "running")


Push = Callable[[JobEventIn], PushResult]
Publish = Callable[[str, BaseModel], object]
Report = Callable[[str, CheckResult, datetime], None]


class PgPayloads:
    """Payload rules for one database: stability and job rows, with what was last told."""

    def __init__(self, source: str, active_job_ids: Iterable[str] = ()) -> None:
        self.source = source
        self.stable: bool | None = None
        self.active_jobs: int | None = None
        self._session = uuid.uuid4().hex[:8]
        self._n = 0
        prefix = f"pg:{source}:"
        self._status: dict[str, str] = {
            j: "running" for j in active_job_ids if j.startswith(prefix)
        }
        self._progress: dict[str, float] = {}
        #: jobs heard of on the connection that is open now (see :meth:`vouch`)
        self._heard: set[str] = set()
        self.ignored = 0

    # -- leases -----------------------------------------------------------------------

    def connected(self) -> None:
        """A new connection: what was heard on the last one can no longer be vouched for."""
        self._heard.clear()

    def vouch(self, at: datetime) -> list[JobEventIn]:
        """``alive`` for the active jobs heard of on the connection that is still open.

        A job engine writes a row only when its state or progress changes, so a long import
        can be silent for longer than the hub's stall lease. While the listener has held
        its connection since it last heard of a job, no end of that job can have been
        missed (LISTEN delivers every notification of a live session), so the source can
        vouch for it. A connection that was lost may have missed the end: jobs known from
        before are not vouched for again until a row of theirs arrives, so they stall and
        are resolved as lost if the engine never speaks of them again.
        """
        return [
            self._event("alive", job_id, {"at": at})
            for job_id in sorted(self._heard)
            if job_id in self._status
        ]

    # -- stability --------------------------------------------------------------------

    def stability(self, payload: str) -> SystemStabilityChanged | None:
        """The event to publish for a stability payload, or None when nothing changed.

        Seed 003 sends ``{"stable": bool}``; ``{"state": "stable"|"processing"}``, a bare
        ``true``/``false`` and an ``active_jobs`` count are read too."""
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = payload.strip().lower()
        active = None
        if isinstance(data, dict):
            active = data.get("active_jobs") if isinstance(data.get("active_jobs"), int) else None
            if isinstance(data.get("stable"), bool):
                stable = data["stable"]
            elif data.get("state") in ("stable", "processing"):
                stable = data["state"] == "stable"
            else:
                self.ignored += 1
                return None
        elif isinstance(data, bool):
            stable = data
        elif data in ("true", "t", "false", "f"):
            stable = data in ("true", "t")
        else:
            self.ignored += 1
            return None
        return self.set_stable(stable, active)

    def set_stable(
        self, stable: bool, active_jobs: int | None = None
    ) -> SystemStabilityChanged | None:
        if active_jobs is not None:
            self.active_jobs = active_jobs
        if stable == self.stable:
            return None
        self.stable = stable
        state = StabilityState.STABLE if stable else StabilityState.PROCESSING
        return SystemStabilityChanged(state=state, active_jobs=active_jobs)

    # -- jobs -------------------------------------------------------------------------

    def job(self, channel: str, payload: str) -> list[JobEventIn]:
        """Job events for one row payload: a JSON object with ``id`` (or ``job_id``) and
        ``state`` (or ``status``); ``progress`` / ``progress_pct``, or ``imported_rows`` of
        ``total_rows``, when the row has them; ``slug``/``type``, ``project``, ``error``."""
        try:
            row = json.loads(payload)
        except ValueError:
            row = None
        if not isinstance(row, dict):
            self.ignored += 1
            return []
        raw_id = row.get("job_id", row.get("id"))
        raw_state = row.get("state", row.get("status"))
        if raw_id is None or not isinstance(raw_state, str):
            self.ignored += 1
            return []
        job_id = f"pg:{self.source}:{channel}:{_ID_OK.sub('_', str(raw_id))}"[:200]
        status = job_state(raw_state)
        progress = _progress(row)
        fields: dict[str, Any] = {
            "type": str(row.get("type") or row.get("slug") or channel)[:100],
            "project": _text(row.get("project") or row.get("project_id"), 200),
            "worker": _text(row.get("worker"), 200),
            "submitted_by": _text(row.get("submitted_by") or row.get("user"), 200),
        }
        out: list[JobEventIn] = []
        self._heard.add(job_id)
        before = self._status.get(job_id)
        if status == "queued":
            if before is None:
                out.append(self._event("created", job_id, fields))
            self._status[job_id] = "queued"
        elif status == "running":
            if before != "running":
                out.append(self._event("started", job_id, fields))
            self._status[job_id] = "running"
            if progress is not None and progress != self._progress.get(job_id):
                self._progress[job_id] = progress
                out.append(self._event("progress", job_id, {**fields, "progress": progress}))
        else:
            error = row.get("error") or row.get("error_message")
            if status != "completed" and not error:
                error = f"state {raw_state}"
            out.append(self._event(status, job_id, {**fields, "error": _text(error, 4000)}))
            self._status.pop(job_id, None)
            self._progress.pop(job_id, None)
        return out

    def _event(self, kind: str, job_id: str, fields: dict[str, Any]) -> JobEventIn:
        self._n += 1
        return JobEventIn.model_validate(
            {
                "event_id": f"{job_id[:150]}:{self._session}:{self._n}",
                "kind": kind,
                "job_id": job_id,
                **fields,
            }
        )


def _text(value: Any, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def _progress(row: dict[str, Any]) -> float | None:
    for key in ("progress", "progress_pct"):
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(min(100.0, max(0.0, float(value))), 1)
    done, total = row.get("imported_rows"), row.get("total_rows")
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        return round(min(100.0, max(0.0, done * 100.0 / total)), 1)
    return None


class PgNotifySource:
    """One database connection listening on the configured channels.

    Attributes: spec, payloads, connected, connects, last_error, service (the name its
    health is reported under through ``report``), changed (set after every notification
    handled and every connection change; tests and diagnostics wait on it).
    """

    def __init__(
        self,
        spec: PgNotifySpec,
        push: Push,
        publish: Publish,
        *,
        report: Report | None = None,
        active_job_ids: Iterable[str] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.spec = spec
        self.name = f"postgres:{spec.name}"
        self.service = service_name(spec.name)
        self._push = push
        self._publish = publish
        self._report = report
        self._clock = clock
        self._channels = {c.channel: c.kind for c in spec.resolved_channels()}
        self.payloads = PgPayloads(spec.name, active_job_ids)
        self.connected = False
        self.connects = 0
        self.notifications = 0
        self.last_error: str | None = None
        #: the upper bound of the wait before the next attempt (the wait is jittered below it)
        self.delay_cap = spec.reconnect_initial_seconds
        self.changed = asyncio.Event()

    async def run(self) -> None:
        import asyncpg  # here, not at the top: a hub without this source never loads it

        backoff = Backoff(
            self.spec.reconnect_initial_seconds, self.spec.reconnect_max_seconds, spread=EQUAL
        )
        while True:
            before = self.connects
            try:
                await self._session()
            except (OSError, TimeoutError, LookupError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:  # fmt: skip
                self.last_error = f"{type(exc).__name__}: {exc}"
            # a session ends only by a loss; one that listened makes this a new loss, not
            # one more failed attempt in a row: the backoff starts over
            if self.connects > before:
                backoff.reset()
            lost = backoff.attempts == 0
            self.delay_cap = backoff.cap()
            delay = backoff.next()
            # one warning per loss; the retries that follow it are for the debug log
            log.log(
                logging.WARNING if lost else logging.DEBUG,
                "%s: %s; retrying in %.1fs",
                self.name,
                self.last_error,
                delay,
            )
            self._health(
                HealthStatus.DOWN,
                f"not listening: {self.last_error}; retrying in {delay:.1f} s",
            )
            self.changed.set()
            await asyncio.sleep(delay)

    def _health(self, status: HealthStatus, message: str | None) -> None:
        if self._report is None:
            return
        details: dict[str, Any] = {
            "channels": list(self._channels),
            "connects": self.connects,
            "notifications": self.notifications,
        }
        if self.payloads.stable is not None:
            details["stable"] = self.payloads.stable
        self._report(self.service, CheckResult(status, None, message, details), self._clock())

    async def _session(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self.spec.resolved_dsn(),
            timeout=10,
            server_settings={"application_name": f"studio-status-hub:{self.spec.name}"},
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        try:
            for channel in self._channels:
                await conn.add_listener(channel, self._on_notify)
            if self.spec.stability_query:
                value = await conn.fetchval(self.spec.stability_query)
                if isinstance(value, bool):
                    self._publish_stability(self.payloads.set_stable(value))
            self.payloads.connected()
            self.connected = True
            self.connects += 1
            log.info("%s: listening on %s", self.name, ", ".join(self._channels))
            self._health(HealthStatus.HEALTHY, None)
            self.changed.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.spec.keepalive_seconds):
                        await lost.wait()
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=10)  # a dead network shows here
                    if not lost.is_set():
                        self._apply(self.payloads.vouch(self._clock()))
                        self.changed.set()
            raise ConnectionResetError("connection closed by the server")
        finally:
            self.connected = False
            if not conn.is_closed():
                conn.terminate()

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        self.notifications += 1
        try:
            if self._channels.get(channel) == "stability":
                self._publish_stability(self.payloads.stability(payload))
            else:
                self._apply(self.payloads.job(channel, payload))
        except Exception:  # a bad payload must not take the listener down
            log.exception("%s: cannot handle a %s payload", self.name, channel)
        self.changed.set()

    def _apply(self, events: list[JobEventIn]) -> None:
        for event in events:
            result = self._push(event)
            if not result.applied:
                log.debug("%s: %s not applied: %s", self.name, event.job_id, result.reason)

    def _publish_stability(self, event: SystemStabilityChanged | None) -> None:
        if event is not None:
            self._publish("system.stability_changed", event)
