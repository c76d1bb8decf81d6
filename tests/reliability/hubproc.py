"""A real hub in a child process (``python -m studio_status hub``), for crash tests.

The hub is started on a fixed loopback port (so a client's base URL survives a restart),
its stderr goes to a file the test can read, and it can be killed with SIGKILL (no
shutdown code runs at all) or stopped with SIGTERM (uvicorn's graceful path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio_status.cli import BOOTSTRAP_ENV


@dataclass
class HubProcess:
    config: Path
    database: Path | str  # a SQLite file or a postgresql:// URL
    port: int
    token: str
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    proc: asyncio.subprocess.Process | None = None
    hub_id: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, limit: float = 30.0) -> dict[str, Any]:
        env = {**os.environ, BOOTSTRAP_ENV: self.token, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "studio_status",
                "hub",
                "--config",
                str(self.config),
                "--port",
                str(self.port),
                "--database",
                str(self.database),
                *self.extra_args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=env,
            )
        assert self.proc.stdout is not None
        async with asyncio.timeout(limit):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"hub exited before ready:\n{self.log_path.read_text()}")
                with contextlib.suppress(ValueError):
                    ready: dict[str, Any] = json.loads(line)
                    if ready.get("event") == "ready":
                        self.hub_id = ready["hub_id"]
                        return ready

    async def kill(self) -> None:
        """SIGKILL: nothing in the hub gets to run, as in a power cut of the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)

    async def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 20)


def open_db(path: Path) -> sqlite3.Connection:
    """The hub's database as another process would open it after a crash (WAL recovery)."""
    conn = sqlite3.connect(path, timeout=10)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return conn


def open_windows(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT service_name, COUNT(*) FROM uptime_records WHERE ended_at IS NULL"
        " GROUP BY service_name"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def windows_by_service(conn: sqlite3.Connection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, status in conn.execute(
        "SELECT service_name, status FROM uptime_records ORDER BY id"
    ).fetchall():
        out.setdefault(name, []).append(status)
    return out


def health_events(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    """Every stored ``service.health_changed`` by seq."""
    return {
        seq: json.loads(data)
        for seq, data in conn.execute(
            "SELECT seq, data_json FROM events WHERE type = 'service.health_changed' ORDER BY seq"
        ).fetchall()
    }


def stored_events(conn: sqlite3.Connection) -> dict[int, tuple[str, Any]]:
    return {
        seq: (kind, json.loads(data))
        for seq, kind, data in conn.execute(
            "SELECT seq, type, data_json FROM events ORDER BY seq"
        ).fetchall()
    }
