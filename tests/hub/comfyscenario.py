"""A loopback ComfyUI that replays a scenario capture, on a clock the test moves.

The captures (``tests/fixtures/comfyui/capture-*-scenarios.jsonl``, described in
``README-scenarios.md`` there) were recorded from real ComfyUI servers by a monitor with its
own ``clientId`` socket and a ``/queue`` poller. :class:`ScenarioServer` plays that monitor's
server side to the hub's ComfyUI source:

- ``/ws``: every message the recorder's *monitor* socket received goes to the source's
  socket at its recorded time. On connect the server first sends ``status`` with the last
  recorded ``queue_remaining`` (ComfyUI greets every socket so; the recording shows it).
- HTTP: the hub's request is answered as the recorder's next request to the same route was
  (``/queue``; ``/history`` and ``/api/jobs`` listings by their ``status`` filter;
  ``/history/<id>``, ``/api/jobs/<id>``), with its recorded status and body, *at its
  recorded answer time*: ComfyUI's pauses (fact 5) hold the hub's request as they held the
  recorder's. With no recorded request soon after it (:data:`HOLD_WINDOW`), the latest
  answer before it is given at once; with none at all, 503 ("not recorded"), except
  ``/api/jobs`` routes on a server that has none (404, as recorded).
- The server restart: from the sockets' break (no close frame: the connections are
  aborted) until the server answers again, nothing listens on the port.

:class:`ReplayClock` is the time of the recording: the hub and its source take its ``now``
and ``sleep``. :class:`Replay` advances it to the next instant anything happens (a record,
a sleeper's deadline) and then waits until the source has handled everything it was sent
and is waiting again — for its next poll, for a held answer, or for its reconnect delay.
No wall-clock sleeps: every run takes the same steps in the same order.
"""

from __future__ import annotations

import asyncio
import heapq
import importlib.util
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio_status.hub.sources.comfyui import ComfyUISource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui"
CAPTURES = {
    "v0.3.64": FIXTURES / "capture-v0.3.64-scenarios.jsonl",
    "v0.25.0": FIXTURES / "capture-v0.25.0-scenarios.jsonl",
}
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

#: how far ahead a hub request may wait for the recorder's next request to the same route:
#: ``/queue`` was polled every 0.25 s (held longer only by ComfyUI's pauses); the other
#: routes only in bursts after a change, so only a request of the same burst is waited for
HOLD_WINDOW = {"/queue": 1.0}
HOLD_BURST = 0.05
#: the recorder's ``t`` and ``ms`` are rounded to 0.1 ms: a request "at the same instant"
_ROUNDING = 0.002


def load(version: str) -> list[dict[str, Any]]:
    with CAPTURES[version].open() as lines:
        return [json.loads(line) for line in lines]


def route_key(target: str) -> tuple[str, str | None]:
    """(path, status filter) of a request target: what makes two listings the same."""
    parts = urlsplit(target)
    status = parse_qs(parts.query).get("status")
    return parts.path, status[0] if status else None


@dataclass(frozen=True)
class Answer:
    t: float  # when the recorder got it
    sent: float  # when the recorder asked
    status: int
    body: Any


@dataclass
class Capture:
    """One capture, indexed: answers per route, the monitor socket's messages, the outage."""

    records: list[dict[str, Any]]
    answers: dict[tuple[str, str | None], list[Answer]] = field(default_factory=dict)
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    #: what only the submitter got (ComfyUI sent it to its client id alone)
    targeted: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    down: tuple[float, float] | None = None
    labels: dict[str, str] = field(default_factory=dict)  # prompt id -> Q1, D3, ...

    @classmethod
    def of(cls, version: str) -> Capture:
        records = load(version)
        cap = cls(records)
        for r in records:
            if r["dir"] == "http" and r["req"].startswith("GET ") and "status" in r:
                key = route_key(r["req"][4:])
                cap.answers.setdefault(key, []).append(
                    Answer(r["t"], r["t"] - r.get("ms", 0) / 1000, r["status"], r["body"])
                )
            elif r["dir"] == "recv" and r["sock"] == "monitor":
                cap.messages.append((r["t"], r["msg"]))
            elif r["dir"] == "note" and "ids" in r:
                cap.labels.update({pid: label for label, pid in r["ids"].items()})
        everyone = {
            json.dumps(r["msg"], sort_keys=True)
            for r in records
            if r["dir"] == "recv" and r["sock"] == "monitor"
        }
        cap.targeted = [
            (r["t"], r["msg"])
            for r in records
            if r["dir"] == "recv"
            and r["sock"] == "submitter"
            and json.dumps(r["msg"], sort_keys=True) not in everyone
        ]
        broke = next(
            r["t"]
            for r in records
            if r["dir"] == "note" and "ConnectionClosedError" in r.get("text", "")
        )
        back = next(
            r["t"]
            for r in records
            if r["t"] > broke
            and (r["dir"] == "http" or (r["dir"] == "note" and "connected" in r["text"]))
        )
        cap.down = (broke, back)
        return cap

    @property
    def has_jobs_api(self) -> bool:
        return any(a.status == 200 for a in self.answers.get(("/api/jobs", None), []))

    @property
    def end(self) -> float:
        return float(self.records[-1]["t"])

    def queue_answers(self) -> list[Answer]:
        return [a for a in self.answers[("/queue", None)] if a.status == 200]

    def phase_spans(self) -> dict[str, tuple[float, float]]:
        spans: dict[str, tuple[float, float]] = {}
        for r in self.records:
            start, _ = spans.get(r["phase"], (r["t"], r["t"]))
            spans[r["phase"]] = (start, r["t"])
        return spans

    def answer(self, target: str, at: float) -> Answer | None:
        """What the recorder's next request to this route got (within the hold window),
        else its latest answer before ``at``; None if it never asked by then."""
        key = route_key(target)
        candidates = self.answers.get(key) or self.answers.get((key[0], None)) or []
        window = HOLD_WINDOW.get(key[0], HOLD_BURST)
        later = [
            a for a in candidates if at - _ROUNDING <= a.sent <= at + window and a.t <= at + 1.0
        ]
        if later:
            return later[0]
        earlier = [a for a in candidates if a.t <= at]
        return earlier[-1] if earlier else None

    def queue_remaining(self, at: float) -> int:
        remaining = 0
        for t, msg in self.messages:
            if t > at:
                break
            if msg.get("type") == "status":
                remaining = msg["data"]["status"]["exec_info"]["queue_remaining"]
        return remaining


class ReplayClock:
    """Seconds since the capture started; sleepers wake when the test moves the clock."""

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._n = itertools.count()
        self.fired = 0  # sleeps ended by the clock (the sleeper counts them when it wakes)

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> asyncio.Future[None]:
        """An awaitable that is done when the clock has moved ``seconds`` on. Registered at
        the call, not at the first await, so a sleeper is never missed by the stepper."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + max(seconds, 0.0), next(self._n), future))
        return future

    def next_deadline(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled (the sleeper woke on something else)
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, t: float) -> None:
        self.t = max(self.t, t)
        while self._sleepers and self._sleepers[0][0] <= self.t:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
                self.fired += 1


class ScenarioServer:
    """The recorded ComfyUI on 127.0.0.1 (see the module docstring)."""

    def __init__(self, capture: Capture, clock: ReplayClock) -> None:
        self.capture = capture
        self.clock = clock
        self.port = 0
        self.up = False
        self.requests: list[tuple[float, str]] = []
        self.sent: dict[str, int] = {}  # client id -> frames sent to it
        self.greeted: set[str] = set()  # client ids with an open, greeted socket
        self.connects: list[tuple[float, str]] = []
        self.changed = asyncio.Event()
        self._held: list[tuple[float, asyncio.Future[bool]]] = []
        self._sockets: dict[ServerConnection, str] = {}
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def held(self) -> int:
        return sum(1 for _, f in self._held if not f.done())

    def next_release(self) -> float | None:
        pending = [t for t, f in self._held if not f.done()]
        return min(pending) if pending else None

    async def start(self) -> None:
        self._server = await serve(
            self._handler,
            "127.0.0.1",
            self.port,
            process_request=self._process_request,
            compression=None,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        self.up = True

    async def go_down(self) -> None:
        """SIGTERM: sockets break without a close frame, held requests get no answer,
        nothing listens until :meth:`go_up`."""
        self.up = False
        for ws in list(self._sockets):
            ws.transport.abort()
        for _, future in self._held:
            if not future.done():
                future.set_result(False)
        self._held.clear()
        self.greeted.clear()
        if self._server is not None:
            self._server.close(close_connections=False)
            await self._server.wait_closed()
            self._server = None
        self.changed.set()

    async def close(self) -> None:
        if self._server is not None:
            await self.go_down()

    def release(self) -> None:
        """Answer the held requests whose recorded answer time has come."""
        for t, future in self._held:
            if t <= self.clock.t and not future.done():
                future.set_result(True)
        self._held = [(t, f) for t, f in self._held if not f.done()]

    async def broadcast(self, message: dict[str, Any]) -> None:
        frame = json.dumps(message)
        for ws, client in list(self._sockets.items()):
            if client in self.greeted:
                try:
                    await ws.send(frame)
                except ConnectionClosed:
                    continue
                self.sent[client] = self.sent.get(client, 0) + 1
        self.changed.set()

    # -- HTTP -----------------------------------------------------------------------

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] == "/ws":
            return None
        now = self.clock.t
        self.requests.append((now, request.path))
        answer = self.capture.answer(request.path, now)
        if answer is None:
            path = request.path.split("?", 1)[0]
            if path.startswith("/api/jobs") and not self.capture.has_jobs_api:
                return _respond(404, "")
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "not recorded at this moment\n")
        if answer.t > now:
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._held.append((answer.t, future))
            self.changed.set()
            if not await future:
                conn.transport.abort()  # the server died with the request in hand
                return _respond(500, "")
        return _respond(answer.status, answer.body)

    # -- socket ---------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        client = query.get("clientId", [""])[0]
        self._sockets[ws] = client
        self.connects.append((self.clock.t, client))
        greeting = {
            "type": "status",
            "data": {
                "status": {
                    "exec_info": {"queue_remaining": self.capture.queue_remaining(self.clock.t)}
                },
                "sid": client,
            },
        }
        try:
            await ws.send(json.dumps(greeting))
            self.sent[client] = self.sent.get(client, 0) + 1
            self.greeted.add(client)
            self.changed.set()
            await ws.wait_closed()
        finally:
            self._sockets.pop(ws, None)
            if client not in self._sockets.values():
                self.greeted.discard(client)
            self.changed.set()

    async def go_up(self) -> None:
        await self.start()
        self.changed.set()


RELAY = Path(__file__).resolve().parents[2] / "integrations" / "comfyui" / "studio_status_relay"


def load_relay() -> ModuleType:
    """The custom node's relay module, loaded from the repository (ComfyUI is not here)."""
    spec = importlib.util.spec_from_file_location("studio_status_relay_relay", RELAY / "relay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _RelaySocket:
    """A replay socket as the relay sees one of ComfyUI's (aiohttp's ``send_json``)."""

    def __init__(self, server: ScenarioServer, ws: ServerConnection, client: str) -> None:
        self._server, self._ws, self._client = server, ws, client

    async def send_json(self, data: Any) -> None:
        await self._ws.send(json.dumps(data))
        self._server.sent[self._client] = self._server.sent.get(self._client, 0) + 1


class RelayHost:
    """What the relay wraps in ComfyUI, ``PromptServer``: here the recorded submitter is
    not connected (its messages go nowhere), the hub's socket is."""

    def __init__(self, server: ScenarioServer) -> None:
        self._server = server
        self.relay = load_relay().install(self)

    @property
    def sockets(self) -> dict[str, Any]:
        s = self._server
        return {c: _RelaySocket(s, ws, c) for ws, c in s._sockets.items() if c in s.greeted}

    async def send_json(self, event: Any, data: Any, sid: str | None = None) -> None:
        """The submitter's socket: not here."""


def _respond(status: int, body: Any) -> Response:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    kind = "text/plain" if isinstance(body, str) else "application/json"
    headers = Headers([("Content-Type", kind), ("Content-Length", str(len(raw)))])
    return Response(status, HTTPStatus(status).phrase, headers, raw)


Source = Callable[[], ComfyUISource | None]


class Replay:
    """Moves the clock through a capture and keeps the server and the source in step."""

    def __init__(
        self,
        capture: Capture,
        clock: ReplayClock,
        server: ScenarioServer,
        *,
        relay: RelayHost | None = None,
    ) -> None:
        """``relay``: the optional ComfyUI extension is installed, so what only the
        submitter got is relayed (by its real code) to the hub's socket as well."""
        self.capture = capture
        self.clock = clock
        self.server = server
        self.relay = relay
        self.source: Source = lambda: None
        self._next_targeted = 0
        self._next_message = 0
        self.steps = 0
        # the recorder's /queue answers are instants too: the test looks at the hub then
        self._instants = sorted({a.t for a in capture.queue_answers()})
        self._next_instant = 0

    def settled(self) -> bool:
        source = self.source()
        if source is None:
            return True
        sock = source.socket_state == "waiting" or (
            source.socket_state == "connected"
            and source.client_id in self.server.greeted
            and self.server.sent.get(source.client_id, 0) == source.tracker.stats.messages
        )
        if not self.server.up:
            sock = source.socket_state == "waiting"
        poll = source.idle or (source.poll_state == "polling" and self.server.held > 0)
        # a sleeper the clock woke has not run yet: it will do something
        return sock and poll and source.timers == self.clock.fired

    async def settle(self) -> None:
        async with asyncio.timeout(20):
            while not self.settled():
                source = self.source()
                assert source is not None
                source.changed.clear()
                self.server.changed.clear()
                if self.settled():
                    break
                await _first(source.changed.wait(), self.server.changed.wait())

    async def run_until(
        self, end: float, on_step: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        """Play every instant up to ``end``; ``on_step`` after each has settled."""
        while True:
            times = [
                t
                for t in (
                    self._message_time(),
                    self.clock.next_deadline(),
                    self.server.next_release(),
                    self._outage_edge(),
                    self._instant(),
                )
                if t is not None
            ]
            nxt = min(times, default=None)
            if nxt is None or nxt > end:
                self.clock.advance(end)
                await self.settle()
                return
            self.clock.advance(nxt)
            await self._outage()
            await self._send_due()
            self.server.release()
            await self.settle()
            self.steps += 1
            if on_step is not None:
                await on_step(self.clock.t)

    def _instant(self) -> float | None:
        while (
            self._next_instant < len(self._instants)
            and self._instants[self._next_instant] <= self.clock.t
        ):
            self._next_instant += 1
        if self._next_instant < len(self._instants):
            return self._instants[self._next_instant]
        return None

    async def _send_due(self) -> None:
        """Every message due by now, in recorded order across the two streams."""
        while True:
            broadcast = self._at(self.capture.messages, self._next_message)
            targeted = self._targeted_time()
            if (
                targeted is not None
                and targeted <= self.clock.t
                and (broadcast is None or targeted <= broadcast)
            ):
                _, message = self.capture.targeted[self._next_targeted]
                self._next_targeted += 1
                assert self.relay is not None and self.server.up
                await self.relay.send_json(message["type"], message["data"], "submitter")
                self.server.changed.set()
            elif broadcast is not None and broadcast <= self.clock.t:
                await self.server.broadcast(self.capture.messages[self._next_message][1])
                self._next_message += 1
            else:
                return

    @staticmethod
    def _at(stream: list[tuple[float, dict[str, Any]]], index: int) -> float | None:
        return stream[index][0] if index < len(stream) else None

    def _targeted_time(self) -> float | None:
        if self.relay is None:
            return None
        return self._at(self.capture.targeted, self._next_targeted)

    def _message_time(self) -> float | None:
        times = [
            t
            for t in (self._at(self.capture.messages, self._next_message), self._targeted_time())
            if t is not None
        ]
        return min(times, default=None)

    def _outage_edge(self) -> float | None:
        assert self.capture.down is not None
        broke, back = self.capture.down
        if self.server.up and self.clock.t < broke:
            return broke
        if not self.server.up and self.clock.t < back:
            return back
        return None

    async def _outage(self) -> None:
        assert self.capture.down is not None
        broke, back = self.capture.down
        if self.server.up and broke <= self.clock.t < back:
            await self.server.go_down()
        elif not self.server.up and self.clock.t >= back:
            await self.server.go_up()


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
