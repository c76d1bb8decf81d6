"""ComfyUI source: one instance's queue and prompts as hub jobs.

ComfyUI sends prompt events (``execution_start``, ``executing``, ``progress``, …) only to the
socket whose ``clientId`` submitted the prompt, and ``status`` (``queue_remaining``) to every
socket. Prompts submitted without a client id are broadcast (``progress`` and
``progress_state`` only). So this source:

- keeps its own ``/ws?clientId=<uuid>`` socket — its own id, since connecting with another
  client's id steals that client's events — for ``status`` (a change in the queue triggers
  an immediate poll) and for whatever prompt events reach it;
- polls ``GET /queue`` (running, and pending with position) and ``GET /api/jobs``
  (``GET /history`` on servers without it) for the prompts other clients submitted, and
  looks up each prompt that left the queue without a known outcome.

Progress is what ComfyUI's own progress bar shows: ``value / max`` of the node reporting
``progress`` (sampler steps and the like). A prompt whose nodes report none stays at
progress None (indeterminate), never an invented number.

:class:`ComfyUITracker` holds the rules without I/O (fed messages and poll bodies, it
returns :class:`JobEventIn` pushes); :class:`ComfyUISource` is the thin network layer
around it. A ComfyUI server answers 403 to a request whose ``Origin`` host differs from
``Host``, so neither the socket nor the polls send an ``Origin`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from studio_status.backoff import EQUAL, Backoff
from studio_status.protocol import JobEventIn, PushResult

from .specs import ComfyUISourceSpec

__all__ = [
    "ComfyUISource",
    "ComfyUITracker",
    "Outcome",
    "QueueItem",
    "outcome_from_history",
    "outcome_from_job",
    "parse_queue",
]

log = logging.getLogger("hub.sources.comfyui")

_ID_OK = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_KEEP_FINISHED = 5000
# Previews arrive as binary frames of several MB; a frame above the limit would close the
# socket, so the limit is generous even though the frames are dropped unread.
_MAX_FRAME = 64 * 1024 * 1024

Push = Callable[[JobEventIn], PushResult]
FinalKind = Literal["completed", "failed", "cancelled"]


# -- shapes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One entry of ``GET /queue``: ``[number, prompt_id, prompt, extra_data, outputs]``."""

    number: float
    prompt_id: str
    client_id: str | None
    nodes: int


@dataclass(frozen=True)
class Outcome:
    """How a prompt ended. ``cached``: ComfyUI ran no node, every output came from cache."""

    kind: FinalKind
    error: str | None = None
    cached: bool = False


def parse_queue(body: Any) -> tuple[list[QueueItem], list[QueueItem]]:
    """(running, pending in queue order) from a ``/queue`` body; ValueError if not one."""
    if not isinstance(body, dict):
        raise ValueError("not a ComfyUI /queue response")

    def items(key: str) -> list[QueueItem]:
        raw = body.get(key)
        if not isinstance(raw, list):
            raise ValueError(f"/queue has no {key} list")
        out = []
        for entry in raw:
            if not (isinstance(entry, list) and len(entry) >= 2 and isinstance(entry[1], str)):
                continue  # a shape we do not know: skip the entry, keep the rest
            number = entry[0] if isinstance(entry[0], int | float) else 0
            extra = entry[3] if len(entry) > 3 and isinstance(entry[3], dict) else {}
            client = extra.get("client_id")
            graph = entry[2] if len(entry) > 2 and isinstance(entry[2], dict) else {}
            out.append(
                QueueItem(number, entry[1], client if isinstance(client, str) else None, len(graph))
            )
        return sorted(out, key=lambda i: i.number)

    return items("queue_running"), items("queue_pending")


def _error_text(data: dict[str, Any]) -> str:
    kind = data.get("exception_type") or "error"
    message = str(data.get("exception_message") or "").strip()
    where = _node_text(data)
    return f"{kind}: {message}{where}" if message else f"{kind}{where}"


def _node_text(data: dict[str, Any]) -> str:
    node, node_type = data.get("node_id"), data.get("node_type")
    if node is None:
        return ""
    return f" (node {node} {node_type})" if node_type else f" (node {node})"


def _outcome_from_messages(messages: Any, status_str: str | None) -> Outcome | None:
    """Read the ``status.messages`` list that ``/history`` and ``/api/jobs/<id>`` carry."""
    by_type: dict[str, dict[str, Any]] = {}
    if isinstance(messages, list):
        for entry in messages:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict):
                by_type[str(entry[0])] = entry[1]
    if "execution_interrupted" in by_type:
        return Outcome("cancelled", f"interrupted{_node_text(by_type['execution_interrupted'])}")
    if "execution_error" in by_type:
        return Outcome("failed", _error_text(by_type["execution_error"]))
    if "execution_success" in by_type or status_str == "success":
        return Outcome("completed")
    if status_str == "error":
        return Outcome("failed", "ComfyUI reported an error")
    return None


def outcome_from_history(entry: Any) -> Outcome | None:
    """The outcome in one ``/history`` entry, or None while it has none (or no entry)."""
    if not isinstance(entry, dict):
        return None
    status = entry.get("status")
    if not isinstance(status, dict):
        return None
    messages = status.get("messages")
    outcome = _outcome_from_messages(messages, status.get("status_str"))
    if outcome is not None and outcome.kind == "completed":
        prompt = entry.get("prompt")
        graph = prompt[2] if isinstance(prompt, list) and len(prompt) > 2 else None
        outcome = Outcome("completed", cached=_all_cached(messages, graph))
    return outcome


def _all_cached(messages: Any, graph: Any) -> bool:
    if not isinstance(graph, dict) or not graph or not isinstance(messages, list):
        return False
    for entry in messages:
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == "execution_cached":
            nodes = entry[1].get("nodes") if isinstance(entry[1], dict) else None
            return isinstance(nodes, list) and len(set(nodes)) >= len(graph)
    return False


_JOB_STATES = frozenset({"pending", "in_progress", "completed", "failed", "cancelled"})
_JOB_STATUS: dict[str, FinalKind] = {
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}


def outcome_from_job(job: Any) -> Outcome | None:
    """The outcome in one ``/api/jobs`` entry (``status`` completed|failed|cancelled), or
    None while it is pending or in progress."""
    if not isinstance(job, dict):
        return None
    kind = _JOB_STATUS.get(str(job.get("status")))
    if kind is None:
        return None
    if kind == "failed":
        err = job.get("execution_error")
        return Outcome("failed", _error_text(err) if isinstance(err, dict) else "failed")
    detail = job.get("execution_status")
    messages = detail.get("messages") if isinstance(detail, dict) else None
    if kind == "cancelled":
        found = _outcome_from_messages(messages, None)
        return found if found is not None and found.kind == "cancelled" else Outcome("cancelled")
    workflow = job.get("workflow")
    graph = workflow.get("prompt") if isinstance(workflow, dict) else None
    return Outcome("completed", cached=_all_cached(messages, graph))


# -- the rules ------------------------------------------------------------------------


@dataclass
class _Prompt:
    status: Literal["queued", "running", "ended"]
    position: int | None = None
    progress: float | None = None
    cached_nodes: int = 0
    ran_node: bool = False


@dataclass
class TrackerStats:
    messages: int = 0
    ignored: int = 0
    pushes: int = 0


class ComfyUITracker:
    """What one instance's prompts are doing, from socket messages and poll bodies.

    Every method returns the job events to push. A prompt is never moved backwards (a poll
    body older than a socket message cannot re-queue a running prompt), and each outcome is
    reported once, whichever of socket, listing or lookup tells it first.
    """

    def __init__(self, instance: str, *, project: str | None = None) -> None:
        self.instance = instance
        self.project = project
        self._session = uuid.uuid4().hex[:8]  # event ids stay unique across restarts
        self._n = 0
        self._active: dict[str, _Prompt] = {}
        self._finished: OrderedDict[str, Outcome | None] = OrderedDict()
        self._baseline_done = False
        self.queue_remaining: int | None = None
        self.poll_wanted = False
        self.stats = TrackerStats()

    # -- ids ------------------------------------------------------------------------

    def job_id(self, prompt_id: str) -> str:
        """``comfyui:<instance>:<prompt_id>``; a client-chosen prompt id that does not fit
        the hub's id rules is replaced by a digest of it."""
        job_id = f"comfyui:{self.instance}:{prompt_id}"
        if _ID_OK.match(prompt_id) and len(job_id) <= 150:
            return job_id
        digest = hashlib.sha256(prompt_id.encode()).hexdigest()[:32]
        return f"comfyui:{self.instance}:h-{digest}"

    def prompt_of(self, job_id: str) -> str | None:
        prefix = f"comfyui:{self.instance}:"
        if not job_id.startswith(prefix) or job_id.startswith(prefix + "h-"):
            return None
        return job_id[len(prefix) :]

    def _event(self, kind: str, prompt_id: str, **fields: Any) -> JobEventIn:
        self._n += 1
        job_id = self.job_id(prompt_id)
        self.stats.pushes += 1
        return JobEventIn.model_validate(
            {
                "event_id": f"{job_id}:{self._session}:{self._n}",
                "kind": kind,
                "job_id": job_id,
                "type": "comfyui",
                "worker": self.instance,
                "project": self.project,
                **fields,
            }
        )

    # -- state ----------------------------------------------------------------------

    def adopt(self, prompt_ids: Iterable[str]) -> None:
        """Prompts the hub still shows active (from before a restart): the next poll finds
        out what became of them."""
        for pid in prompt_ids:
            self._active.setdefault(pid, _Prompt("running"))

    @property
    def active(self) -> dict[str, str]:
        return {pid: p.status for pid, p in self._active.items()}

    def outcome(self, prompt_id: str) -> Outcome | None:
        return self._finished.get(prompt_id)

    def _known_finished(self, prompt_id: str) -> bool:
        return prompt_id in self._finished

    def _remember(self, prompt_id: str, outcome: Outcome | None) -> None:
        self._finished[prompt_id] = outcome
        self._finished.move_to_end(prompt_id)
        while len(self._finished) > _KEEP_FINISHED:
            self._finished.popitem(last=False)

    def _running(self, prompt_id: str, out: list[JobEventIn]) -> _Prompt | None:
        """The prompt, moved to running if it was not yet (None once it has finished).

        An ``ended`` prompt seen running again was marked on a stale ``/queue`` body."""
        if self._known_finished(prompt_id):
            return None
        prompt = self._active.get(prompt_id)
        if prompt is None:
            prompt = self._active[prompt_id] = _Prompt("queued")
        if prompt.status == "queued":
            prompt.position = None
            out.append(self._event("started", prompt_id))
        prompt.status = "running"
        return prompt

    def _finish(self, prompt_id: str, outcome: Outcome, out: list[JobEventIn]) -> None:
        if self._known_finished(prompt_id):
            return
        prompt = self._active.pop(prompt_id, None)
        if outcome.kind == "completed" and prompt is not None and not outcome.cached:
            outcome = Outcome("completed", cached=prompt.cached_nodes > 0 and not prompt.ran_node)
        self._remember(prompt_id, outcome)
        out.append(self._event(outcome.kind, prompt_id, error=outcome.error))

    # -- socket ---------------------------------------------------------------------

    def on_message(self, msg: Any) -> list[JobEventIn]:
        """One text message from the socket (already decoded)."""
        self.stats.messages += 1
        out: list[JobEventIn] = []
        if not isinstance(msg, dict) or not isinstance(msg.get("data"), dict):
            self.stats.ignored += 1
            return out
        kind, data = msg.get("type"), msg["data"]
        if kind == "status":
            self._on_status(data)
            return out
        pid = data.get("prompt_id")
        if not isinstance(pid, str) or not pid:
            self.stats.ignored += 1
            return out
        if kind == "executing" and data.get("node") is None:
            # the end of the prompt; its outcome came before, or a poll must find it
            prompt = self._active.get(pid)
            if prompt is not None:
                prompt.status = "ended"
                self.poll_wanted = True
            return out
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            self.stats.ignored += 1
            return out
        handler(self, pid, data, out)
        return out

    def _on_status(self, data: dict[str, Any]) -> None:
        status = data.get("status")
        info = status.get("exec_info") if isinstance(status, dict) else None
        remaining = info.get("queue_remaining") if isinstance(info, dict) else None
        if isinstance(remaining, int) and remaining != self.queue_remaining:
            self.queue_remaining = remaining
            self.poll_wanted = True

    def _on_start(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        self._running(pid, out)

    def _on_cached(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        prompt = self._running(pid, out)
        if prompt is not None and isinstance(data.get("nodes"), list):
            prompt.cached_nodes = len(data["nodes"])

    def _on_executing(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        prompt = self._running(pid, out)
        if prompt is not None:
            prompt.ran_node = True

    def _on_progress(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        prompt = self._running(pid, out)
        value, top = data.get("value"), data.get("max")
        if prompt is None or not isinstance(value, int | float) or not isinstance(top, int | float):
            return
        if top <= 0:
            return
        prompt.ran_node = True
        progress = round(min(100.0, max(0.0, value * 100.0 / top)), 1)
        if progress != prompt.progress:
            prompt.progress = progress
            out.append(self._event("progress", pid, progress=progress))

    def _on_seen(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        self._running(pid, out)  # progress_state / executed: the prompt runs, no number

    def _on_success(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        self._running(pid, out)
        self._finish(pid, Outcome("completed"), out)

    def _on_error(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        self._running(pid, out)
        self._finish(pid, Outcome("failed", _error_text(data)), out)

    def _on_interrupted(self, pid: str, data: dict[str, Any], out: list[JobEventIn]) -> None:
        self._running(pid, out)
        self._finish(pid, Outcome("cancelled", f"interrupted{_node_text(data)}"), out)

    # -- polls ----------------------------------------------------------------------

    def on_queue(self, body: Any) -> list[JobEventIn]:
        """A ``/queue`` body: new and moved prompts, and which left it (see
        :meth:`unresolved`). ValueError if it is not a queue."""
        running, pending = parse_queue(body)
        out: list[JobEventIn] = []
        for item in running:
            self._running(item.prompt_id, out)
        for position, item in enumerate(pending, start=1):
            pid = item.prompt_id
            if self._known_finished(pid):
                continue
            prompt = self._active.get(pid)
            if prompt is None:
                self._active[pid] = _Prompt("queued", position=position)
                out.append(self._event("created", pid, queue_position=position))
            elif prompt.status == "queued" and prompt.position != position:
                prompt.position = position
                out.append(self._event("created", pid, queue_position=position))
        in_queue = {i.prompt_id for i in running} | {i.prompt_id for i in pending}
        for pid, prompt in self._active.items():
            if pid not in in_queue:
                prompt.status = "ended"
        return out

    def unresolved(self) -> list[str]:
        """Prompts that left the queue (or ended on the socket) with no outcome known yet."""
        return [pid for pid, p in self._active.items() if p.status == "ended"]

    def on_listing(self, entries: Iterable[tuple[str, Outcome | None]]) -> list[JobEventIn]:
        """Recent prompts from ``/api/jobs`` or ``/history`` with their outcomes (None while
        active). The first listing is the baseline: what had finished before the source
        started is not news."""
        out: list[JobEventIn] = []
        baseline = not self._baseline_done
        self._baseline_done = True
        for pid, outcome in entries:
            if outcome is None or self._known_finished(pid):
                continue
            if baseline and pid not in self._active:
                self._remember(pid, outcome)
                continue
            self._finish(pid, outcome, out)
        return out

    def on_lookup(
        self, prompt_id: str, outcome: Outcome | None, *, known: bool
    ) -> list[JobEventIn]:
        """The answer about one prompt that left the queue: its outcome, None if ComfyUI
        still has it active, or ``known`` False if ComfyUI has no record of it at all (it
        restarted, or its history was cleared): then the job is failed as lost."""
        out: list[JobEventIn] = []
        if prompt_id not in self._active:
            return out
        if not known:
            lost = Outcome("failed", "no longer known to ComfyUI (restarted or history cleared)")
            self._finish(prompt_id, lost, out)
        elif outcome is not None:
            self._finish(prompt_id, outcome, out)
        else:
            self._active[prompt_id].status = "running"
        return out


_Handler = Callable[[ComfyUITracker, str, dict[str, Any], list[JobEventIn]], None]
_HANDLERS: dict[str, _Handler] = {
    "execution_start": ComfyUITracker._on_start,
    "execution_cached": ComfyUITracker._on_cached,
    "executing": ComfyUITracker._on_executing,
    "progress": ComfyUITracker._on_progress,
    "progress_state": ComfyUITracker._on_seen,
    "executed": ComfyUITracker._on_seen,
    "execution_success": ComfyUITracker._on_success,
    "execution_error": ComfyUITracker._on_error,
    "execution_interrupted": ComfyUITracker._on_interrupted,
}


# -- the network layer ----------------------------------------------------------------


class ComfyUISource:
    """Runs the socket and the polls of one instance and pushes what the tracker finds.

    Attributes: spec, tracker, client_id (this source's own socket id), connected,
    polls (completed poll rounds), changed (set after every message or poll; tests and
    diagnostics wait on it).
    """

    def __init__(
        self,
        spec: ComfyUISourceSpec,
        push: Push,
        *,
        http: httpx.AsyncClient | None = None,
        active_job_ids: Iterable[str] = (),
    ) -> None:
        self.spec = spec
        self.name = f"comfyui:{spec.name}"
        self._push = push
        self.tracker = ComfyUITracker(spec.name, project=spec.project)
        self.tracker.adopt(
            pid for pid in map(self.tracker.prompt_of, active_job_ids) if pid is not None
        )
        self.client_id = uuid.uuid4().hex
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=spec.timeout_seconds, trust_env=False)
        self._kick = asyncio.Event()
        self._kick.set()  # first poll at once
        self.changed = asyncio.Event()
        self.connected = False
        self.connects = 0
        self.polls = 0
        self.last_error: str | None = None
        self.polling = False
        self._jobs_api: bool | None = None

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._socket_loop(), name=f"{self.name}:ws")
                group.create_task(self._poll_loop(), name=f"{self.name}:poll")
        finally:
            if self._own_http:
                await self._http.aclose()

    def _apply(self, events: list[JobEventIn]) -> None:
        for event in events:
            result = self._push(event)
            if not result.applied:
                log.debug(
                    "%s: %s %s not applied: %s", self.name, event.kind, event.job_id, result.reason
                )
        if self.tracker.poll_wanted:
            self.tracker.poll_wanted = False
            self._kick.set()
        self.changed.set()

    # -- socket ---------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        base = self.spec.base_url
        scheme = "wss" if base.startswith("https:") else "ws"
        return f"{scheme}:{base.split(':', 1)[1]}/ws?clientId={self.client_id}"

    async def _socket_loop(self) -> None:
        backoff = Backoff(
            self.spec.reconnect_initial_seconds, self.spec.reconnect_max_seconds, spread=EQUAL
        )
        while True:
            try:
                # origin=None: no Origin header at all (ComfyUI answers a foreign one 403)
                async with connect(
                    self.ws_url,
                    origin=None,
                    max_size=_MAX_FRAME,
                    open_timeout=self.spec.timeout_seconds,
                    proxy=None,
                ) as ws:
                    self.connected = True
                    self.connects += 1
                    backoff.reset()
                    log.info("%s: socket connected", self.name)
                    self._kick.set()  # whatever happened while we were away
                    async for frame in ws:
                        if isinstance(frame, bytes):
                            continue  # previews: 4-byte type + image, not ours to read
                        self._on_text(frame)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.last_error = f"socket: {type(exc).__name__}: {exc}"
                log.info("%s: socket lost (%s); retrying", self.name, exc)
            if self.connected:
                self.connected = False
                self._kick.set()
            self.changed.set()
            await asyncio.sleep(backoff.next())

    def _on_text(self, frame: str) -> None:
        try:
            msg = json.loads(frame)
        except ValueError:
            log.debug("%s: a text frame that is not JSON", self.name)
            return
        self._apply(self.tracker.on_message(msg))

    # -- polls ----------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.spec.poll_seconds):
                    await self._kick.wait()
            self._kick.clear()
            self.polling = True
            try:
                await self.poll_once()
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                self.last_error = f"poll: {type(exc).__name__}: {exc}"
                log.debug("%s: poll failed: %s", self.name, exc)
            finally:
                self.polling = False
            self.polls += 1
            self.changed.set()

    def kick(self) -> None:
        """Poll now rather than at the next interval."""
        self._kick.set()

    @property
    def idle(self) -> bool:
        """No poll running or due: what the socket and polls told has been pushed."""
        return not self.polling and not self._kick.is_set()

    async def _get(self, path: str) -> httpx.Response:
        request = self._http.build_request("GET", f"{self.spec.base_url}{path}")
        request.headers.pop("Origin", None)
        return await self._http.send(request)

    async def _get_json(self, path: str) -> Any:
        response = await self._get(path)
        response.raise_for_status()
        return response.json()

    async def poll_once(self) -> None:
        """One round: the queue, the recent listing, then a lookup per prompt that left the
        queue. A failed listing or lookup is retried next round; the rest still counts."""
        self._apply(self.tracker.on_queue(await self._get_json("/queue")))
        try:
            self._apply(self.tracker.on_listing(await self._listing()))
        except (httpx.HTTPError, ValueError) as exc:
            self.last_error = f"listing: {type(exc).__name__}: {exc}"
            log.debug("%s: listing failed: %s", self.name, exc)
        for pid in self.tracker.unresolved():
            outcome, known = await self._lookup(pid)
            self._apply(self.tracker.on_lookup(pid, outcome, known=known))

    async def _listing(self) -> list[tuple[str, Outcome | None]]:
        limit = self.spec.history_items
        if self._jobs_api is not False:
            response = await self._get(f"/api/jobs?limit={limit}")
            if response.status_code in (404, 405):
                log.info("%s: no /api/jobs (older ComfyUI); reading /history", self.name)
                self._jobs_api = False
            else:
                response.raise_for_status()
                self._jobs_api = True
                jobs = response.json().get("jobs")
                if not isinstance(jobs, list):
                    raise ValueError("/api/jobs has no jobs list")
                return [
                    (j["id"], outcome_from_job(j))
                    for j in reversed(jobs)  # newest first on the wire; oldest first here
                    if isinstance(j, dict) and isinstance(j.get("id"), str)
                ]
        body = await self._get_json(f"/history?max_items={limit}")
        if not isinstance(body, dict):
            raise ValueError("not a ComfyUI /history response")
        return [(pid, outcome_from_history(entry)) for pid, entry in body.items()]

    async def _lookup(self, prompt_id: str) -> tuple[Outcome | None, bool]:
        """(outcome, known) of one prompt: ``/api/jobs/<id>`` first, ``/history/<id>``
        when that has no answer. Unknown only when the history and a fresh queue agree."""
        if self._jobs_api is not False:
            response = await self._get(f"/api/jobs/{prompt_id}")
            if response.status_code == 200:
                job = response.json()
                if isinstance(job, dict) and job.get("status") in _JOB_STATES:
                    return outcome_from_job(job), True
        body = await self._get_json(f"/history/{prompt_id}")
        if isinstance(body, dict) and body:
            # ``{prompt_id: entry}``; a bare entry is read too
            return outcome_from_history(body.get(prompt_id, body)), True
        running, pending = parse_queue(await self._get_json("/queue"))
        return None, any(i.prompt_id == prompt_id for i in [*running, *pending])
