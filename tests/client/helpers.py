"""Helpers for client tests: a fake clock, a scripted hub on loopback, a recording store.

The scripted hub is a real ``websockets`` server speaking the event protocol (the test
drives each connection by hand) whose ``process_request`` also answers the footer REST
route, so the client's real httpx and websockets code paths are exercised end to end.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio_status.client import StatusClient, StatusState, StatusStore
from studio_status.protocol import Event, FooterData, HelloMessage, parse_client_message

#: Upper bound for anything a test waits on; generous, only hit when a test fails.
TIMEOUT = 5.0


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def footer_dict(running: int = 1, admin: bool = True) -> dict[str, Any]:
    footer: dict[str, Any] = {
        "jobs": {"running": running, "queued": 2, "overall_progress": 40},
        "workflows": {"active": 1, "current_stage": "generating"},
    }
    if admin:
        footer["services"] = {
            "comfyui": {"status": "healthy", "instances": 2},
            "database": {"status": "healthy", "latency_ms": 3, "label": "DB"},
        }
        footer["cloud_gpu"] = {
            "active_pods": 2,
            "cost_per_hour_cents": 124,
            "budget_status": "within_budget",
        }
    return footer


def job_event(seq: int, job_id: str = "j1", status: str = "running") -> dict[str, Any]:
    return {
        "seq": seq,
        "type": "job.status_changed",
        "ts": iso_now(),
        "data": {"job": {"id": job_id, "status": status, "progress": 10}},
    }


# -- fake clock -----------------------------------------------------------------------


@dataclass
class Sleeper:
    deadline: float
    name: str
    future: asyncio.Future[None]


class FakeClock:
    """Monotonic and wall time that move only when a test says so.

    ``sleep`` blocks until :meth:`advance` passes its deadline; sleepers are remembered
    with the name of their task, so a test can wait until e.g. the client's backoff wait
    (task ``studio-status-backoff``) has started and then release exactly that wait.
    """

    def __init__(self, start: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.now = start
        self._wall_offset = wall - start
        self.sleepers: list[Sleeper] = []
        self.slept: list[tuple[str, float]] = []
        self._new_sleeper = asyncio.Event()

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self._wall_offset

    def jump_wall(self, seconds: float) -> None:
        """Wall time moves, monotonic does not: what a suspend/resume looks like."""
        self._wall_offset += seconds

    async def sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        name = task.get_name() if task is not None else "?"
        self.slept.append((name, seconds))
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        sleeper = Sleeper(self.now + seconds, name, asyncio.get_running_loop().create_future())
        self.sleepers.append(sleeper)
        self._new_sleeper.set()
        try:
            await sleeper.future
        finally:
            if sleeper in self.sleepers:
                self.sleepers.remove(sleeper)

    def asleep(self, name: str | None = None) -> list[Sleeper]:
        """Sleepers still waiting. A cancelled task's sleeper is left out at once: when its
        ``finally`` runs depends on the Python version's cancellation scheduling."""
        return [
            s for s in self.sleepers if not s.future.done() and (name is None or s.name == name)
        ]

    def slept_in(self, name: str) -> list[float]:
        return [s for n, s in self.slept if n == name]

    async def wait_sleeping(self, name: str) -> Sleeper:
        """Wait (in real time, bounded) until a task called ``name`` is asleep."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for sleeper in self.sleepers:
                    if sleeper.name == name and not sleeper.future.done():
                        return sleeper
                self._new_sleeper.clear()
                await self._new_sleeper.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in deadline order and letting each run."""
        target = self.now + seconds
        while True:
            due = [s for s in self.sleepers if s.deadline <= target and not s.future.done()]
            if not due:
                break
            first = min(due, key=lambda s: s.deadline)
            self.now = max(self.now, first.deadline)
            self.sleepers.remove(first)
            first.future.set_result(None)
            await settle()
        self.now = max(self.now, target)
        await settle()

    async def wake(self, name: str) -> float:
        """Wait until ``name`` sleeps, then advance exactly to its deadline; returns the wait."""
        sleeper = await self.wait_sleeping(name)
        delay = sleeper.deadline - self.now
        await self.advance(delay)
        return delay


async def settle(rounds: int = 20) -> None:
    """Let ready callbacks and tasks run (CPU-only steps, no I/O is awaited here)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


# -- stores and waiting ---------------------------------------------------------------


class RecordingStore(StatusStore):
    """A store that remembers which event seqs it applied, to prove none is lost or doubled."""

    def __init__(self) -> None:
        super().__init__()
        self.applied: list[int] = []

    def apply_event(self, event: Event) -> bool:
        applied = super().apply_event(event)
        if applied:
            self.applied.append(event.seq)
        return applied


async def wait_for_state(
    store: StatusStore, predicate: Callable[[StatusState], bool]
) -> StatusState:
    """Wait until the store's state satisfies ``predicate`` (bounded, event driven)."""
    if predicate(store.state):
        return store.state
    future: asyncio.Future[StatusState] = asyncio.get_running_loop().create_future()

    def listener(state: StatusState) -> None:
        if not future.done() and predicate(state):
            future.set_result(state)

    unsubscribe = store.subscribe(listener)
    try:
        return await asyncio.wait_for(future, TIMEOUT)
    finally:
        unsubscribe()


# -- scripted hub ---------------------------------------------------------------------


@dataclass
class HubConn:
    """One client connection, driven by the test."""

    ws: ServerConnection
    hello: HelloMessage
    authorization: str | None
    received: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            message = json.dumps(message)
        await self.ws.send(message)

    async def snapshot(
        self,
        seq: int,
        hub_id: str = "hub-a",
        *,
        role: str = "admin",
        footer: dict[str, Any] | None = None,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        await self.send(
            {
                "type": "snapshot",
                "seq": seq,
                "ts": iso_now(),
                "hub_id": hub_id,
                "data": {
                    "role": role,
                    "footer": footer if footer is not None else footer_dict(),
                    "heartbeat_seconds": heartbeat_seconds,
                },
            }
        )

    async def resumed(self, from_seq: int, seq: int, hub_id: str = "hub-a") -> None:
        await self.send({"type": "resumed", "from_seq": from_seq, "seq": seq, "hub_id": hub_id})

    async def heartbeat(self, seq: int) -> None:
        await self.send({"type": "heartbeat", "seq": seq, "ts": iso_now()})

    async def events(self, *seqs: int) -> None:
        for seq in seqs:
            await self.send(job_event(seq, job_id=f"j{seq}"))

    def drop(self) -> None:
        """Cut the TCP connection without a closing handshake, like a crash or a cable."""
        self.ws.transport.abort()

    async def wait_closed(self) -> None:
        async with asyncio.timeout(TIMEOUT):
            await self.ws.wait_closed()


class ScriptedHub:
    """A loopback hub whose socket behaviour each test scripts."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[HubConn] = asyncio.Queue()
        self.hellos: list[HelloMessage] = []
        self.footer: dict[str, Any] = footer_dict()
        self.token: str | None = None  # when set, only this bearer token is accepted
        self.refuse_ws: int | None = None  # HTTP status refusing the socket upgrade
        self.refuse_footer: int | None = None
        self.footer_requests = 0
        self.ws_attempts = 0
        self._server: Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._server = await serve(
            self._handler, "127.0.0.1", port, process_request=self._process_request
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def next_connection(self) -> HubConn:
        return await asyncio.wait_for(self.connections.get(), TIMEOUT)

    def _authorized(self, request: Request) -> bool:
        return self.token is None or request.headers.get("Authorization") == f"Bearer {self.token}"

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?")[0]
        if path == "/api/v1/status/footer":
            self.footer_requests += 1
            if self.refuse_footer is not None:
                return conn.respond(self.refuse_footer, "unavailable\n")
            if not self._authorized(request):
                return conn.respond(HTTPStatus.UNAUTHORIZED, '{"detail": "unauthorized"}')
            response = conn.respond(HTTPStatus.OK, json.dumps({"data": self.footer}))
            response.headers = Headers(
                [(k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type"]
            )
            response.headers["Content-Type"] = "application/json"
            return response
        if path == "/api/v1/events":
            self.ws_attempts += 1
            if self.refuse_ws is not None:
                return conn.respond(self.refuse_ws, "refused\n")
            if not self._authorized(request):
                return conn.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
            return None
        return conn.respond(HTTPStatus.NOT_FOUND, "not found\n")

    async def _handler(self, ws: ServerConnection) -> None:
        try:
            hello = parse_client_message(await ws.recv())
        except ConnectionClosed:
            return
        assert isinstance(hello, HelloMessage)
        self.hellos.append(hello)
        auth = ws.request.headers.get("Authorization") if ws.request is not None else None
        conn = HubConn(ws, hello, auth)
        await self.connections.put(conn)
        try:
            async for raw in ws:
                conn.received.put_nowait(parse_client_message(raw))
        except ConnectionClosed:
            pass


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


__all__ = [
    "TIMEOUT",
    "FakeClock",
    "FooterData",
    "HubConn",
    "MakeClient",
    "RecordingStore",
    "ScriptedHub",
    "footer_dict",
    "free_port",
    "iso_now",
    "job_event",
    "settle",
    "wait_for_state",
]

MakeClient = Callable[..., StatusClient]
