"""Several hubs on one PostgreSQL (README "Running several hubs"): event fan-out from one
replica's commit to every socket on three, footer latency with clients spread over three,
and each replica's CPU with 3 000 services shared among them.

A private PostgreSQL is started for the run (``tests/pgserver.py``: initdb into a temporary
folder, fsync off); each figure starts three ``bench.hubproc`` replicas on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from .core import BenchError, Context, Figure, proc_sample, workdir
from .hub_benches import _HttpTarget, _paced
from .procs import HubChild

REPLICAS = 3


@contextlib.contextmanager
def _database() -> Iterator[str]:
    """A fresh database on a private PostgreSQL server; its URL."""
    import psycopg
    from tests.pgserver import find_pg_bindir, run_postgres

    bindir = find_pg_bindir()
    if bindir is None:
        raise BenchError("PostgreSQL server binaries (initdb/pg_ctl) not found")
    with run_postgres(bindir) as server:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield server.dsn_with(database=name)


@contextlib.contextmanager
def _replicas(tmp: Path, dsn: str, *args: str) -> Iterator[list[HubChild]]:
    with contextlib.ExitStack() as stack:
        hubs = [
            stack.enter_context(HubChild(tmp / f"replica{i}", "--db", dsn, *args))
            for i in range(REPLICAS)
        ]
        yield hubs


def bench_replicas(ctx: Context) -> list[Figure]:
    with workdir("replicas") as tmp, _database() as dsn:
        figures = _fanout(ctx, tmp / "fanout", dsn)
    with workdir("replicas") as tmp, _database() as dsn:
        figures += _footer(ctx, tmp / "footer", dsn)
    with workdir("replicas") as tmp, _database() as dsn:
        figures += _schedule(ctx, tmp / "schedule", dsn)
    return figures


# -- commit -> every socket on three replicas ---------------------------------------------


def _fanout(ctx: Context, tmp: Path, dsn: str) -> list[Figure]:
    sockets = 300 if ctx.quick else 1000
    changes = 3 if ctx.quick else 20
    with _replicas(tmp, dsn) as hubs:
        latencies, missed = asyncio.run(_fan(hubs, sockets, changes))
    note = f"--quick: {sockets} sockets, {changes} changes" if ctx.quick else ""
    return [
        Figure(
            "replicas",
            f"commit → every socket, {sockets} sockets on 3 replicas",
            "ms",
            latencies,
            target=150,
            method=f"{changes} status changes via Hub.record() on replica 0, 1 s apart; start "
            "= monotonic before record() (so it includes the write, the commit and the "
            "NOTIFY), end = each socket's recv of that event; sockets spread evenly over the "
            f"three replicas; {missed} deliveries missed",
            note=note,
            error=f"{missed} deliveries missed" if missed else None,
        )
    ]


async def _fan(hubs: list[HubChild], n: int, changes: int) -> tuple[list[float], int]:
    from websockets.asyncio.client import ClientConnection, connect

    async def open_one(hub: HubChild) -> ClientConnection:
        ws = await connect(hub.ws_url, open_timeout=60, ping_interval=None, max_queue=None)
        await ws.send(json.dumps({"type": "hello", "token": hub.token, "topics": ["health"]}))
        while json.loads(await ws.recv()).get("type") != "snapshot":
            pass
        return ws

    conns: list[ClientConnection] = []
    for start in range(0, n, 50):
        batch = range(start, min(n, start + 50))
        conns += await asyncio.gather(*(open_one(hubs[i % len(hubs)]) for i in batch))
    arrivals: dict[int, list[float]] = {}

    async def reader(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.monotonic()
                msg = json.loads(raw)
                if msg.get("type") == "service.health_changed":
                    arrivals.setdefault(msg["seq"], []).append(now)

    readers = [asyncio.create_task(reader(ws)) for ws in conns]
    sent: list[tuple[int, float]] = []
    try:
        for _ in range(changes):
            seq, t, _status = await asyncio.to_thread(
                lambda: hubs[0].command(cmd="flip", count=1, gap=0)["changes"][0]
            )
            sent.append((seq, t))
            await asyncio.sleep(1.0)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    latencies = [(a - t) * 1000 for seq, t in sent for a in arrivals.get(seq, [])]
    return latencies, n * changes - len(latencies)


# -- footer, clients over three replicas --------------------------------------------------


def _footer(ctx: Context, tmp: Path, dsn: str) -> list[Figure]:
    seconds = 5.0 if ctx.quick else 20.0
    clients, rate = 300, 2.0
    per = clients // REPLICAS
    with _replicas(tmp, dsn, "--services", "200", "--footer", "200") as hubs:

        async def load(window: float) -> list[float]:
            runs = await asyncio.gather(*(_paced(h.port, h.token, per, rate, window) for h in hubs))
            return list(itertools.chain.from_iterable(runs))

        asyncio.run(load(2.0))  # warm-up
        latencies = asyncio.run(load(seconds))
    note = f"--quick: {seconds:g} s" if ctx.quick else ""
    return [
        Figure(
            "replicas",
            f"footer latency, 200 services, {clients} clients on 3 replicas",
            "ms",
            [x * 1000 for x in latencies],
            target=5,
            method=f"{per} keep-alive connections per replica (raw HTTP/1.1) each GETting the "
            f"footer {rate:g}/s, staggered, for {seconds:g} s; client-side monotonic from "
            "write to last body byte; replicas, PostgreSQL and the client share the machine",
            note=note,
        )
    ]


# -- 3000 services at 30 s over three replicas --------------------------------------------


def _schedule(ctx: Context, tmp: Path, dsn: str) -> list[Figure]:
    services, interval, window = (600, 6.0, 9.0) if ctx.quick else (3000, 30.0, 90.0)
    target = _HttpTarget()
    try:
        with _replicas(
            tmp,
            dsn,
            "--services", str(services),
            "--kind", "http",
            "--target", str(target.port),
            "--interval", str(interval),
        ) as hubs:  # fmt: skip
            time.sleep(interval / 3)  # past the start-up round and the first hand-over
            first = [proc_sample(h.pid) for h in hubs]
            time.sleep(window)
            last = [proc_sample(h.pid) for h in hubs]
            checks = target.hits
    finally:
        target.close()
    shares = [(b.cpu - a.cpu) / (b.at - a.at) * 100 for a, b in zip(first, last, strict=True)]
    note = (
        f"--quick: {services} services × {interval:g} s ({services / interval:g} checks/s, "
        f"as 3000 × 30 s), {window:g} s window"
        if ctx.quick
        else ""
    )
    return [
        Figure(
            "replicas",
            f"{services} HTTP checks / {interval:g} s over 3 replicas: CPU per replica",
            "% core",
            shares,
            target=10,
            judge="max",
            method=f"each replica's schedstat CPU over {window:g} s from {interval / 3:g} s "
            f"after ready; {checks} checks reached the loopback target in all",
            note=note,
        )
    ]
