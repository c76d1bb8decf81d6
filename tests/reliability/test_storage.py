"""Storage failing under a running hub: read-only, then full; and the writer's batches.

Faults are made in SQLite itself on the hub's own connection (``PRAGMA query_only`` gives
the error a read-only file gives; ``PRAGMA max_page_count`` the one a full disk gives),
since tests run as root, for whom a read-only file is still writable, and a loop-mounted
file system needs privileges a test must not assume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from studio_status.hub.store.sqlite import CheckWrite
from studio_status.hub.writer import StoreWriter
from studio_status.protocol import Event, HealthStatus, Role, Topic
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, recv_until, run_hub

Fault = Callable[[sqlite3.Connection], Any]


def read_only(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA query_only = ON")


def disk_full(conn: sqlite3.Connection) -> None:
    conn.execute("VACUUM")  # no free pages left to reuse
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def repaired(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA query_only = OFF")
    conn.execute("PRAGMA max_page_count = 1073741823")


def windows(db: Path, service: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT status FROM uptime_records WHERE service_name = ? ORDER BY id", (service,)
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("fault", [read_only, disk_full], ids=["read-only", "disk-full"])
async def test_hub_serves_from_memory_while_storage_fails(
    tmp_path: Path, target: Target, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        hub = running.hub
        await hub.writer.flush()
        db = hub.config.database_path()
        attempts: list[asyncio.Event] = []
        real_write = hub.store.write_batch

        async def counted(*args: Any, **kwargs: Any) -> None:
            try:
                await real_write(*args, **kwargs)
            finally:
                for event in attempts:
                    event.set()

        hub.store.write_batch = counted  # type: ignore[method-assign]

        async def failed_attempts(n: int) -> None:
            for _ in range(n):
                done = asyncio.Event()
                attempts.append(done)
                await asyncio.wait_for(done.wait(), 10)
                attempts.remove(done)

        admin = await running.token(Role.ADMIN)
        async with (
            running.http() as public,
            running.http(admin) as http,
            running.socket(admin, [Topic.HEALTH]) as ws,
        ):
            await recv_until(ws, "snapshot")
            for episode in range(2):
                caplog.clear()
                await hub.store.run(fault)
                target.status = 500 if episode == 0 else 200
                await hub.recheck("api")
                for _ in range(500):  # a full disk shows once a write needs a new page
                    await failed_attempts(1)
                    if hub.writer.failing:
                        break
                    await hub.recheck("api")
                await failed_attempts(1)  # a second failure, not logged again
                assert hub.writer.failing
                # live state from memory: REST, the socket, /health says degraded
                assert (await public.get("/health")).json() == {"status": "degraded"}
                detail = (await http.get("/admin/health")).json()["data"]["services"]
                expected = "down" if episode == 0 else "healthy"
                assert detail[0]["status"] == expected
                event = await recv_until(ws, "service.health_changed")
                assert event["data"]["current"]["status"] == expected
                failing = [r for r in caplog.records if "storage failing" in r.getMessage()]
                assert len(failing) == 1, "log once per episode"

                await hub.store.run(repaired)
                await asyncio.wait_for(hub.writer.flush(), 10)
                assert not hub.writer.failing
                assert (await public.get("/health")).json() == {"status": "healthy"}
                recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
                assert len(recovered) == 1
                noisy = [
                    r
                    for r in caplog.records
                    if r.levelno >= logging.WARNING and "storage" not in r.getMessage()
                ]
                assert len(noisy) <= 1, [r.getMessage() for r in noisy]
        assert windows(db, "api") == ["healthy", "down", "healthy"]


class BatchStore:
    """Stands in for the store to show how the writer cuts batches."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, int]] = []

    async def write_batch(
        self, checks: Sequence[CheckWrite], events: Sequence[Event], *_: Any
    ) -> None:
        self.batches.append((len(checks), len(events)))


async def test_a_check_and_its_events_share_one_transaction() -> None:
    store = BatchStore()
    no_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    writer = StoreWriter(store, max_batch=1, sleep=no_sleep)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    for seq in (1, 3):
        writer.add_check(CheckWrite("api", HealthStatus.DOWN, 1, None, {}, now))
        writer.add_event(Event(seq=seq, type="service.health_changed", ts=now, data={}))
        writer.add_event(Event(seq=seq + 1, type="status.footer_changed", ts=now, data={}))
    task = asyncio.create_task(writer.run())
    try:
        await asyncio.wait_for(writer.flush(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert store.batches == [(1, 2), (1, 2)]
