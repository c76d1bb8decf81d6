"""The embedded default: the app runs its own hub as a child process on loopback.

The child gets a fresh admin token through its environment (never argv, which other users
can read), binds a free port, and prints one JSON ready line. It watches its stdin: when
the app exits or dies the pipe closes and the hub stops, so no orphan is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedHub", "EmbeddedHubError"]

log = logging.getLogger("app.embedded")

BOOTSTRAP_ENV = "STUDIO_STATUS_BOOTSTRAP_TOKEN"


class EmbeddedHubError(RuntimeError):
    """The child hub did not start; the message carries its last output lines."""


class EmbeddedHub:
    """A hub child process. Attributes (after :meth:`start`): ``url``, ``token``, ``pid``."""

    def __init__(
        self,
        *,
        demo: bool = False,
        database: Path | None = None,
        config: Path | None = None,
        start_timeout: float = 20.0,
    ) -> None:
        self.demo = demo
        self.database = database
        self.config = config
        self.start_timeout = start_timeout
        self.token = secrets.token_urlsafe(32)
        self.url = ""
        self.pid: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: list[str] = []
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # a frozen (PyInstaller) app is its own interpreter: the binary takes the sub-command
        prefix = (
            [sys.executable]
            if getattr(sys, "frozen", False)
            else [sys.executable, "-m", "studio_status"]
        )
        argv = [*prefix, "hub", "--embedded"]
        if self.database is not None:
            argv += ["--database", str(self.database)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        if self.demo:
            argv += ["--simulate"]
        env = {**os.environ, BOOTSTRAP_ENV: self.token}
        self._proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        self.pid = self._proc.pid
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._pump(self._pump_stderr(self._proc.stderr))
        try:
            async with asyncio.timeout(self.start_timeout):
                ready = await self._read_ready(self._proc.stdout)
        except (TimeoutError, EmbeddedHubError) as exc:
            await self.stop()
            tail = "\n".join(self._stderr_tail[-10:])
            raise EmbeddedHubError(f"embedded hub did not start: {exc}\n{tail}") from None
        self.url = ready["url"]
        self._pump(self._drain(self._proc.stdout))
        log.info("embedded hub ready at %s (pid %s)", self.url, self.pid)

    def _pump(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)

    async def _read_ready(self, stdout: asyncio.StreamReader) -> dict[str, str]:
        while True:
            line = await stdout.readline()
            if not line:
                raise EmbeddedHubError("the hub exited before it was ready")
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                if isinstance(msg, dict) and msg.get("event") == "ready":
                    return msg

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        while await stream.readline():
            pass

    async def _pump_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr_tail = [*self._stderr_tail[-49:], text]
            log.debug("hub: %s", text)

    async def stop(self, grace: float = 8.0) -> None:
        """Close the child's stdin (its cue to stop), then terminate, then kill."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                async with asyncio.timeout(grace):
                    await proc.wait()
            except TimeoutError:
                proc.terminate()
                try:
                    async with asyncio.timeout(3):
                        await proc.wait()
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        for task in list(self._pumps):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._proc = None
