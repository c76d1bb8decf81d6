"""Real loopback servers for checker tests: a minimal HTTP/1.1 responder and misbehaving peers.

Checkers must be tested against real sockets: how a refused, hung, reset or garbled
connection surfaces through httpx and asyncpg is exactly what they translate.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    delay: float = 0.0  # seconds before answering: a slow, not a hung, server

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        import json

        return cls(status, json.dumps(payload).encode(), "application/json")


Handler = Callable[[Request], Awaitable[Response]]


class Behaviour(Enum):
    RESPOND = "respond"  # answer with the handler
    HANG = "hang"  # read the request, never answer
    RESET = "reset"  # read the request, then reset the connection (RST)
    GARBAGE = "garbage"  # read the request, answer with bytes that are not HTTP
    SILENT = "silent"  # accept, never read nor answer (a wedged process)


async def ok_handler(_request: Request) -> Response:
    return Response(200, b"ok\n")


@dataclass
class LoopbackServer:
    handler: Handler = ok_handler
    behaviour: Behaviour = Behaviour.RESPOND
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    connections: int = 0  # TCP connections accepted (keep-alive shows as fewer)
    port: int = 0
    _server: asyncio.Server | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def start(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.behaviour is Behaviour.SILENT:
            await self._stop.wait()
            return
        while True:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            if self.behaviour is Behaviour.HANG:
                await self._stop.wait()
                return
            if self.behaviour is Behaviour.RESET:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if self.behaviour is Behaviour.GARBAGE:
                writer.write(b"\x00\x01\xfe garbage, not HTTP \xff\r\n\r\n")
                await writer.drain()
                return
            response = await self.handler(request)
            if response.delay:
                await asyncio.sleep(response.delay)
            try:
                reason = HTTPStatus(response.status).phrase
            except ValueError:
                reason = ""
            head = (
                f"HTTP/1.1 {response.status} {reason}\r\n"
                f"Content-Type: {response.content_type}\r\n"
                f"Content-Length: {len(response.body)}\r\n"
                "\r\n"
            )
            writer.write(head.encode("latin-1"))
            if request.method != "HEAD":
                writer.write(response.body)
            await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = b""
    if length := int(headers.get("content-length", "0")):
        body = await reader.readexactly(length)
    return Request(method, path, headers, body)


def free_port() -> int:
    """A loopback port with nothing listening on it (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def tcp_listener() -> AsyncIterator[int]:
    """A TCP listener that accepts and closes: enough for a connect check."""

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


class Target:
    """A real HTTP service whose answer a test switches: 200 "ok", or ``status`` "broken"."""

    def __init__(self) -> None:
        self.status = 200
        self.server = LoopbackServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    async def handle(self, _request: Request) -> Response:
        return Response(self.status, b"ok" if self.status == 200 else b"broken")
