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
import hashlib
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from studio_status.backoff import EQUAL, Backoff
from studio_status.protocol import JobEventIn, JobInfo, JobStatus, PushResult, utcnow
from studio_status.tlsdefault import verified_context

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
FinalKind = Literal["completed", "failed", "cancelled", "lost"]


# -- shapes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One entry of ``GET /queue``: ``[number, prompt_id, prompt, extra_data, outputs]``."""

    number: float
    prompt_id: str
    client_id: str | None
    nodes: int
    graph: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    """How a prompt ended. ``cached``: ComfyUI ran no node, every output came from cache."""

    kind: FinalKind
    error: str | None = None
    cached: bool = False
    #: False when the answer could not tell whether it was all cached (a listing entry
    #: without its messages): the prompt's own entry can
    detailed: bool = True


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
                QueueItem(
                    number,
                    entry[1],
                    client if isinstance(client, str) else None,
                    len(graph),
                    graph or None,
                )
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
    return Outcome(
        "completed", cached=_all_cached(messages, graph), detailed=isinstance(detail, dict)
    )


# -- names ----------------------------------------------------------------------------

# nodes that only load, preview or save: the prompt's work is elsewhere
_PLUMBING = re.compile(r"^(Empty|Load|Save|Preview|Checkpoint|CLIPText|VAE(De|En)code)")


def prompt_name(graph: Any, number: float | None) -> str | None:
    """A short name for a prompt: its main node's class and its queue number
    (``KSampler #23``). The main node is the first sampler, else the last node that does
    more than load, preview or save."""
    if not isinstance(graph, dict):
        return None
    classes = [
        str(node["class_type"])
        for _, node in sorted(graph.items(), key=lambda kv: _node_order(kv[0]))
        if isinstance(node, dict) and isinstance(node.get("class_type"), str)
    ]
    main = next((c for c in classes if "Sampler" in c), None)
    if main is None:
        work = [c for c in classes if not _PLUMBING.match(c)]
        main = work[-1] if work else (classes[-1] if classes else "prompt")
    return f"{main[:150]} #{int(number)}" if number is not None else main[:150]


def _node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


# -- the rules ------------------------------------------------------------------------


@dataclass
class _Prompt:
    """``left``: gone from the queue (or ended on the socket), outcome not known yet.
    ``epoch``: the tracker's epoch when ComfyUI last showed it; a prompt that vanishes in
    the same epoch was deleted, one that vanishes across an outage went with the server."""

    status: Literal["queued", "running", "left"]
    epoch: int
    position: int | None = None
    progress: float | None = None
    cached_nodes: int = 0
    ran_node: bool = False
    started: bool = False
    name: str | None = None
    vouched: datetime | None = None
    stalled: bool = False
    named: bool = False  # the hub has been told its name
    seen: int = -1  # the tracker's message count when the socket last spoke of it


@dataclass
class TrackerStats:
    messages: int = 0
    ignored: int = 0
    pushes: int = 0


_DELETED = "removed from ComfyUI's queue before it ran (deleted or the queue was cleared)"
_GONE = "ComfyUI restarted; its queue and history went with it"
_UNKNOWN = "ComfyUI has no record of it (deleted, or ComfyUI restarted while the hub was away)"
_UNSEEN = "ComfyUI has no record of it (deleted, or ComfyUI restarted while its socket was down)"
_CLEARED = "ComfyUI has no record of it any more (its history was cleared)"


class ComfyUITracker:
    """What one instance's prompts are doing, from socket messages and poll bodies.

    Every method returns the job events to push. A prompt is never moved backwards (a poll
    body older than a socket message cannot re-queue a running prompt), and each outcome is
    reported once, whichever of socket, listing or lookup tells it first.

    Every ``status`` message asks for a poll, not only those that change
    ``queue_remaining``: a prompt's start shows on a socket that did not submit it only as a
    ``status`` with an unchanged count. Positions come from each ``/queue`` body as a whole
    (:attr:`positions`), so two prompts never share a place.
    """

    def __init__(
        self,
        instance: str,
        *,
        project: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        vouch_seconds: float = 60.0,
    ) -> None:
        self.instance = instance
        self.project = project
        self._clock = clock
        self._vouch = timedelta(seconds=vouch_seconds)
        self._session = uuid.uuid4().hex[:8]  # event ids stay unique across restarts
        self._n = 0
        self._active: dict[str, _Prompt] = {}
        self._finished: OrderedDict[str, Outcome | None] = OrderedDict()
        self._baseline_done = False
        self.queue_remaining: int | None = None
        self.poll_wanted = False
        self.stats = TrackerStats()
        self.epoch = 0
        self._down_epochs: set[int] = set()  # epochs that began with ComfyUI not answering
        self.down: str | None = None  # why ComfyUI is not answering, while it is not
        self.last_answer: datetime | None = None
        #: job id -> place in line (from 1) of every queued prompt, after each /queue body
        self.positions: dict[str, int] | None = None

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

    def _event(
        self, kind: str, prompt_id: str, *, at: datetime | None = None, **fields: Any
    ) -> JobEventIn:
        self._n += 1
        job_id = self.job_id(prompt_id)
        self.stats.pushes += 1
        prompt = self._active.get(prompt_id)
        if prompt is not None:
            prompt.vouched = self._clock()
            if prompt.name and not prompt.named:
                prompt.named = True
                fields.setdefault("name", prompt.name)
        return JobEventIn.model_validate(
            {
                "event_id": f"{job_id}:{self._session}:{self._n}",
                "kind": kind,
                "job_id": job_id,
                "at": at or self._clock(),
                "type": "comfyui",
                "worker": self.instance,
                "project": self.project,
                **fields,
            }
        )

    # -- state ----------------------------------------------------------------------

    def adopt(self, jobs: Iterable[JobInfo]) -> None:
        """Jobs the hub still shows active from before its restart, as the hub had them:
        queued ones stay queued at their place (their start is news when it comes),
        running ones stay running. The next poll finds out what became of each."""
        for job in jobs:
            pid = self.prompt_of(job.id)
            if pid is None or pid in self._active:
                continue
            running = job.status is JobStatus.RUNNING
            self._active[pid] = _Prompt(
                "running" if running else "queued",
                epoch=-1,  # nobody watched while the hub was away
                position=None if running else job.queue_position,
                progress=job.progress,
                started=running,
                name=job.name,
                named=job.name is not None,
                stalled=job.stalled_since is not None,
            )

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

        A ``left`` prompt seen running again was marked on a stale ``/queue`` body."""
        if self._known_finished(prompt_id):
            return None
        prompt = self._active.get(prompt_id)
        if prompt is None:
            prompt = self._active[prompt_id] = _Prompt("queued", epoch=self.epoch)
        prompt.epoch = self.epoch
        if not prompt.started:
            prompt.started = True
            prompt.position = None
            out.append(self._event("started", prompt_id))
        prompt.status = "running"
        return prompt

    def _finish(self, prompt_id: str, outcome: Outcome, out: list[JobEventIn]) -> None:
        if self._known_finished(prompt_id):
            return
        prompt = self._active.get(prompt_id)
        if outcome.kind == "completed" and prompt is not None and not outcome.cached:
            outcome = Outcome("completed", cached=prompt.cached_nodes > 0 and not prompt.ran_node)
        self._remember(prompt_id, outcome)
        out.append(self._event(outcome.kind, prompt_id, error=outcome.error, cached=outcome.cached))
        self._active.pop(prompt_id, None)

    def answered(self) -> None:
        """ComfyUI answered (a message or a response): it is up, as of now."""
        self.last_answer = self._clock()

    def stream_broken(self) -> None:
        """The socket dropped: from now on a prompt missing from the queue may have gone
        with a restarted server rather than been deleted (ComfyUI's status stream is the
        only witness of a delete)."""
        self.epoch += 1

    def source_down(self, reason: str) -> list[JobEventIn]:
        """ComfyUI stopped answering: every active prompt is stalled now, since when it was
        last heard from; a new epoch starts (a prompt missing when it answers again went
        with the server, it was not deleted)."""
        if self.down is not None:
            return []
        self.down = reason
        self.stream_broken()
        self._down_epochs.add(self.epoch)
        at = self.last_answer or self._clock()
        out = []
        for pid, prompt in self._active.items():
            prompt.stalled = True
            out.append(self._event("stalled", pid, at=at, error=reason))
        return out

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
                prompt.status = "left"
                self.poll_wanted = True
            return out
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            self.stats.ignored += 1
            return out
        handler(self, pid, data, out)
        prompt = self._active.get(pid)
        if prompt is not None:
            prompt.seen = self.stats.messages
        return out

    def _on_status(self, data: dict[str, Any]) -> None:
        status = data.get("status")
        info = status.get("exec_info") if isinstance(status, dict) else None
        remaining = info.get("queue_remaining") if isinstance(info, dict) else None
        if isinstance(remaining, int):
            self.queue_remaining = remaining
        # every status, even with the same count: the next prompt's start looks like that
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

    def on_queue(self, body: Any, asked: int | None = None) -> list[JobEventIn]:
        """A ``/queue`` body: new, started and moved prompts, and which left it (see
        :meth:`unresolved`); :attr:`positions` is the line it shows. ValueError if it is
        not a queue.

        ``asked``: :attr:`stats` ``.messages`` when the body was asked for. A prompt the
        socket spoke of after that may be missing from the body only because it is newer
        (its ``execution_start`` can come before its ``POST /prompt`` is even answered);
        it has not left."""
        running, pending = parse_queue(body)
        asked = self.stats.messages if asked is None else asked
        self.down = None
        out: list[JobEventIn] = []
        for item in running:
            known = self._active.get(item.prompt_id)
            if known is None and not self._known_finished(item.prompt_id):
                known = self._active[item.prompt_id] = _Prompt("queued", epoch=self.epoch)
            if known is not None and known.name is None:
                known.name = prompt_name(item.graph, item.number)  # rides on its next event
            self._running(item.prompt_id, out)
        positions: dict[str, int] = {}
        place = 0
        for item in pending:
            pid = item.prompt_id
            if self._known_finished(pid):
                continue
            prompt = self._active.get(pid)
            if prompt is not None and prompt.started:
                continue  # the socket saw it start after this body was made
            place += 1
            positions[self.job_id(pid)] = place
            if prompt is None:
                prompt = self._active[pid] = _Prompt(
                    "queued",
                    epoch=self.epoch,
                    position=place,
                    name=prompt_name(item.graph, item.number),
                )
                out.append(self._event("created", pid, queue_position=place))
            prompt.status, prompt.position, prompt.epoch = "queued", place, self.epoch
        self.positions = positions
        in_queue = {i.prompt_id for i in running} | {i.prompt_id for i in pending}
        now = self._clock()
        for pid, prompt in self._active.items():
            if pid not in in_queue:
                if prompt.seen < asked or prompt.status == "queued":
                    prompt.status = "left"
                    prompt.position = None
            elif prompt.stalled or prompt.vouched is None or now - prompt.vouched >= self._vouch:
                prompt.stalled = False
                out.append(self._event("alive", pid))
        return out

    def unresolved(self) -> list[str]:
        """Prompts that left the queue (or ended on the socket) with no outcome known yet."""
        return [pid for pid, p in self._active.items() if p.status == "left"]

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
            prompt = self._active.get(pid)
            never_ran = prompt is None or not (prompt.started or prompt.ran_node)
            if outcome.kind == "completed" and not outcome.detailed and never_ran:
                # it never showed as running: maybe all cached; its own entry tells
                if prompt is None:
                    prompt = self._active[pid] = _Prompt("left", epoch=self.epoch)
                prompt.status = "left"
                continue
            self._finish(pid, outcome, out)
        return out

    def on_lookup(
        self, prompt_id: str, outcome: Outcome | None, *, known: bool
    ) -> list[JobEventIn]:
        """The answer about one prompt that left the queue: its outcome, None if ComfyUI
        still has it active, or ``known`` False if ComfyUI has no record of it at all.

        No record, while the hub watched without a break and the prompt never started: it
        was deleted from the queue (cancelled). Across an outage: it went with the server
        (lost). A running prompt never vanishes without a record unless the server did."""
        out: list[JobEventIn] = []
        prompt = self._active.get(prompt_id)
        if prompt is None:
            return out
        if not known:
            watched = prompt.epoch == self.epoch
            if watched and not prompt.started:
                self._finish(prompt_id, Outcome("cancelled", _DELETED), out)
            else:
                if prompt.epoch < 0:
                    reason = _UNKNOWN
                elif any(prompt.epoch < e <= self.epoch for e in self._down_epochs):
                    reason = _GONE
                else:
                    reason = _CLEARED if watched else _UNSEEN
                self._finish(prompt_id, Outcome("lost", reason), out)
        elif outcome is not None:
            self._finish(prompt_id, outcome, out)
        else:
            prompt.status = "running" if prompt.started else "queued"
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

Sleep = Callable[[float], Awaitable[None]]
SetPositions = Callable[[dict[str, int]], None]

#: the prefix of this source's socket id; the optional ComfyUI extension
#: (``integrations/comfyui``) relays every prompt's events to sockets named so
CLIENT_PREFIX = "studiostatus-"


class ComfyUISource:
    """Runs the socket and the polls of one instance and pushes what the tracker finds.

    Attributes: spec, tracker, client_id (this source's own socket id), connected,
    polls (completed poll rounds), changed (set after every message or poll; tests and
    diagnostics wait on it), socket_state and poll_state (what each loop is doing now:
    ``connecting`` / ``connected`` / ``waiting``, ``waiting`` / ``polling``).

    ``clock`` and ``sleep`` are the time it lives by (a test replays a recording on its
    own clock). ComfyUI's answers reset the socket's reconnect backoff: once a poll is
    answered again the socket reconnects at once rather than after up to
    ``reconnect_max_seconds``, and whether ``/api/jobs`` exists is asked again.
    """

    def __init__(
        self,
        spec: ComfyUISourceSpec,
        push: Push,
        *,
        set_positions: SetPositions | None = None,
        http: httpx.AsyncClient | None = None,
        active_jobs: Iterable[JobInfo] = (),
        clock: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
        vouch_seconds: float = 60.0,
    ) -> None:
        """``vouch_seconds``: how often a prompt still in the queue is vouched for
        (``alive``) when nothing else is said of it; well inside the hub's lease."""
        self.spec = spec
        self.name = f"comfyui:{spec.name}"
        self._push = push
        self._set_positions = set_positions
        self._sleep = sleep
        self.tracker = ComfyUITracker(
            spec.name, project=spec.project, clock=clock, vouch_seconds=vouch_seconds
        )
        self.tracker.adopt(active_jobs)
        self.client_id = CLIENT_PREFIX + uuid.uuid4().hex
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=spec.timeout_seconds, trust_env=False, verify=verified_context()
        )
        self._kick = asyncio.Event()
        self._kick.set()  # first poll at once
        self._answered = asyncio.Event()
        self.changed = asyncio.Event()
        self.connected = False
        self.connects = 0
        self.polls = 0
        self.timers = 0  # sleeps that ran out (a replay on its own clock counts them)
        self.last_error: str | None = None
        self.socket_state = "connecting"
        self.poll_state = "polling"
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

    async def _sleep_or(self, event: asyncio.Event, seconds: float) -> None:
        """Sleep ``seconds`` on this source's clock, or less if ``event`` is set."""
        if event.is_set():
            return
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, sleeper):
                task.cancel()
            await asyncio.gather(waiter, sleeper, return_exceptions=True)
        if not sleeper.cancelled():
            self.timers += 1

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
            self.socket_state = "connecting"
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
                    self.socket_state = "connected"
                    self.connects += 1
                    backoff.reset()
                    log.info("%s: socket connected", self.name)
                    self._kick.set()  # whatever happened while we were away
                    self.changed.set()
                    async for frame in ws:
                        if isinstance(frame, bytes):
                            continue  # previews: 4-byte type + image, not ours to read
                        self._on_text(frame)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.last_error = f"socket: {type(exc).__name__}: {exc}"
                log.info("%s: socket lost (%s); retrying", self.name, exc)
            if self.connected:
                self.connected = False
                self.tracker.stream_broken()
                self._kick.set()  # is ComfyUI down, or only the socket?
            self._answered.clear()
            self.socket_state = "waiting"
            self.changed.set()
            await self._sleep_or(self._answered, backoff.next())
            if self._answered.is_set():
                backoff.reset()  # ComfyUI answers a poll again: reconnect now

    def _on_text(self, frame: str) -> None:
        try:
            msg = json.loads(frame)
        except ValueError:
            log.debug("%s: a text frame that is not JSON", self.name)
            return
        self.tracker.answered()
        self._apply(self.tracker.on_message(msg))

    # -- polls ----------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            self.poll_state = "waiting"
            self.changed.set()
            await self._sleep_or(self._kick, self.spec.poll_seconds)
            self._kick.clear()
            self.poll_state = "polling"
            try:
                await self.poll_once()
            except httpx.TransportError as exc:
                self.last_error = f"poll: {type(exc).__name__}: {exc}"
                log.debug("%s: poll failed: %s", self.name, exc)
                if not self.connected:
                    self._apply(self.tracker.source_down(_down_text(self.spec.base_url, exc)))
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                self.last_error = f"poll: {type(exc).__name__}: {exc}"
                log.debug("%s: poll failed: %s", self.name, exc)
            self.polls += 1

    def kick(self) -> None:
        """Poll now rather than at the next interval."""
        self._kick.set()

    @property
    def idle(self) -> bool:
        """No poll running or due: what the socket and polls told has been pushed."""
        return self.poll_state == "waiting" and not self._kick.is_set()

    async def _get(self, path: str) -> httpx.Response:
        request = self._http.build_request("GET", f"{self.spec.base_url}{path}")
        request.headers.pop("Origin", None)
        response = await self._http.send(request)
        self.tracker.answered()
        return response

    async def _get_json(self, path: str) -> Any:
        response = await self._get(path)
        response.raise_for_status()
        return response.json()

    async def poll_once(self) -> None:
        """One round: the queue, the recent listing, then a lookup per prompt that left the
        queue. A failed listing or lookup is retried next round; the rest still counts."""
        asked = self.tracker.stats.messages
        body = await self._get_json("/queue")
        if self.tracker.down is not None:
            log.info("%s: ComfyUI answers again", self.name)
            self._jobs_api = None  # it may have been upgraded meanwhile
        self._answered.set()
        # the queue and the outcomes of what left it are applied together: between the two
        # answers a prompt that had finished would still show as running
        listing: list[tuple[str, Outcome | None]] | None = None
        try:
            listing = await self._listing()
        except (httpx.HTTPError, ValueError) as exc:
            self.last_error = f"listing: {type(exc).__name__}: {exc}"
            log.debug("%s: listing failed: %s", self.name, exc)
        self._apply(self.tracker.on_queue(body, asked))
        if listing is not None:
            self._apply(self.tracker.on_listing(listing))
        if self._set_positions is not None and self.tracker.positions is not None:
            self._set_positions(self.tracker.positions)
        for pid in self.tracker.unresolved():
            outcome, known = await self._lookup(pid)
            self._apply(self.tracker.on_lookup(pid, outcome, known=known))

    async def _listing(self) -> list[tuple[str, Outcome | None]]:
        """The recently finished prompts, oldest first: ``/api/jobs`` (the filter the web UI
        uses), or ``/history`` on a ComfyUI without it."""
        limit = self.spec.history_items
        if self._jobs_api is not False:
            response = await self._get(
                f"/api/jobs?status=completed,failed,cancelled&limit={limit}&offset=0"
            )
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
        """(outcome, known) of one prompt that the ``/queue`` body of this round no longer
        shows: ``/api/jobs/<id>`` first, ``/history/<id>`` when that has no answer. ComfyUI
        writes a prompt's history before it takes it off the queue, so a prompt in neither
        is unknown to it."""
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
        return None, False


def _down_text(url: str, exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectError):
        why = "refuses connections"
    elif isinstance(exc, httpx.TimeoutException):
        why = "does not answer in time"
    else:
        why = "dropped the connection"
    return f"ComfyUI at {url} {why} (its socket closed too)"
