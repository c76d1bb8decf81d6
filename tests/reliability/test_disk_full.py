"""A real full disk under a running hub: its database on a small tmpfs, filled to the brim.

Writes that need the database answer 503 with the cause, reads keep serving, the fault is
logged once for the episode (however many requests hit it), and the hub recovers by itself
once space is back.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, run_hub
from tests.smallfs import tmpfs


def fill(where: Path) -> Path:
    """Take every free block of the filesystem at ``where``; the file gives them back."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        size = 1 << 16
        while size:  # big writes while they fit, then ever smaller ones for the last blocks
            try:
                os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                size //= 2
    finally:
        os.close(fd)
    return filler


def dashboard(n: int) -> dict[str, object]:
    # big enough that SQLite needs new pages (and its WAL new blocks) to save it
    return {"layout": [], "preferences": {f"k{i}": "x" * 200 for i in range(n)}}


async def test_disk_full_is_503_reads_serve_logged_once_and_recovers(
    tmp_path: Path, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with tmpfs(tmp_path / "small", size_kb=2048) as small:
        async with run_hub(
            tmp_path, [http_service("api", f"{target.url}/")], database=small / "hub.sqlite3"
        ) as running:
            creator = await running.token(Role.CREATOR)
            await running.hub.writer.flush()
            filler = fill(small)
            async with running.http(creator) as http:
                for n in range(10):
                    r = await http.put("/user/dashboard", json=dashboard(20 + n))
                    assert r.status_code == 503, r.text
                    assert "disk is full" in r.json()["detail"]
                    assert int(r.headers["retry-after"]) >= 1
                    footer = await http.get("/api/v1/status/footer")
                    assert footer.status_code == 200
                    assert (await http.get("/user/dashboard")).status_code == 200
                failing = [r for r in caplog.records if "storage failing" in r.getMessage()]
                assert len(failing) == 1, [r.getMessage() for r in failing]
                held = [r for r in caplog.records if "not persisted" in r.getMessage()]
                assert len(held) <= 1, [r.getMessage() for r in held]  # the alert loop too
                async with running.http() as anonymous:
                    assert (await anonymous.get("/health")).json()["status"] == "degraded"
                filler.unlink()
                r = await http.put("/user/dashboard", json=dashboard(20))
                assert r.status_code == 200, r.text
                assert (await http.get("/user/dashboard")).json()["data"]["is_default"] is False
