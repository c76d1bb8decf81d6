"""A real hub in a child process, with a control channel for the benchmarks.

``python -m bench.hubproc --db PATH [--services N] [--footer N] [--kind tcp|http] [--target PORT]
[--interval S] [--heartbeat S] [--cpu N]``. The admin token comes from
``STUDIO_STATUS_BOOTSTRAP_TOKEN``. It prints ``{"event": "ready", "url", "pid"}`` once
serving, then reads JSON commands on stdin, one a line, and answers each with one line:

- ``{"cmd": "flip", "count": N, "gap": S}``: N status changes of service ``svc-0`` through
  :meth:`Hub.record` (the path a check result takes), ``gap`` seconds apart; answers
  ``{"changes": [[seq, t, status], ...]}`` with the seq of each ``service.health_changed``
  event, ``time.monotonic()`` just before the hub took it, and the new status.
- ``{"cmd": "burst", "events": N, "seconds": S}``: status changes spread over all services
  until N events were published, in 100 even slices over S seconds; answers
  ``{"t0", "t1", "first_seq", "last_seq", "last_sent_seq", "records"}`` (``last_sent_seq``: the
  last of them an app with the default topics is sent).
- ``{"cmd": "seq"}``: ``{"seq"}``. EOF on stdin stops the hub.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from typing import Any

from studio_status.client.stream import DEFAULT_TOPICS
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.config import HubConfig, HubSettings, ServiceConfig
from studio_status.hub.server import bind, serve
from studio_status.hub.service import Hub
from studio_status.protocol import Event, HealthStatus, Role, Topic, utcnow

STATES = (HealthStatus.HEALTHY, HealthStatus.DEGRADED)


def services(n: int, kind: str, target: int, interval: float, footer: int) -> list[ServiceConfig]:
    if kind == "http":
        check: dict[str, Any] = {"kind": "http", "url": f"http://127.0.0.1:{target}/health"}
    else:
        check = {"kind": "tcp", "host": "127.0.0.1", "port": target}
    return [
        ServiceConfig.model_validate(
            {
                "name": f"svc-{i}",
                "label": f"Svc {i}",
                "interval_seconds": interval,
                "timeout_seconds": min(5.0, interval),
                "footer": i < footer,
                "check": check,
            }
        )
        for i in range(n)
    ]


class Control:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.flips: dict[str, int] = {}

    def change(self, name: str) -> tuple[int, float, str]:
        """One status change of ``name``: its health event's seq, the time it was taken and
        the new status."""
        n = self.flips.get(name, 0) + 1
        self.flips[name] = n
        result = CheckResult(STATES[n % 2], latency_ms=3 + n % 5)
        t = time.monotonic()
        seq = self.hub.bus.seq + 1  # record() publishes the health event first, synchronously
        self.hub.record(name, result, utcnow())
        return seq, t, result.status.value

    async def flip(self, count: int, gap: float) -> dict[str, Any]:
        changes = []
        for _ in range(count):
            if self.hub.bus.numbered_by_store:
                changes.append(await self.change_replicated("svc-0"))
            else:
                changes.append(self.change("svc-0"))
            await asyncio.sleep(gap)
        return {"changes": changes}

    async def change_replicated(self, name: str) -> tuple[int, float, str]:
        """As :meth:`change`, on a replica: the seq is the database's, known once the
        event comes back committed (``t`` is still taken before the hub took it)."""
        sub = self.hub.bus.subscribe(Role.ADMIN, [Topic.HEALTH])
        try:
            n = self.flips.get(name, 0) + 1
            self.flips[name] = n
            result = CheckResult(STATES[n % 2], latency_ms=3 + n % 5)
            t = time.monotonic()
            self.hub.record(name, result, utcnow())
            while True:
                event = await sub.queue.get()
                if event.data.get("service") == name:
                    return event.seq, t, result.status.value
        finally:
            self.hub.bus.unsubscribe(sub)

    async def burst(self, events: int, seconds: float) -> dict[str, Any]:
        names = [s.name for s in self.hub.services if s.name.startswith("svc-")]
        start = self.hub.bus.seq
        # the last event an app (admin, default topics) is sent: a burst may end with
        # events no app subscribes to (the activity feed's), whose seq it learns only
        # with the next heartbeat
        shown = [start]

        def sent(event: Event) -> bool:
            shown[0] = event.seq
            return True  # taken: nothing queues for this listener

        sub = self.hub.bus.subscribe(Role.ADMIN, DEFAULT_TOPICS)
        sub.direct = sent
        goal = start + events
        slices = 100
        per = max(1, events // slices)
        t0 = time.monotonic()
        records = 0
        first_seq = start + 1
        for k in range(slices * 4):  # bounded: at most 4x the slices
            slice_goal = min(goal, start + per * (k + 1))
            while self.hub.bus.seq < slice_goal:
                self.change(names[records % len(names)])
                records += 1
            if self.hub.bus.seq >= goal:
                break
            delay = t0 + seconds * (k + 1) / slices - time.monotonic()
            await asyncio.sleep(max(0.0, delay))
        self.hub.bus.unsubscribe(sub)
        return {
            "t0": t0,
            "t1": time.monotonic(),
            "first_seq": first_seq,
            "last_seq": self.hub.bus.seq,
            "last_sent_seq": shown[0],
            "records": records,
        }

    async def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        cmd = msg.get("cmd")
        if cmd == "flip":
            return await self.flip(int(msg["count"]), float(msg.get("gap", 0.05)))
        if cmd == "burst":
            return await self.burst(int(msg["events"]), float(msg.get("seconds", 1.0)))
        if cmd == "seq":
            return {"seq": self.hub.bus.seq}
        return {"error": f"unknown command {cmd!r}"}


def say(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> None:
    token = os.environ.get("STUDIO_STATUS_BOOTSTRAP_TOKEN") or None
    sock = bind("127.0.0.1", 0)
    target = args.target or sock.getsockname()[1]  # 0: check the hub's own port
    config = HubConfig(
        hub=HubSettings(
            host="127.0.0.1",
            port=0,
            database=args.db,
            heartbeat_seconds=args.heartbeat,
        ),
        services=services(args.services, args.kind, target, args.interval, args.footer),
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    commands: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(commands.put_nowait, None)

    tasks: set[asyncio.Task[None]] = set()

    def ready(hub: Hub, url: str) -> None:
        say({"event": "ready", "url": url, "pid": os.getpid()})
        tasks.add(loop.create_task(serve_commands(Control(hub))))

    async def serve_commands(control: Control) -> None:
        while (msg := await commands.get()) is not None:
            say(await control.handle(msg))
        stop.set()

    threading.Thread(target=read_stdin, daemon=True, name="stdin").start()
    await serve(config, bootstrap_token=token, on_ready=ready, stop=stop, sock=sock)


def cli() -> None:
    p = argparse.ArgumentParser(prog="bench.hubproc")
    p.add_argument("--db", required=True, help="SQLite file or postgresql:// URL (a replica)")
    p.add_argument("--services", type=int, default=8)
    p.add_argument("--footer", type=int, default=8, help="how many services the footer shows")
    p.add_argument("--kind", choices=["tcp", "http"], default="tcp")
    p.add_argument("--target", type=int, default=0, help="loopback port checked (0: own)")
    p.add_argument("--interval", type=float, default=3600.0)
    p.add_argument("--heartbeat", type=float, default=15.0)
    p.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = p.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
