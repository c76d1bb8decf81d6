"""External-systems routes on a real hub: every validation path names its field, the
manage-status permission, concurrent posts of one timestamp, reads, events."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio_status.protocol import Role
from tests.hubrunner import recv_until, run_hub

GOOD: dict[str, Any] = {
    "availability": "online",
    "login_nodes": [{"name": "casper-login1", "available": True, "users": 31, "load": 3.2}],
    "compute": [
        {
            "name": "gpu-a100",
            "nodes_total": 10,
            "nodes_available": 2,
            "nodes_down": 1,
            "nodes_reserved": 2,
            "nodes_allocated": 5,
            "gpu_model": "A100",
            "gpus_per_node": 4,
        },
        {"name": "bigmem", "nodes_total": 8, "nodes_available": 8},
    ],
    "utilization": {"cpu_percent": 55.0, "gpu_percent": 88.0, "memory_percent": 40.0},
    "jobs": {"running": 420, "pending": 77},
    "active_users": 96,
    "queues": [{"name": "casper", "running_jobs": 400, "pending_jobs": 70}],
    "filesystems": [{"name": "glade", "available": True, "utilization_percent": 81}],
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def problems(response: httpx.Response) -> str:
    """FastAPI's 422 detail as ``field.path: message`` lines."""
    return "\n".join(
        ".".join(str(p) for p in e["loc"][1:]) + ": " + e["msg"] for e in response.json()["detail"]
    )


BAD: list[tuple[dict[str, Any], str]] = [
    (with_(jobs={"running": -1}), "jobs.running"),
    (with_(utilization={"cpu_percent": 150}), "utilization.cpu_percent"),
    (with_(availability="sideways"), "availability"),
    (
        with_(compute=[{"name": "cpu", "nodes_total": 4, "nodes_available": 5}]),
        "nodes_available (5) exceeds nodes_total",
    ),
    (
        with_(compute=[{"name": "cpu", "nodes_total": 4, "nodes_available": 3, "nodes_down": 2}]),
        "nodes_available + nodes_down",
    ),
    (with_(compute=[{"name": "cpu"}]), "compute.0.nodes_total"),
    (with_(queues=[{"name": "a"}, {"name": "a"}]), "queues.1.name: duplicate"),
    (with_(filesystems=[{"name": "glade", "capacity_tb": 1, "used_tb": 2}]), "used_tb exceeds"),
    (with_(login_nodes=[{"name": ""}]), "login_nodes.0.name"),
    (with_(gpus=3), "gpus"),  # unknown field: named, not silently dropped
    (with_(timestamp="yesterday-ish"), "timestamp"),
]


async def test_ingest_validation_permission_reads_and_events(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http(h.admin_token) as admin, h.socket(creator, ["system"]) as ws:
            await recv_until(ws, "snapshot")
            for body, field in BAD:
                bad = await admin.post("/api/v1/status/casper", json=body)
                assert bad.status_code == 422 and field in problems(bad), (field, bad.text)
            future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            bad = await admin.post("/api/v1/status/casper", json=with_(timestamp=future))
            assert bad.status_code == 422 and "timestamp" in bad.text
            assert (await admin.post("/api/v1/status/Casper", json=GOOD)).status_code == 422
            assert (await admin.post("/api/v1/status/disk", json=GOOD)).status_code == 409
            assert (await admin.post("/api/v1/status/footer", json=GOOD)).status_code == 404

            ok = await admin.post("/api/v1/status/casper", json=GOOD)
            assert ok.status_code == 201, ok.text
            assert ok.json()["data"]["status"] == "healthy"
            event = await recv_until(ws, "system.snapshot")
            assert event["data"]["system"] == "casper"
            assert event["data"]["summary"]["jobs_running"] == 420

            outage = await admin.post(
                "/api/v1/status/outage",
                json={
                    "system": "casper",
                    "component": "glade",
                    "severity": "minor",
                    "title": "slow metadata",
                },
            )
            assert outage.status_code == 200 and outage.json()["data"]["status"] == "investigating"
            assert (await recv_until(ws, "system.outage_changed"))["data"]["outage"]["title"] == (
                "slow metadata"
            )
            now = datetime.now(UTC)
            reservation = {
                "system": "casper",
                "name": "workshop",
                "start_time": (now + timedelta(days=1)).isoformat(),
                "end_time": (now + timedelta(days=1, hours=4)).isoformat(),
                "node_count": 4,
                "partition": "gpu-a100",
            }
            made = await admin.post("/api/v1/status/reservation", json=reservation)
            assert made.status_code == 201
            again = await admin.post("/api/v1/status/reservation", json=reservation)
            assert again.status_code == 200
            backwards = await admin.post(
                "/api/v1/status/reservation",
                json={**reservation, "end_time": reservation["start_time"]},
            )
            assert backwards.status_code == 422 and "end_time" in backwards.text

            health = (await admin.get("/admin/health/casper")).json()["data"]["service"]
            assert (health["kind"], health["status"]) == ("system", "degraded")
            assert "slow metadata" in health["error_message"]

        async with h.http(creator) as reader:
            refused = await reader.post("/api/v1/status/casper", json=GOOD)
            assert refused.status_code == 403
            assert (
                await reader.post("/api/v1/status/outage", json={"system": "casper", "title": "x"})
            ).status_code == 403
            latest = (await reader.get("/api/v1/status/casper/latest")).json()["data"]
            assert latest["status"] == "degraded" and latest["stale"] is False
            assert latest["snapshot"]["compute"][0]["gpu_model"] == "A100"
            assert [o["title"] for o in latest["outages"]] == ["slow metadata"]
            assert [r["name"] for r in latest["reservations"]] == ["workshop"]
            assert (await reader.get("/api/v1/status/derecho/latest")).status_code == 404
            history = (await reader.get("/api/v1/status/casper/history?hours=1")).json()["data"]
            assert [p["gpu_percent"] for p in history] == [88.0]
            systems = (await reader.get("/api/v1/status/systems")).json()["data"]
            assert [(s["system"], s["status"], s["active_outages"]) for s in systems] == [
                ("casper", "degraded", 1)
            ]
            outages = (await reader.get("/api/v1/status/outages?system=casper")).json()["data"]
            assert [o["component"] for o in outages] == ["glade"]
            reservations = (await reader.get("/api/v1/status/reservations")).json()["data"]
            assert [r["node_count"] for r in reservations] == [4]
        async with h.http() as anonymous:
            assert (await anonymous.post("/api/v1/status/casper", json=GOOD)).status_code == 401
            assert (await anonymous.get("/api/v1/status/systems")).status_code == 401


@pytest.mark.parametrize("writers", [12])
async def test_concurrent_posts_of_one_timestamp_converge(tmp_path: Path, writers: int) -> None:
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    async with run_hub(tmp_path, []) as h:
        async with h.http(h.admin_token) as admin:
            answers = await asyncio.gather(
                *(
                    admin.post(
                        "/api/v1/status/derecho",
                        json=with_(
                            timestamp=stamp,
                            jobs={"running": n, "pending": n},
                            queues=[
                                {"name": "main", "running_jobs": n},
                                {"name": "develop", "running_jobs": n},
                            ],
                        ),
                    )
                    for n in range(writers)
                )
            )
            assert sorted(a.status_code for a in answers) == [200] * (writers - 1) + [201]
            latest = (await admin.get("/api/v1/status/derecho/latest")).json()["data"]
        conn = sqlite3.connect(tmp_path / "hub.sqlite3")
        try:
            assert conn.execute("SELECT COUNT(*) FROM system_snapshots").fetchone()[0] == 1
            queues = conn.execute(
                "SELECT name, json_extract(data_json, '$.running_jobs') FROM system_components"
                " WHERE kind = 'queue' ORDER BY name"
            ).fetchall()
        finally:
            conn.close()
        n = latest["snapshot"]["jobs"]["running"]
        assert queues == [("develop", n), ("main", n)]  # one post's rows, never a mix
