"""GPU costs and external systems windows over a real hub, data pushed through its API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import qasync

from studio_status.protocol import CloudPod, Role
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows.costs import CostsWindow, merge_pods, pod_uptime
from studio_status.ui.windows.systems import SystemsWindow

from .live import live_studio, until

PODS = {
    "provider": "runpod",
    "pods": [
        {
            "id": "p1",
            "name": "lookdev-a100",
            "status": "RUNNING",
            "cost_per_hour": 1.64,
            "gpu_type": "A100 80GB",
            "gpu_count": 1,
            "uptime_seconds": 5400,
            "gpu_util_percent": 87,
        },
        {
            "id": "p2",
            "name": "trailer-4090",
            "status": "RUNNING",
            "cost_per_hour_cents": 44,
            "gpu_type": "RTX 4090",
            "gpu_count": 2,
            "uptime_seconds": 600,
        },
    ],
}

SNAPSHOT = {
    "availability": "online",
    "login_nodes": [{"name": "login1", "users": 40}, {"name": "login2", "available": False}],
    "compute": [
        {
            "name": "cpu",
            "nodes_total": 2488,
            "nodes_available": 2300,
            "nodes_down": 12,
            "cores_per_node": 128,
            "cpu_percent": 81,
        }
    ],
    "utilization": {"cpu_percent": 81, "gpu_percent": 64, "memory_percent": 55},
    "jobs": {"running": 1200, "pending": 340},
    "active_users": 310,
    "queues": [{"name": "main", "running_jobs": 1000, "pending_jobs": 300, "active_users": 250}],
    "filesystems": [
        {"name": "scratch", "capacity_tb": 60000, "used_tb": 42000, "utilization_percent": 70}
    ],
}


def test_costs_window_pods_rate_and_empty_state(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            opener = live.opener()
            win = opener.open("cloud_gpu")
            assert isinstance(win, CostsWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            assert win.empty_pods.text() == "No pods running" and not win.pods.isVisible()
            async with live.hub.http(live.hub.admin_token) as http:
                resp = await http.post("/api/v1/cloud/pods", json=PODS)
                assert resp.status_code == 200, resp.text
            await until(lambda: win.pods.topLevelItemCount() == 2)
            rows = [
                [win.pods.topLevelItem(i).text(c) for c in range(6)]  # type: ignore[union-attr]
                for i in range(2)
            ]
            assert rows[0] == [
                "lookdev-a100",
                "1× A100 80GB",
                "$1.64/hr",
                "1 h 30 min",
                "running",
                "87%",
            ]
            assert rows[1][1] == "2× RTX 4090" and rows[1][5] == "—"
            # the provider's next report (same statuses: no event) is what the table shows,
            # not the figures the first status event carried
            later = {**PODS, "pods": [dict(PODS["pods"][0]), dict(PODS["pods"][1])]}
            later["pods"][1].update(uptime_seconds=4000, gpu_util_percent=50)  # type: ignore[index]
            async with live.hub.http(live.hub.admin_token) as http:
                resp = await http.post("/api/v1/cloud/pods", json=later)
                assert resp.status_code == 200, resp.text
            win.refresh()
            await until(
                lambda: win.pods.topLevelItem(1).text(5) == "50%"  # type: ignore[union-attr]
            )
            assert win.pods.topLevelItem(1).text(3) == "1 h 06 min"  # type: ignore[union-attr]
            await until(lambda: win.cards["Rate now"].value == "$2.08/hr")
            assert win.subtitle.text().startswith("2 running · $2.08/hr")
            assert win.chart.data is not None and win.chart.data.line is not None
            # where pods come from, in words (not "push, healthy")
            assert win.sources.text().startswith(
                "Pods come from: runpod (sends its pods, answering"
            )
            win.period_buttons[168].click()
            assert "costs:168" in live.details.watched
            win.close()

    qloop.run_until_complete(scenario())


def test_systems_window_tab_cards_and_staleness(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            opener = live.opener()
            win = opener.open("systems")
            assert isinstance(win, SystemsWindow)
            await until(lambda: win.pane.state is PaneState.EMPTY)
            assert "No external systems" in win.pane.message
            async with live.hub.http(live.hub.admin_token) as http:
                resp = await http.post("/api/v1/status/derecho", json=SNAPSHOT)
                assert resp.status_code in (200, 201), resp.text
            win.refresh()  # F5: the systems list (a new system is not an event)
            await until(lambda: "derecho" in win.pages and win.pages["derecho"].cards)
            page = win.pages["derecho"]
            assert page.cards["CPU utilisation"].value == "81 %"
            assert page.cards["Jobs running"].value == "1,200"
            assert page.cards["Login nodes"].value == "1/2"
            assert page.updated.text().startswith("Last updated")
            assert "system:derecho" in live.details.watched
            win.close()

    qloop.run_until_complete(scenario())


def test_costs_absent_for_a_creator(qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, role=Role.CREATOR) as live:
            win = live.opener().open("cloud_gpu")
            assert isinstance(win, CostsWindow)
            await until(lambda: win.pane.state is PaneState.EMPTY)
            assert "admins only" in win.pane.message
            assert not live.details.watched
            win.close()

    qloop.run_until_complete(scenario())


def test_pod_uptime_runs_on_between_reports() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    pod = CloudPod(id="p", status="RUNNING", uptime_seconds=0)
    assert pod_uptime(pod, now - timedelta(minutes=7), now) == 420.0  # not "0 s"
    stopped = pod.model_copy(update={"status": "EXITED", "uptime_seconds": 90})
    assert pod_uptime(stopped, now - timedelta(minutes=7), now) == 90.0
    assert pod_uptime(pod.model_copy(update={"uptime_seconds": None}), now, now) is None


def test_live_pod_events_do_not_hide_later_readings() -> None:
    fetched = [CloudPod(id="p", status="RUNNING", uptime_seconds=600, gpu_util_percent=80)]
    event = CloudPod(id="p", status="RUNNING", uptime_seconds=0)
    assert merge_pods(fetched, {"p": event})["p"].gpu_util_percent == 80
    moved = CloudPod(id="p", status="EXITED")
    assert merge_pods(fetched, {"p": moved})["p"].status == "EXITED"


def test_systems_empty_state_speaks_the_apps_terms(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            win = live.opener().open("systems")
            assert isinstance(win, SystemsWindow)
            await until(lambda: win.pane.state is PaneState.EMPTY)
            message = win.pane.message
            assert "/api/" not in message and "POST" not in message
            assert "collector" in message and "appears here" in message
            win.close()

    qloop.run_until_complete(scenario())
