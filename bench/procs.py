"""The processes a benchmark starts: a hub child, the app, Xvfb, a loopback TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .core import PY, ROOT, BenchError, LineFile, isolated_env, stop_process, wait_for


class HubChild:
    """``python -m bench.hubproc`` on loopback; :meth:`command` talks to its control channel."""

    def __init__(self, workdir: Path, *args: str, start_timeout: float = 60.0) -> None:
        self.token = secrets.token_urlsafe(24)
        workdir.mkdir(parents=True, exist_ok=True)
        env = isolated_env(workdir, STUDIO_STATUS_BOOTSTRAP_TOKEN=self.token)
        self.log_path = workdir / "hub.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [PY, "-m", "bench.hubproc", "--db", str(workdir / "hub.sqlite3"), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self._next(start_timeout)
        if ready.get("event") != "ready":
            self.close()
            raise BenchError(f"hub child did not start: {ready}")
        self.url: str = ready["url"]
        self.pid: int = ready["pid"]
        self.port = int(self.url.rsplit(":", 1)[1])

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchError(f"hub child silent for {timeout:g} s") from None
        if line is None:
            tail = self.log_path.read_text()[-2000:]
            raise BenchError(f"hub child exited: {tail}")
        data: dict[str, Any] = json.loads(line)
        return data

    def command(self, timeout: float = 120.0, **msg: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._next(timeout)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/events"

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # EOF: the hub stops cleanly
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            stop_process(self.proc)
        self._log.close()

    def __enter__(self) -> HubChild:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AppChild:
    """The real app (``studio_status.cli.main``) run through :mod:`bench.appchild`; with
    ``hub_url=None`` it runs as most people run it, with its own hub.

    ``started`` is ``time.monotonic()`` just before the process was spawned; the probe
    file collects the paint probe's and the wrapper's lines.
    """

    def __init__(
        self,
        home: Path,
        qt_env: dict[str, str],
        *,
        hub_url: str | None,
        token: str | None,
        lag_monitor: bool = False,
        tag: str = "app",
    ) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.probe = LineFile(home / f"{tag}-probe.jsonl")
        self.probe.path.unlink(missing_ok=True)
        env = isolated_env(
            home,
            STUDIO_STATUS_PAINT_PROBE=str(self.probe.path),
            BENCH_MARKS=str(self.probe.path),
            **qt_env,
        )
        if lag_monitor:
            env["BENCH_LAG"] = "1"
            env["BENCH_GC"] = "1"
        # no hub URL: the default mode, the app with its own (embedded) hub
        # "--token=…" in one word: a random token may begin with "-", which argparse would
        # take for an option (one app start in ~64 failed that way)
        hub_args = [] if hub_url is None else [f"--hub={hub_url}", f"--token={token or ''}"]
        self.log_path = home / f"{tag}.log"
        self._log = self.log_path.open("w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [PY, "-m", "bench.appchild", *hub_args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log_path.read_text()[-2000:]
            raise BenchError(f"the app exited ({self.proc.returncode}): {tail}")

    def wait_shown(self, min_seq: int, timeout: float, what: str) -> dict[str, Any]:
        """When the screen showed a state at ``min_seq`` or later: the first paint of it, or
        its render when it changed nothing on screen (the last paint before it shows the
        same; a burst's last events can leave the counts as they were, and then nothing
        paints)."""

        def shown() -> dict[str, Any] | None:
            self.probe.poll()
            painted: Any = None
            for x in self.probe.lines:
                kind, seq = x.get("probe"), x.get("seq")
                if kind == "paint":
                    if seq is not None and seq >= min_seq:
                        return x
                    painted = x.get("shown")
                elif (
                    kind == "render"
                    and seq is not None
                    and seq >= min_seq
                    and x.get("shown") == painted
                ):
                    return x
            self.check_alive()
            return None

        found: dict[str, Any] = wait_for(shown, timeout, what)
        return found

    def wait_paint(
        self,
        min_seq: int,
        timeout: float,
        what: str,
        shows: tuple[float, str] | None = None,
    ) -> dict[str, Any]:
        """The first paint of a state at ``min_seq`` or later; with ``shows=(t, text)`` also
        a paint after monotonic ``t`` whose services segment contains ``text``."""

        def pred(x: dict[str, Any]) -> bool:
            if x.get("probe") != "paint":
                return False
            seq = x.get("seq")
            if seq is not None and seq >= min_seq:
                return True
            if shows is None:
                return False
            since, text = shows
            return x["t"] >= since and text in x.get("shown", {}).get("services", "")

        deadline = time.monotonic() + timeout
        while True:
            found = self.probe.first(pred)
            if found is not None:
                return found
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.005)

    def close(self) -> None:
        stop_process(self.proc)
        self._log.close()

    def __enter__(self) -> AppChild:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextlib.contextmanager
def xvfb(screen: str = "1920x1080x24") -> Iterator[str | None]:
    """A private Xvfb display (``-displayfd`` picks a free number) when Xvfb is installed
    and starts, else None (use offscreen). The UI tests' ``display`` fixture uses it too."""
    import shutil

    if shutil.which("Xvfb") is None:
        yield None
        return
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        yield f":{number}" if number else None
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Proxy:
    """A loopback TCP proxy in a thread; :meth:`drop_all` cuts every connection (reconnects)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0
        self.loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="proxy")
        self._thread.start()
        if not self._ready.wait(10):
            raise BenchError("proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        finally:
            self._writers -= {writer, up_w}

    def drop_all(self) -> None:
        def drop() -> None:
            for w in list(self._writers):
                w.transport.abort()

        self.loop.call_soon_threadsafe(drop)

    @property
    def open_connections(self) -> int:
        return len(self._writers) // 2

    def close(self) -> None:
        self.drop_all()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
