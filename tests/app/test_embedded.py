"""The app's own hub in its process: it serves, stops cleanly, and a crash is told and mended.

The hub is the real one (``studio_status.hub.server.serve`` on a loopback port, in its own
thread and loop); the crash is a real exception escaping the hub's run, raised on cue by a
wrapper around the real ``serve``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio_status.client.state import Segment, StatusStore
from studio_status.embedded import EmbeddedHub, EmbeddedHubError
from studio_status.hub.server import serve
from studio_status.protocol import HealthStatus
from studio_status.session import HUB_SUBJECT

FOOTER = "/api/v1/status/footer"


@pytest.fixture
def hub_config(tmp_path: Path) -> Path:
    """An explicit, empty hub config: the user's own file never leaks into a test."""
    path = tmp_path / "hub.toml"
    path.write_text("")
    return path


def hub_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hub"]


@pytest.fixture(autouse=True)
def no_hub_thread_left() -> Iterator[None]:
    yield
    assert hub_threads() == []


async def footer(hub: EmbeddedHub) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            hub.url + FOOTER, headers={"Authorization": f"Bearer {hub.token}"}
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_serves_in_the_apps_process_and_stops_cleanly(
    tmp_path: Path, hub_config: Path
) -> None:
    hub = EmbeddedHub(database=tmp_path / "hub.sqlite3", config=hub_config)
    await hub.start()
    try:
        assert hub.running and hub.url.startswith("http://127.0.0.1:")
        assert len(hub_threads()) == 1  # a thread of this process, not a child process
        body = await footer(hub)
        assert set(body["data"]["services"]) == {"hub", "events", "disk"}  # the defaults
    finally:
        await hub.stop()
    assert not hub.running
    with pytest.raises(httpx.ConnectError):
        await footer(hub)


async def test_demo_runs_the_simulator(tmp_path: Path, hub_config: Path) -> None:
    hub = EmbeddedHub(demo=True, database=tmp_path / "hub.sqlite3", config=hub_config)
    await hub.start()
    try:
        services = set((await footer(hub))["data"]["services"])
        # the simulated studio's services lead the footer; the hub's self-checks leave it
        assert services and not services & {"hub", "events", "disk"}
    finally:
        await hub.stop()


async def test_bad_settings_fail_the_start_in_words(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text("[hub]\nport = 'eighty'")
    hub = EmbeddedHub(database=tmp_path / "hub.sqlite3", config=config)
    with pytest.raises(EmbeddedHubError, match=r"hub\.port"):
        await hub.start()
    assert not hub.running


class CrashOnCue:
    """The real ``serve``; its first run raises once :meth:`crash` is called."""

    def __init__(self) -> None:
        self.runs = 0
        self._cue: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self.cue_ready = threading.Event()

    async def __call__(self, config: Any, **kwargs: Any) -> None:
        self.runs += 1
        if self.runs > 1:
            await serve(config, **kwargs)
            return
        cue = asyncio.Event()
        self._cue = (asyncio.get_running_loop(), cue)
        self.cue_ready.set()
        server = asyncio.create_task(serve(config, **kwargs))
        waiter = asyncio.create_task(cue.wait())
        await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
        server.cancel()  # the hub's own clean-up runs (socket, store), then the crash
        waiter.cancel()
        await asyncio.gather(server, waiter, return_exceptions=True)
        raise RuntimeError("the disk went away")

    def crash(self) -> None:
        assert self.cue_ready.is_set() and self._cue is not None
        loop, cue = self._cue
        loop.call_soon_threadsafe(cue.set)


async def test_a_crash_is_told_and_the_hub_comes_back_on_the_same_url(
    tmp_path: Path, hub_config: Path
) -> None:
    problems: list[str | None] = []
    changed = asyncio.Event()

    def on_problem(problem: str | None) -> None:
        problems.append(problem)
        changed.set()

    crashy = CrashOnCue()
    hub = EmbeddedHub(
        database=tmp_path / "hub.sqlite3",
        config=hub_config,
        on_problem=on_problem,
        restart_delays=[0.0],
        serve=crashy,
    )
    await hub.start()
    try:
        url, token = hub.url, hub.token
        await footer(hub)
        crashy.crash()
        await changed.wait()
        changed.clear()
        assert problems[0] is not None and "the disk went away" in problems[0]
        assert "starting it again" in problems[0]
        await changed.wait()
        assert problems[1:] == [None] and hub.problem is None
        assert hub.running and hub.restarts == 1 and crashy.runs == 2
        assert (hub.url, hub.token) == (url, token)  # the client's URL and token still work
        await footer(hub)
    finally:
        await hub.stop()


async def test_the_session_shows_a_hub_crash_on_the_strip() -> None:
    """The session turns the hub's problem into notices the strip and tray show."""
    from studio_status.appconfig import Profile, RefreshSettings
    from studio_status.session import ProfileSession

    store = StatusStore()
    session = ProfileSession(store, Profile(name="default"), token=None, refresh=RefreshSettings())
    session._hub_problem("the hub crashed: the disk went away; starting it again in 1 s")
    session._hub_problem(None)
    notices = store.state.history[Segment.SERVICES]
    assert [(n.subject, n.severity) for n in notices] == [
        (HUB_SUBJECT, HealthStatus.DOWN),
        (HUB_SUBJECT, HealthStatus.HEALTHY),
    ]
    assert "Embedded hub stopped: the hub crashed: the disk went away" in notices[0].text
    assert notices[1].text == "Embedded hub running again"
