"""Soak: the app's client against a flapping hub for a long while, then its resource figures.

    python -m bench.soak                 # 60 minutes
    python -m bench.soak --minutes 5     # a quick look

A real hub runs as a child process (``python -m studio_status hub``) watching a loopback
service that flips between healthy and down every ``--flap-seconds`` (so transitions,
footer changes and pushed jobs flow all the time). Every ``--drop-seconds`` the client's
socket is dropped: mostly by the client (``kick``: close and resume), every fourth time by
restarting the hub itself. The client is the app's real ``StatusClient`` and store, in this
process, so what is measured is the app's network side: resident memory (RSS), open file
descriptors and asyncio tasks, sampled once a minute after a warm-up cycle. It prints a
table and a verdict ("flat" when RSS grew less than ``--rss-slack-mb`` and fds and tasks
came back to their start), and exits 1 when not flat. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from studio_status.cli import BOOTSTRAP_ENV
from studio_status.client import ConnectionState, StatusClient, StatusState, StatusStore

__all__ = ["main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Flapper:
    """A loopback HTTP service that is healthy or down by the clock."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while await reader.readuntil(b"\r\n\r\n"):
                up = int(time.monotonic() / self.period) % 2 == 0
                status = b"200 OK" if up else b"500 Internal Server Error"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass
class Hub:
    workdir: Path
    port: int
    token: str
    target: int
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = self.workdir / "hub.toml"
        config.write_text(
            '[hub]\nheartbeat_seconds = 5\n\n[[services]]\nname = "flappy"\n'
            'interval_seconds = 0.5\ntimeout_seconds = 1\n[services.check]\nkind = "http"\n'
            f'url = "http://127.0.0.1:{self.target}/"\n'
        )
        log = (self.workdir / "hub.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "studio_status", "hub", "--config", str(config),
            "--port", str(self.port), "--database", str(self.workdir / "hub.sqlite3"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log,
            env={**os.environ, BOOTSTRAP_ENV: self.token},
        )  # fmt: skip
        log.close()
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            while line := await self.proc.stdout.readline():
                with contextlib.suppress(ValueError):
                    if json.loads(line).get("event") == "ready":
                        return
        raise RuntimeError(f"hub did not start; see {self.workdir / 'hub.log'}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 30)


@dataclass
class Sample:
    minute: float
    rss: int
    fds: int
    tasks: int
    events: int
    connection: str


@dataclass
class Counters:
    events: int = 0
    snapshots: int = 0
    versions: list[int] = field(default_factory=list)


async def push_jobs(url: str, token: str) -> None:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=5
    ) as http:
        for n in itertools.count():
            for kind in ("created", "completed"):
                body = {"event_id": f"soak-{n}-{kind}", "kind": kind, "job_id": f"soak-{n}"}
                with contextlib.suppress(httpx.HTTPError):
                    await http.post("/api/v1/jobs/events", json=body)
            await asyncio.sleep(1.0)


async def soak(args: argparse.Namespace) -> int:
    flapper = Flapper(args.flap_seconds)
    await flapper.start()
    with tempfile.TemporaryDirectory(prefix="studio-status-soak-") as tmp:
        hub = Hub(Path(tmp), _free_port(), secrets.token_urlsafe(24), flapper.port)
        await hub.start()
        store = StatusStore()
        counters = Counters()
        last_seq: list[int | None] = [None]

        def count(state: StatusState) -> None:
            if state.last_seq != last_seq[0]:
                counters.events += 1
                last_seq[0] = state.last_seq

        store.subscribe(count)
        client = StatusClient(hub.url, store, token=hub.token, backoff_max=5.0)
        client.start()
        pusher = asyncio.create_task(push_jobs(hub.url, hub.token))
        samples: list[Sample] = []
        started = time.monotonic()
        deadline = started + args.minutes * 60
        next_drop = started + args.drop_seconds
        next_sample = started + min(args.drop_seconds, 60) + 5  # after one warm-up cycle
        drops = 0
        print(
            f"soak: {args.minutes:g} min, flap every {args.flap_seconds:g} s, "
            f"drop every {args.drop_seconds:g} s; hub log in {tmp}/hub.log",
            flush=True,
        )
        try:
            while (now := time.monotonic()) < deadline:
                if now >= next_drop:
                    drops += 1
                    if drops % 4 == 0:
                        await hub.stop()
                        await hub.start()
                    else:
                        client.kick()
                    next_drop += args.drop_seconds
                if now >= next_sample:
                    sample = Sample(
                        (now - started) / 60,
                        rss_bytes(),
                        open_fds(),
                        len(asyncio.all_tasks()),
                        counters.events,
                        store.state.connection.value,
                    )
                    samples.append(sample)
                    print(
                        f"{sample.minute:6.1f} min  rss {sample.rss / 2**20:7.1f} MB  "
                        f"fds {sample.fds:4d}  tasks {sample.tasks:4d}  "
                        f"updates {sample.events:7d}  {sample.connection}",
                        flush=True,
                    )
                    next_sample += 60
                await asyncio.sleep(0.5)
            # end on a settled link, so fds and tasks are compared like with like
            settled = asyncio.Event()
            unsubscribe = store.subscribe(
                lambda st: settled.set() if st.connection is ConnectionState.LIVE else None
            )
            if store.state.connection is ConnectionState.LIVE:
                settled.set()
            await asyncio.wait_for(settled.wait(), 60)
            unsubscribe()
            await asyncio.sleep(2)
            end = Sample(
                (time.monotonic() - started) / 60,
                rss_bytes(),
                open_fds(),
                len(asyncio.all_tasks()),
                counters.events,
                store.state.connection.value,
            )
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
            await client.aclose()
            await hub.stop()
            await flapper.close()
    first = samples[0] if samples else end
    growth = (end.rss - first.rss) / 2**20
    flat = growth < args.rss_slack_mb and end.fds - first.fds <= 2 and end.tasks - first.tasks <= 2
    print(
        f"\nafter {end.minute:.1f} min, {drops} drops, {end.events} store updates:\n"
        f"  RSS   {first.rss / 2**20:.1f} -> {end.rss / 2**20:.1f} MB ({growth:+.1f} MB)\n"
        f"  fds   {first.fds} -> {end.fds} ({end.fds - first.fds:+d})\n"
        f"  tasks {first.tasks} -> {end.tasks} ({end.tasks - first.tasks:+d})\n"
        f"  verdict: {'flat' if flat else 'GROWING'}"
    )
    return 0 if flat else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="how long (default 60)")
    p.add_argument("--flap-seconds", type=float, default=3.0, help="service flips this often")
    p.add_argument("--drop-seconds", type=float, default=60.0, help="socket dropped this often")
    p.add_argument("--rss-slack-mb", type=float, default=10.0, help="RSS growth still 'flat'")
    args = p.parse_args(argv)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    raise SystemExit(main())
