"""Serving the hub: bind, pick the services, run uvicorn, report readiness.

The socket is bound before the hub is built so that port 0 works (the embedded hub) and
the default self-check can point at the real address.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from email.utils import formatdate
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request

from studio_status.logs import RedactingFilter
from studio_status.protocol import utcnow

from .api import create_app
from .checks.specs import HttpSpec
from .config import HubConfig, ServiceConfig, default_config
from .service import Hub
from .ws import FRAMES_EXTENSION

__all__ = ["bind", "serve"]

# uvicorn's websocket layer logs each upgrade's headers at DEBUG, bearer tokens among them
logging.getLogger("uvicorn.error").addFilter(RedactingFilter())


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def _self_checks(url: str, config: HubConfig, tls: bool) -> list[ServiceConfig]:
    services = default_config(url, config.database_path().parent)
    if not tls:
        return services
    # the hub checking itself on its own address: its certificate names the public host
    return [
        svc.model_copy(update={"check": svc.check.model_copy(update={"verify_tls": False})})
        if isinstance(svc.check, HttpSpec)
        else svc
        for svc in services
    ]


#: Above this many bytes waiting in a socket's send buffer, events go through the normal
#: (awaited, flow-controlled) send path instead of straight to the transport.
DIRECT_BUFFER_LIMIT = 256 * 1024


class _FramedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol plus one ASGI extension, ``FRAMES_EXTENSION``: a call
    that writes an already framed message straight to the connection's transport.

    Why: fanning one event out to a thousand sockets through the ASGI send path woke a
    task, built a message dict and framed (and compressed) the same text once per socket.
    The event stream frames each event once (:class:`studio_status.hub.ws.FrameCache`) and
    writes those bytes to every idle subscriber from the publish call itself. An
    uncompressed frame is valid on a connection that negotiated permessage-deflate (RFC
    7692 §6: compression is per message), so the extension works on every connection.
    """

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[FRAMES_EXTENSION] = self._write_frame

    def _write_frame(self, frame: bytes) -> bool:
        """Write ``frame`` now, or return False when the normal send path must take it
        (not open yet, closing, paused by flow control, or too much still unsent)."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.transport.is_closing()
            or not self.writable.is_set()
            or self.transport.get_write_buffer_size() > DIRECT_BUFFER_LIMIT
        ):
            return False
        self.transport.write(frame)
        return True


class _LazyHeaders(ServerState):
    """uvicorn's shared server state with a ``Date`` header made when a response asks for
    it (once per second at most) instead of by uvicorn's 10 Hz tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._config = config
        self._second = -1
        self._headers: list[tuple[bytes, bytes]] = []
        super().__init__()

    @property
    def default_headers(self) -> list[tuple[bytes, bytes]]:
        now = int(time.time())
        if now != self._second:
            self._second = now
            date = [(b"date", formatdate(now, usegmt=True).encode())]
            self._headers = (date if self._config.date_header else []) + list(
                self._config.encoded_headers
            )
        return self._headers

    @default_headers.setter
    def default_headers(self, _value: list[tuple[bytes, bytes]]) -> None:
        """uvicorn assigns it at start and on its tick; the getter computes it instead."""


class _Server(uvicorn.Server):
    """uvicorn without its 10 Hz main-loop tick: an idle hub sleeps until something is due.

    uvicorn's main loop wakes every 0.1 s to refresh the Date header and look at
    ``should_exit``; here the header is made on demand (:class:`_LazyHeaders`) and setting
    ``should_exit`` (our stop, or uvicorn's own signal handler) wakes the loop.
    """

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        self._exit = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._should_exit = False
        super().__init__(config)
        self.server_state = _LazyHeaders(config)
        self._on_ready = on_ready

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value and self._loop is not None:
            # also from a signal handler or another thread: wake the loop through its pipe
            self._loop.call_soon_threadsafe(self._exit.set)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if not self.should_exit:
            self._on_ready()

    async def main_loop(self) -> None:
        if not self.should_exit:
            await self._exit.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Over TLS, closing an idle keep-alive connection waits for the peer's TLS
        close_notify, which an idle client (a pooled connection nobody reads, such as the
        hub's own self-check) never sends: uvicorn then waited its whole graceful timeout
        (5 s). Nothing is in flight on an idle connection, so abort it instead."""
        if self.config.is_ssl:
            for connection in list(self.server_state.connections):
                cycle = getattr(connection, "cycle", _NO_CYCLE)
                transport = getattr(connection, "transport", None)
                idle = cycle is None or getattr(cycle, "response_complete", False)
                if idle and isinstance(transport, asyncio.Transport):
                    transport.abort()
        await super().shutdown(sockets)


_NO_CYCLE = object()  # a connection without request cycles (a websocket): left to uvicorn


async def serve(
    config: HubConfig,
    *,
    services: Sequence[ServiceConfig] | None = None,
    bootstrap_token: str | None = None,
    on_ready: Callable[[Hub, str], None] | None = None,
    stop: asyncio.Event | None = None,
    sock: socket.socket | None = None,
    simulate_seed: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run the hub until ``stop`` is set (or a signal, when run from the main thread).

    With ``simulate_seed`` the hub also runs the studio simulator: its plant's services are
    watched beside the configured (or default) ones, and its jobs and pods are pushed in.
    """
    sock = sock or bind(config.hub.host, config.hub.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    tls = config.hub.tls_certfile is not None
    url = f"{'https' if tls else 'http'}://{shown}:{port}"
    if services is None:
        services = config.services or _self_checks(url, config, tls)
    plant = None
    if simulate_seed is not None:
        from .sources.plant import SimulatedPlant

        plant = SimulatedPlant()
        await plant.start()
        # the studio's own services lead the strip; the hub's self-checks stay in the grid
        own = [s.model_copy(update={"footer": False}) for s in services]
        services = [*plant.services(), *own]
    hub = Hub(config, services, bootstrap_token=bootstrap_token, clock=clock, sleep=sleep)
    simulation: set[asyncio.Task[None]] = set()

    def ready() -> None:
        if plant is not None and simulate_seed is not None:
            from .sources.plant import run_simulation
            from .sources.simulator import StudioScript

            simulation.add(
                asyncio.create_task(
                    run_simulation(
                        hub, StudioScript(simulate_seed, run=f"{int(time.time()) % 100000}"), plant
                    )
                )
            )
        if on_ready is not None:
            on_ready(hub, url)

    server = _Server(
        uvicorn.Config(
            create_app(hub),
            log_config=None,
            ssl_certfile=config.hub.tls_certfile,
            ssl_keyfile=config.hub.tls_keyfile,
            access_log=False,
            lifespan="on",
            ws=_FramedWebSocket,
            ws_max_size=1024 * 1024,
            timeout_graceful_shutdown=5,
        ),
        on_ready=ready,
    )

    async def watch_stop() -> None:
        if stop is not None:
            await stop.wait()
            server.should_exit = True

    watcher = asyncio.create_task(watch_stop())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        for task in simulation:
            task.cancel()
        if plant is not None:
            await plant.close()
        sock.close()
