"""Child process for ``test_windows_xvfb.py``: every detail window over the simulated studio.

Starts the app's embedded hub with the simulator (``EmbeddedHub(demo=True)``: the real
``studio-status hub --simulate`` in this process, as ``studio-status demo`` runs it), posts
two external systems as a collector would, lets the studio run, opens each window against
the live store and saves ``window-<name>-<theme>.png`` in ARTIFACTS_DIR. Prints one JSON
line per window (``{"event": "shot", ...}``) and ``{"event": "done"}``.
Run as ``python -m tests.ui.windows_shots ARTIFACTS_DIR WORK_DIR [SECONDS [NAMES [SUFFIX]]]``:
NAMES (comma-separated) limits the windows; with them, windows keep the size they open
at (fitted to the screen, as a user sees them) and each shot reports its geometry and the
screen's free area, and is saved as ``window-<name>-<theme><SUFFIX>.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import qasync
from PySide6.QtWidgets import QApplication

from studio_status.client.details import Details
from studio_status.client.state import ConnectionState, StatusStore
from studio_status.client.stream import StatusClient
from studio_status.embedded import EmbeddedHub
from studio_status.protocol import utcnow
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import DARK, LIGHT, Theme
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore
from studio_status.ui.workarea import available_geometry

WINDOWS = (
    "services",
    "service:database",
    "jobs",
    "uptime",
    "checklist",
    "cloud_gpu",
    "activity",
    "pulse",
    "systems",
)
SIZES = {
    "services": (860, 430),
    "service:database": (900, 700),
    "jobs": (980, 680),
    "uptime": (1000, 520),
    "checklist": (760, 480),
    "cloud_gpu": (980, 720),
    "activity": (760, 620),
    "pulse": (860, 520),
    "systems": (1000, 760),
}


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def _system(cpu: float, gpu: float, running: int, pending: int, name: str) -> dict[str, object]:
    if name == "derecho":
        compute = [
            {
                "name": "cpu",
                "nodes_total": 2488,
                "nodes_available": 2401,
                "nodes_down": 9,
                "nodes_reserved": 78,
                "cores_per_node": 128,
                "memory_gb_per_node": 256,
                "cpu_percent": cpu,
            },
            {
                "name": "gpu",
                "nodes_total": 82,
                "nodes_available": 77,
                "nodes_down": 1,
                "cores_per_node": 64,
                "memory_gb_per_node": 512,
                "gpu_model": "A100",
                "gpus_per_node": 4,
                "gpu_percent": gpu,
            },
        ]
        queues = [
            {
                "name": "main",
                "running_jobs": running - 120,
                "pending_jobs": pending - 40,
                "active_users": 212,
            },
            {"name": "preempt", "running_jobs": 80, "pending_jobs": 30, "active_users": 31},
            {"name": "develop", "running_jobs": 40, "pending_jobs": 10, "active_users": 25},
        ]
        fs = [
            {"name": "glade", "capacity_tb": 38000, "used_tb": 29500, "utilization_percent": 78},
            {
                "name": "campaign",
                "capacity_tb": 120000,
                "used_tb": 91000,
                "utilization_percent": 76,
            },
            {
                "name": "scratch",
                "capacity_tb": 60000,
                "used_tb": 55000,
                "degraded": True,
                "utilization_percent": 92,
            },
        ]
        logins = [
            {"name": f"derecho{i}", "users": 30 + i * 7, "load": 2.5 + i} for i in range(1, 7)
        ]
    else:
        compute = [
            {
                "name": "standard",
                "nodes_total": 64,
                "nodes_available": 60,
                "nodes_down": 1,
                "cores_per_node": 36,
                "memory_gb_per_node": 192,
                "cpu_percent": cpu,
            },
            {
                "name": "bigmem",
                "nodes_total": 8,
                "nodes_available": 8,
                "cores_per_node": 64,
                "memory_gb_per_node": 768,
                "cpu_percent": 40,
            },
            {
                "name": "gpu-a100",
                "nodes_total": 10,
                "nodes_available": 9,
                "nodes_down": 1,
                "gpu_model": "A100",
                "gpus_per_node": 4,
                "gpu_percent": gpu,
            },
            {
                "name": "gpu-v100",
                "nodes_total": 12,
                "nodes_available": 12,
                "gpu_model": "V100",
                "gpus_per_node": 4,
                "gpu_percent": 51,
            },
        ]
        queues = [
            {
                "name": "casper",
                "running_jobs": running,
                "pending_jobs": pending,
                "active_users": 90,
            },
            {"name": "gpudev", "running_jobs": 12, "pending_jobs": 3, "active_users": 9},
        ]
        fs = []
        logins = [{"name": f"casper-login{i}", "users": 20 + i} for i in range(1, 3)]
    return {
        "availability": "online",
        "login_nodes": logins,
        "compute": compute,
        "utilization": {"cpu_percent": cpu, "gpu_percent": gpu, "memory_percent": 58},
        "jobs": {"running": running, "pending": pending},
        "active_users": 268 if name == "derecho" else 99,
        "queues": queues,
        "filesystems": fs,
    }


async def _collector(url: str, token: str) -> None:
    now = utcnow()
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as http:
        for name, args in (("derecho", (81, 64, 1240, 380)), ("casper", (55, 72, 310, 45))):
            r = await http.post(f"/api/v1/status/{name}", json=_system(*args, name=name))
            r.raise_for_status()
        await http.post(
            "/api/v1/status/outage",
            json={
                "system": "derecho",
                "component": "scratch",
                "severity": "minor",
                "status": "monitoring",
                "title": "scratch filesystem slow under load",
                "start_time": (now - timedelta(hours=2)).isoformat(),
            },
        )
        await http.post(
            "/api/v1/status/reservation",
            json={
                "system": "derecho",
                "name": "climate-hackathon",
                "node_count": 128,
                "partition": "cpu",
                "start_time": (now + timedelta(days=1)).isoformat(),
                "end_time": (now + timedelta(days=2)).isoformat(),
            },
        )


async def _until(cond: Callable[[], bool], limit: float = 20.0) -> bool:
    async with asyncio.timeout(limit):
        while True:  # widget conditions have no event to await
            if cond():
                return True
            await asyncio.sleep(0.05)


async def main(
    artifacts: Path,
    work: Path,
    seconds: float,
    names: tuple[str, ...] = WINDOWS,
    suffix: str = "",
) -> None:
    fit = names != WINDOWS
    hub = EmbeddedHub(demo=True, database=work / "hub.sqlite3")
    await hub.start()
    store = StatusStore()
    client = StatusClient(hub.url, store, token=hub.token)
    client.start()
    feed = StateFeed(store)
    details = Details(client.rest, store, client, min_interval=0.5)
    try:
        await _until(lambda: store.state.connection is ConnectionState.LIVE)
        await _collector(hub.url, hub.token)
        await asyncio.sleep(seconds)  # let the studio run: jobs, pods, a flapping service
        themes: tuple[Theme, ...] = (LIGHT, DARK)
        for theme in themes:
            ctx = WindowContext(
                feed,
                details=details,
                geometry=GeometryStore(work / f"windows-{theme.name}.json"),
                theme=theme,
                reconnect=client.kick,
            )
            opener = WindowOpener(context=ctx)
            for name in names:
                window = opener.open(name)
                if not fit:
                    window.resize(*SIZES[name])
                pane = getattr(window, "pane", None)
                with contextlib.suppress(TimeoutError):
                    await _until(lambda p=pane: p is None or p.state is not PaneState.LOADING)
                if name == "service:database":  # show a diagnose run and its audit line
                    window.on_action_clicked("diagnose")  # type: ignore[attr-defined]
                    await _until(lambda w=window: "diagnose" in w.audit.item(0).text())
                await asyncio.sleep(1.2)  # one more refresh round and a repaint
                if name == "uptime":
                    chart = window.chart  # type: ignore[attr-defined]
                    for payload in (
                        s.payload for b in chart.data.bands for s in b.spans if s.payload
                    ):
                        chart.span_clicked.emit(payload)
                        break
                path = artifacts / f"window-{name.replace(':', '-')}-{theme.name}{suffix}.png"
                window.grab().save(str(path))
                g, frame = window.geometry(), window.frameGeometry()
                screen = window.screen()
                area = available_geometry(screen)
                say(
                    event="shot",
                    window=name,
                    theme=theme.name,
                    path=str(path),
                    state=getattr(pane, "state", PaneState.CONTENT).value,
                    message=getattr(pane, "message", ""),
                    geometry=[g.x(), g.y(), g.width(), g.height()],
                    frame=[frame.x(), frame.y(), frame.width(), frame.height()],
                    area=[area.x(), area.y(), area.width(), area.height()],
                    scale=screen.devicePixelRatio(),
                )
                window.close()
                await asyncio.sleep(0.1)
    finally:
        feed.close()
        await details.aclose()
        await client.aclose()
        await hub.stop()
    say(event="done")


if __name__ == "__main__":
    app = QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 25.0
    only = tuple(sys.argv[4].split(",")) if len(sys.argv) > 4 else WINDOWS
    suffix = sys.argv[5] if len(sys.argv) > 5 else ""
    Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
    with loop:
        loop.run_until_complete(main(Path(sys.argv[1]), Path(sys.argv[2]), seconds, only, suffix))
