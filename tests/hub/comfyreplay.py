"""A loopback ComfyUI that replays the real capture (``tests/fixtures/capture-v0.33.0.jsonl``).

One ``websockets`` server answers both: ``/ws`` is a real WebSocket to which the test pushes
the recorded messages in order, and every other GET is answered by ``process_request`` with
the recorded body of that route *as of the replay cursor* (the latest record at or before
it). A route with no record yet answers 503, "not recorded at this moment", so the source
under test can never be told something the real server had not said by then.

Requests carrying an ``Origin`` header are answered 403, as ComfyUI does for a foreign
origin, and counted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "capture-v0.33.0.jsonl"

#: phases recorded on other sockets than the one that submitted the prompts
OTHER_SOCKETS = frozenset({"monitor_socket", "no_client_id_socket"})


def load_capture() -> list[dict[str, Any]]:
    with CAPTURE.open() as lines:
        return [json.loads(line) for line in lines]


def route_of(record: dict[str, Any], prompt_of_phase: dict[str, str]) -> str | None:
    """The path a recorded GET answers; the capture writes some ids as placeholders."""
    method, _, rest = record["req"].partition(" ")
    if method != "GET":
        return None
    path = rest.split(" ", 1)[0].split("?", 1)[0]
    if "<" not in path:
        return path
    body = record["body"]
    base = path.split("<", 1)[0]
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        return base + body["id"]
    if isinstance(body, dict) and len(body) == 1 and "status" not in body:
        return base + next(iter(body))
    return base + prompt_of_phase[record["phase"]]


class ReplayComfyUI:
    def __init__(self, records: list[dict[str, Any]], *, fresh: bool = False) -> None:
        self.records = records
        self.fresh = fresh  # unrecorded routes answer like a just-started server
        self.routes: dict[str, Any] = {}
        self.requests: list[str] = []
        self.origin_refused = 0
        self.client_ids: list[str] = []
        self._sockets: set[ServerConnection] = set()
        self._connected = asyncio.Condition()
        self._server: Server | None = None
        self._prompt_of_phase: dict[str, str] = {}
        for r in records:
            if r["dir"] == "http" and r["req"].startswith("POST /prompt") and r["status"] == 200:
                self._prompt_of_phase.setdefault(r["phase"], r["body"]["prompt_id"])

    async def start(self, port: int = 0) -> ReplayComfyUI:
        self._server = await serve(
            self._handler,
            "127.0.0.1",
            port,
            process_request=self._process_request,
            compression=None,
        )
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # -- HTTP -----------------------------------------------------------------------

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Origin") is not None:
            self.origin_refused += 1
            return conn.respond(HTTPStatus.FORBIDDEN, "foreign origin\n")
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            query = request.path.partition("?")[2]
            self.client_ids.append(
                dict(p.split("=", 1) for p in query.split("&") if p).get("clientId", "")
            )
            return None
        self.requests.append(request.path)
        if path not in self.routes and self.fresh:
            return self._fresh(conn, path)
        if path not in self.routes:
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "not recorded at this moment\n")
        return _json(self.routes[path])

    def _fresh(self, conn: ServerConnection, path: str) -> Response:
        """What a just-started ComfyUI answers: nothing queued, no history, unknown ids."""
        if path == "/queue":
            return _json({"queue_running": [], "queue_pending": []})
        if path == "/api/jobs":
            return _json(
                {
                    "jobs": [],
                    "pagination": {"offset": 0, "limit": 50, "total": 0, "has_more": False},
                }
            )
        if path.startswith("/history"):
            return _json({})
        return conn.respond(HTTPStatus.NOT_FOUND, "404: Not Found")

    def take(self, record: dict[str, Any]) -> None:
        """An HTTP record reached by the cursor: its route answers with it from now on."""
        route = route_of(record, self._prompt_of_phase)
        if route is not None and record["status"] == 200:
            self.routes[route] = record["body"]

    # -- socket ---------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        async with self._connected:
            self._sockets.add(ws)
            self._connected.notify_all()
        try:
            await ws.wait_closed()
        finally:
            self._sockets.discard(ws)

    async def wait_connected(self, count: int = 1) -> None:
        async with asyncio.timeout(10), self._connected:
            await self._connected.wait_for(
                lambda: len(self.client_ids) >= count and bool(self._sockets)
            )

    async def send(self, message: dict[str, Any] | bytes) -> None:
        frame = message if isinstance(message, bytes) else json.dumps(message)
        for ws in list(self._sockets):
            await ws.send(frame)


def _json(value: Any) -> Response:
    body = json.dumps(value).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(200, "OK", headers, body)


def socket_messages(records: list[dict[str, Any]], *, monitor: bool) -> Iterator[dict[str, Any]]:
    """Records in order: HTTP ones, and the socket messages of one kind of socket — the one
    that submitted the prompts (``monitor`` False) or the second, watching one."""
    for r in records:
        if r["dir"] == "http":
            yield r
        elif r["dir"] == "recv":
            mine = r["phase"] == "monitor_socket" if monitor else r["phase"] not in OTHER_SOCKETS
            if mine:
                yield r
