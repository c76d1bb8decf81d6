"""SIGKILL the replica that checks a service, out of three real hub processes on one real
PostgreSQL: another replica checks it within one interval, exactly one alert fires for the
outage that began during the kill, the killed replica's clients resume on the others with
no gap and no duplicate, and the replica, restarted, rejoins the group."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect

from studio_status.protocol import Topic
from tests.hub.checks.servers import Target, free_port
from tests.pgserver import PgServer
from tests.reliability.hubproc import HubProcess
from tests.storedb import fresh_database

pytestmark = pytest.mark.postgres

INTERVAL = 2.0
TOPICS = [Topic.HEALTH, Topic.FOOTER, Topic.ALERTS, Topic.JOBS]


def write_config(path: Path, url: str) -> Path:
    path.write_text(
        f"""
[hub]
heartbeat_seconds = 0.5

[health]
alert_tick_seconds = 0.2

[[services]]
name = "api"
interval_seconds = {INTERVAL}
timeout_seconds = 1

[services.check]
kind = "http"
url = "{url}"
""",
        encoding="utf-8",
    )
    return path


def owner_of(dsn: str, name: str) -> str | None:
    """The replica holding ``name``'s advisory lock (as PostgreSQL itself reports it)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT substr(a.application_name, 19) FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
            " AND l.granted AND l.classid = %s AND l.objid = %s",
            (0x5353, zlib.crc32(name.encode())),
        ).fetchone()
    return None if row is None else str(row[0])


def members(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT substr(application_name, 19) FROM pg_stat_activity"
            " WHERE application_name LIKE 'studio-status-hub %%'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def checks_since(dsn: str, at: float) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM health_checks WHERE service_name = 'api' AND checked_at > %s",
            (at,),
        ).fetchone()
    return int(row[0]) if row else 0


async def poll(fn: Any, limit: float = 20.0) -> Any:
    """Wait for a condition in another process (the database is the only way to see it)."""
    async with asyncio.timeout(limit):
        while not (value := await asyncio.to_thread(fn)):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return value


class Client:
    """A socket client that records events and, when its hub dies, resumes elsewhere."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.last_seq: int | None = None
        self.hub_id: str | None = None
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.replies: list[str] = []

    async def attach(self, url: str) -> None:
        self.ws = await connect(url.replace("http://", "ws://") + "/api/v1/events")
        hello: dict[str, Any] = {"type": "hello", "token": self.token, "topics": TOPICS}
        if self.last_seq is not None:
            hello.update(last_seq=self.last_seq, hub_id=self.hub_id)
        await self.ws.send(json.dumps(hello))
        first = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        self.replies.append(first["type"])
        self.hub_id = first["hub_id"]
        self.last_seq = first["seq"] if first["type"] == "snapshot" else first["from_seq"]
        self.task = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                msg = json.loads(raw)
                if "." in msg["type"]:
                    self.events.append(msg)  # a duplicate would show in seqs()
                    self.last_seq = msg["seq"]
                elif msg["type"] == "heartbeat":
                    self.last_seq = max(self.last_seq or 0, msg["seq"])

    async def dropped(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.ws is not None:
            await self.ws.close()

    def seqs(self, after: int, upto: int) -> list[int]:
        return [e["seq"] for e in self.events if after < e["seq"] <= upto]


@contextlib.asynccontextmanager
async def group(tmp_path: Path, dsn: str, url: str, token: str) -> AsyncIterator[list[HubProcess]]:
    config = write_config(tmp_path / "hub.toml", url)
    procs = [
        HubProcess(config, dsn, free_port(), token, tmp_path / f"replica{i}.log") for i in range(3)
    ]
    try:
        readies = await asyncio.gather(*(p.start() for p in procs))
        for proc, ready in zip(procs, readies, strict=True):
            proc.replica = ready["replica"]  # type: ignore[attr-defined]
        yield procs
    finally:
        for proc in procs:
            if proc.proc is not None and proc.proc.returncode is None:
                await proc.terminate()


async def test_sigkill_of_the_checking_replica(tmp_path: Path, postgres_server: PgServer) -> None:
    target = Target()
    await target.server.start()
    token = secrets.token_urlsafe(24)
    clients: list[Client] = []
    try:
        with fresh_database(postgres_server) as dsn:
            async with group(tmp_path, dsn, target.server.url, token) as procs:
                owner = await poll(lambda: owner_of(dsn, "api"))
                victim = next(p for p in procs if p.replica == owner)  # type: ignore[attr-defined]
                others = [p for p in procs if p is not victim]
                mine: list[Client] = []
                for proc in procs:
                    for _ in range(2):
                        client = Client(token)
                        await client.attach(proc.url)
                        clients.append(client)
                        if proc is victim:
                            mine.append(client)
                watcher = next(c for c in clients if c not in mine)

                await victim.kill()
                killed_at = time.time()
                target.status = 503  # the outage starts while the group is one short

                await poll(lambda: checks_since(dsn, killed_at) > 0)
                taken_over = time.time() - killed_at
                assert taken_over <= INTERVAL, f"checked again after {taken_over:.2f}s"
                assert owner_of(dsn, "api") in {p.replica for p in others}  # type: ignore[attr-defined]

                # exactly one alert: wait out a few more checks and alert ticks first
                await poll(lambda: any(e["type"] == "alert.fired" for e in watcher.events))
                seen = checks_since(dsn, killed_at)
                await poll(lambda: checks_since(dsn, killed_at) >= seen + 2)
                fired = [
                    e for e in watcher.events
                    if e["type"] == "alert.fired" and e["data"]["alert"]["service"] == "api"
                ]  # fmt: skip
                assert len(fired) == 1

                # the victim's clients resume on the others: no gap, no duplicate
                for client in mine:
                    await client.dropped()
                for i, client in enumerate(mine):
                    await client.attach(others[i % 2].url)
                    assert client.replies[-1] == "resumed"

                # restarted, the replica rejoins the group
                await victim.start()
                await poll(lambda: len(members(dsn)) == 3)
                late = Client(token)
                late.last_seq, late.hub_id = watcher.last_seq, watcher.hub_id
                await late.attach(victim.url)
                clients.append(late)
                assert late.replies == ["resumed"]

                target.status = 200  # a change the whole group, the newcomer too, must carry
                await poll(
                    lambda: all(
                        any(
                            e["type"] == "service.health_changed"
                            and e["data"]["current"]["status"] == "healthy"
                            for e in c.events
                        )
                        for c in clients
                    )
                )
                final = min(c.last_seq or 0 for c in clients)
                start = max(min(e["seq"] for e in c.events) for c in clients if c.events)
                reference = watcher.seqs(start - 1, final)
                assert reference, "no events recorded"
                for client in clients:
                    if client is late:
                        assert client.seqs(start - 1, final) == [
                            s for s in reference if s > (late.events[0]["seq"] - 1)
                        ]
                    else:
                        assert client.seqs(start - 1, final) == reference
    finally:
        for client in clients:
            await client.close()
        await target.server.close()
