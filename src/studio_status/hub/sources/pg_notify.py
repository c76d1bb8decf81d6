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
network caught by the keepalive query) is reopened with backoff, and the stability query
(e.g. ``SELECT public.is_system_stable()``) is run again so that nothing missed while away
stays wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
from pydantic import BaseModel

from studio_status.backoff import EQUAL, Backoff
from studio_status.protocol import (
    JobEventIn,
    PushResult,
    StabilityState,
    SystemStabilityChanged,
)

from .specs import PgNotifySpec

__all__ = ["PgNotifySource", "PgPayloads", "job_state"]

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


class PgPayloads:
    """Payload rules for one database: stability and job rows, with what was last told."""

    def __init__(self, source: str, active_job_ids: Iterable[str] = ()) -> None:
        self.source = source
        self.stable: bool | None = None
        self._session = uuid.uuid4().hex[:8]
        self._n = 0
        prefix = f"pg:{source}:"
        self._status: dict[str, str] = {
            j: "running" for j in active_job_ids if j.startswith(prefix)
        }
        self._progress: dict[str, float] = {}
        self.ignored = 0

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

    Attributes: spec, payloads, connected, connects, last_error, changed (set after every
    notification handled and every connection change; tests and diagnostics wait on it).
    """

    def __init__(
        self,
        spec: PgNotifySpec,
        push: Push,
        publish: Publish,
        *,
        active_job_ids: Iterable[str] = (),
    ) -> None:
        self.spec = spec
        self.name = f"postgres:{spec.name}"
        self._push = push
        self._publish = publish
        self._channels = {c.channel: c.kind for c in spec.resolved_channels()}
        self.payloads = PgPayloads(spec.name, active_job_ids)
        self.connected = False
        self.connects = 0
        self.notifications = 0
        self.last_error: str | None = None
        self.changed = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff(
            self.spec.reconnect_initial_seconds, self.spec.reconnect_max_seconds, spread=EQUAL
        )
        while True:
            failed = False
            try:
                await self._session()
                backoff.reset()
            except (OSError, TimeoutError, LookupError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:  # fmt: skip
                self.last_error = f"{type(exc).__name__}: {exc}"
                failed = True
            delay = backoff.next()
            if failed:
                log.info("%s: %s; retrying in %.1fs", self.name, self.last_error, delay)
            self.changed.set()
            await asyncio.sleep(delay)

    async def _session(self) -> None:
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
            self.connected = True
            self.connects += 1
            log.info("%s: listening on %s", self.name, ", ".join(self._channels))
            self.changed.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.spec.keepalive_seconds):
                        await lost.wait()
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=10)  # a dead network shows here
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
                for event in self.payloads.job(channel, payload):
                    result = self._push(event)
                    if not result.applied:
                        log.debug("%s: %s not applied: %s", self.name, event.job_id, result.reason)
        except Exception:  # a bad payload must not take the listener down
            log.exception("%s: cannot handle a %s payload", self.name, channel)
        self.changed.set()

    def _publish_stability(self, event: SystemStabilityChanged | None) -> None:
        if event is not None:
            self._publish("system.stability_changed", event)
