"""The embedded default: the app runs its own hub in a thread of its own process.

Why a thread and not a child process: a second interpreter cost the default mode 65 MB
and its own imports of pydantic, httpx and the protocol, which the app has loaded already.
The hub is still the same program as ``studio-status hub``: the same config step
(:func:`studio_status.hub.resolve.configure`, then the preflight) and the same
:func:`~studio_status.hub.server.serve`, run on its own asyncio loop in its own thread,
on a loopback port, with a fresh admin token. The app talks to it over HTTP and WebSocket
like to any other hub, so nothing in the client knows the difference.

A hub that ends without being asked to (an exception escaped it) must not leave the
strip silently stale: ``on_problem`` is told the cause at once, and the hub is started
again on the same port (same URL, same token) after a backoff; ``on_problem(None)`` says
it runs again. Nothing here imports the hub before :meth:`EmbeddedHub.start`, so the app's
first paint never waits for FastAPI or uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEMO_SEED", "EmbeddedHub", "EmbeddedHubError"]

log = logging.getLogger("app.embedded")

#: The simulator's seed for ``studio-status demo`` (the same as ``hub --simulate``'s default).
DEMO_SEED = 7

#: Waits before each restart after a crash; the last repeats. A run that stayed up for
#: :data:`STABLE_SECONDS` starts the sequence again.
RESTART_DELAYS: tuple[float, ...] = (1.0, 2.0, 5.0, 15.0, 30.0)
STABLE_SECONDS = 60.0

#: ``serve``'s signature (a seam for tests: a hub that crashes on cue).
Serve = Callable[..., Awaitable[None]]
#: Told the cause when the hub stopped on its own, and None when it runs again.
ProblemSink = Callable[[str | None], None]


class EmbeddedHubError(RuntimeError):
    """The hub did not start; the message says why in the user's words."""


class EmbeddedHub:
    """The app's own hub. Attributes (after :meth:`start`): ``url``, ``token``, ``port``.

    ``problem`` is the cause of the last unexpected stop while the hub is down, else None.
    """

    def __init__(
        self,
        *,
        demo: bool = False,
        database: Path | None = None,
        config: Path | None = None,
        start_timeout: float = 20.0,
        on_problem: ProblemSink | None = None,
        restart_delays: Sequence[float] = RESTART_DELAYS,
        serve: Serve | None = None,
    ) -> None:
        self.demo = demo
        self.database = database
        self.config = config
        self.start_timeout = start_timeout
        self.token = secrets.token_urlsafe(32)
        self.url = ""
        self.port = 0
        self.problem: str | None = None
        self.restarts = 0
        self._on_problem = on_problem
        self._delays = tuple(restart_delays) or RESTART_DELAYS
        self._serve = serve
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run: _Run | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.ended.done()

    async def start(self) -> None:
        """Start the hub and wait until it serves; raises :class:`EmbeddedHubError`."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._run = await self._launch()
        self._supervisor = asyncio.create_task(self._supervise(), name="embedded-hub-watch")

    async def _launch(self) -> _Run:
        assert self._loop is not None
        try:
            sock = await self._loop.run_in_executor(None, _bind, self.port)
        except OSError as exc:
            raise EmbeddedHubError(f"cannot listen on 127.0.0.1:{self.port}: {exc}") from None
        self.port = sock.getsockname()[1]
        run = _Run(self._loop, self._hub_main(sock))
        try:
            async with asyncio.timeout(self.start_timeout):
                self.url = await asyncio.shield(run.ready)
        except BaseException as exc:  # not ready: never leave a half-started hub behind
            if not run.ready.done():
                run.ready.cancel()
            await run.stop(grace=5.0)
            if isinstance(exc, TimeoutError):
                raise EmbeddedHubError(
                    f"the hub did not start within {self.start_timeout:g} s"
                ) from None
            raise
        if run.ended.done():
            raise EmbeddedHubError("the hub stopped as it started")
        log.info("embedded hub ready at %s (in-process)", self.url)
        return run

    async def _hub_main(self, sock: socket.socket) -> None:
        """Runs on the hub's own loop, in its thread: ``studio-status hub``'s config step and
        server, with this hub's port, database, token and (for the demo) the simulator."""
        from studio_status import pace
        from studio_status.hub.config import ConfigError
        from studio_status.hub.preflight import preflight
        from studio_status.hub.resolve import configure
        from studio_status.hub.server import serve

        try:
            config, origin = configure(
                self.config,
                host="127.0.0.1",
                port=0,
                database=self.database,
                simulate=self.demo,
            )
            preflight(config, origin)
        except ConfigError as exc:
            sock.close()
            raise EmbeddedHubError(f"the hub's settings: {exc}") from None
        run = _Run.current()
        await (self._serve or serve)(
            config,
            bootstrap_token=self.token,
            on_ready=lambda _hub, url: run.set_ready(url),
            stop=run.stop_event,
            sock=sock,
            simulate_seed=DEMO_SEED if self.demo else None,
            sleep=pace.sleep,  # the process's pace: real, unless a sped-up demo set one
        )

    async def _supervise(self) -> None:
        """Restart a hub that ended without being asked to, and say so while it is down."""
        attempt = 0
        while True:
            run = self._run
            assert run is not None
            began = time.monotonic()
            cause = await asyncio.shield(run.ended)
            run.join()
            if self._stopping:
                return
            if time.monotonic() - began >= STABLE_SECONDS:
                attempt = 0
            delay = self._delays[min(attempt, len(self._delays) - 1)]
            attempt += 1
            self._report(f"{cause}; starting it again in {delay:g} s")
            log.error("embedded hub stopped: %s; restarting in %g s", cause, delay)
            while True:
                await asyncio.sleep(delay)
                try:
                    self._run = await self._launch()
                except EmbeddedHubError as exc:
                    delay = self._delays[min(attempt, len(self._delays) - 1)]
                    attempt += 1
                    self._report(f"{exc}; trying again in {delay:g} s")
                    log.error("embedded hub did not restart: %s", exc)
                    continue
                break
            self.restarts += 1
            self._report(None)

    def _report(self, problem: str | None) -> None:
        self.problem = problem
        if self._on_problem is not None:
            try:
                self._on_problem(problem)
            except Exception:  # a broken view must not stop the supervision
                log.exception("embedded hub problem listener failed")

    async def stop(self, grace: float = 8.0) -> None:
        """Ask the hub to stop (as ``studio-status hub`` stops on SIGTERM) and wait for it."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._run is not None:
            await self._run.stop(grace)
            self._run = None


class _Run:
    """One run of the hub: its thread, its loop, its stop event, and two futures on the
    app's loop (``ready``: the URL; ``ended``: why it ended, or "stopped")."""

    _local = threading.local()

    def __init__(self, app_loop: asyncio.AbstractEventLoop, main: Any) -> None:
        self.app_loop = app_loop
        self.ready: asyncio.Future[str] = app_loop.create_future()
        self.ended: asyncio.Future[str] = app_loop.create_future()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self._main = main
        self._thread = threading.Thread(target=self._thread_main, name="hub", daemon=True)
        self._thread.start()

    @classmethod
    def current(cls) -> _Run:
        run: _Run = cls._local.run
        return run

    def _thread_main(self) -> None:
        """The hub thread: its own loop until the hub ends; the outcome goes to the app."""
        _Run._local.run = self
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        self.stop_event = asyncio.Event()
        cause = "stopped"
        try:
            self.task = loop.create_task(self._main, name="hub")
            loop.run_until_complete(self.task)
            if not self.stop_event.is_set():
                cause = "the hub stopped by itself"
        except asyncio.CancelledError:
            cause = "stopped" if self.stop_event.is_set() else "the hub was cancelled"
        except SystemExit:  # uvicorn exits when the app's lifespan start fails
            cause = "the hub failed to start (see the log)"
            log.error("embedded hub: lifespan start-up failed")
        except EmbeddedHubError as exc:
            cause = str(exc)
        except BaseException as exc:  # anything else: the hub crashed; the app lives on
            cause = f"the hub crashed: {exc}"
            log.error("embedded hub crashed", exc_info=exc)
        finally:
            try:
                _cancel_leftovers(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                with contextlib.suppress(RuntimeError):  # the app's loop closed first
                    self.app_loop.call_soon_threadsafe(self._ended, cause)

    def set_ready(self, url: str) -> None:
        """Called on the hub's loop once it serves."""
        with contextlib.suppress(RuntimeError):
            self.app_loop.call_soon_threadsafe(_resolve, self.ready, url)

    def _ended(self, cause: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(EmbeddedHubError(cause))
            self.ready.exception()  # retrieved: a start that timed out never awaits it
        if not self.ended.done():
            self.ended.set_result(cause)

    async def stop(self, grace: float) -> None:
        loop, event = self.loop, self.stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # its loop already closed
                loop.call_soon_threadsafe(event.set)
        try:
            async with asyncio.timeout(grace):
                await asyncio.shield(self.ended)
        except TimeoutError:
            log.error("embedded hub did not stop in %g s; cancelling it", grace)
            if loop is not None and self.task is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self.task.cancel)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3.0):
                    await asyncio.shield(self.ended)
        if self.ended.done():
            self.join()

    def join(self) -> None:
        """Once ``ended`` is set the thread is on its last line: this returns at once."""
        self._thread.join(timeout=1.0)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop, limit: float = 10.0) -> None:
    """What a crashed run left behind (uvicorn's lifespan task, the hub's own tasks) is
    cancelled and awaited, as ``asyncio.run`` does, so the hub's clean-up (its store)
    runs before the loop closes."""
    leftovers = asyncio.all_tasks(loop)
    if not leftovers:
        return
    for task in leftovers:
        task.cancel()

    async def settle() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await asyncio.gather(*leftovers, return_exceptions=True)

    loop.run_until_complete(settle())


def _resolve(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


def _bind(port: int) -> socket.socket:
    from studio_status.hub.server import bind

    return bind("127.0.0.1", port)
