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

import uvicorn

from studio_status.logs import RedactingFilter
from studio_status.protocol import utcnow

from .api import create_app
from .checks.specs import HttpSpec
from .config import HubConfig, ServiceConfig, default_config
from .service import Hub

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


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._on_ready()


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
            ws="websockets-sansio",
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
