"""A store filled from a real hub for window tests: the simulated studio on loopback.

``live_studio`` starts :class:`SimulatedPlant` (real loopback endpoints), a real hub watching
them with the ordinary checkers, pushes ``steps`` of :class:`StudioScript` through the hub's
job board (the push API's path), and connects a real :class:`StatusClient` that feeds a
:class:`StatusStore`, with a :class:`Details` over the client's own REST client. Everything
runs on the test's qasync loop; wait with :func:`until`, never ``qtbot.wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication

from studio_status.client.details import Details
from studio_status.client.state import ConnectionState, StatusStore
from studio_status.client.stream import StatusClient
from studio_status.hub.config import ServiceConfig
from studio_status.hub.health_settings import HealthSettings
from studio_status.hub.sources.plant import SimulatedPlant
from studio_status.hub.sources.simulator import StudioScript
from studio_status.protocol import HealthStatus, Role, utcnow
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import LIGHT, Theme
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore
from tests.hubrunner import RunningHub, run_hub, wait_for_status

LIMIT = 15.0


async def until(cond: Callable[[], object], limit: float = LIMIT) -> None:
    """Let the loop run until ``cond()`` is true (the qasync-safe ``waitUntil``)."""
    async with asyncio.timeout(limit):
        while True:  # conditions on Qt widgets have no event to await; poll the loop briefly
            if cond():
                return
            await asyncio.sleep(0.02)


@dataclass
class Live:
    hub: RunningHub
    plant: SimulatedPlant
    store: StatusStore
    client: StatusClient
    details: Details
    feed: StateFeed
    script: StudioScript
    tmp: Path

    def context(self, theme: Theme = LIGHT) -> WindowContext:
        return WindowContext(
            self.feed,
            details=self.details,
            geometry=GeometryStore(self.tmp / "windows.json"),
            theme=theme,
            reconnect=self.client.kick,
        )

    def opener(self, theme: Theme = LIGHT) -> WindowOpener:
        return WindowOpener(context=self.context(theme))

    async def outage(self, service: str) -> None:
        """A real outage of a plant service, checked down then up again, and stored."""
        self.plant.set(service, "down")
        await self.hub.hub.recheck(service)
        self.plant.set(service, "ok")
        await self.hub.hub.recheck(service)
        await self.hub.hub.writer.flush()

    def steps(self, n: int) -> None:
        """Push ``n`` script steps, 5 s apart and ending now, through the hub's job board
        (in the past, so events a test pushes later are not refused as out of order)."""
        t0 = utcnow() - timedelta(seconds=5 * n)
        for i in range(n):
            step = self.script.step(t0 + timedelta(seconds=5 * i))
            for job in step.jobs:
                self.hub.hub.push_job(job)
            for wf in step.workflows:
                self.hub.hub.push_workflow(wf)


@contextlib.asynccontextmanager
async def live_studio(
    tmp_path: Path,
    *,
    role: Role = Role.ADMIN,
    steps: int = 0,
    seed: int = 7,
    health: HealthSettings | None = None,
    configure: Callable[[ServiceConfig], ServiceConfig] | None = None,
) -> AsyncIterator[Live]:
    """``configure`` may change each service's config (a restart command, a log file)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setQuitOnLastWindowClosed(False)  # as the app does: closing a window is not quitting
    plant = SimulatedPlant()
    await plant.start()
    try:
        services = plant.services(interval=3600)
        if configure is not None:
            services = [configure(s) for s in services]
        async with run_hub(tmp_path, services, health=health) as h:
            for name in h.hub.state.services:
                await wait_for_status(h.hub, name, HealthStatus.HEALTHY, LIMIT)
            token = h.admin_token if role is Role.ADMIN else await h.token(role)
            store = StatusStore()
            client = StatusClient(h.url, store, token=token)
            live = Live(
                h,
                plant,
                store,
                client,
                Details(client.rest, store, client, min_interval=0.0, follow_interval=0.0),
                StateFeed(store),
                StudioScript(seed),
                tmp_path,
            )
            live.steps(steps)
            await h.hub.activity.flush()  # the feed is written behind the bus
            client.start()
            await until(lambda: store.state.connection is ConnectionState.LIVE)
            try:
                yield live
            finally:
                live.feed.close()
                await live.details.aclose()
                await client.aclose()
    finally:
        await plant.close()
