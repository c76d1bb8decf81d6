"""Studio pulse routes on a real hub: widgets, the activity feed (stored and live, per
role), the per-token dashboard document, and job intake while the platform is not ready."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from studio_status.hub.routes_dashboard import disk_level, project_colour
from studio_status.protocol import (
    Alert,
    AlertFired,
    AlertState,
    HealthStatus,
    Role,
    utcnow,
)
from studio_status.protocol.dashboard import ProgressColour
from tests.hubrunner import recv_until, run_hub


async def push(http: httpx.AsyncClient, n: list[int], job_id: str, kind: str, **kw: Any) -> None:
    n[0] += 1
    r = await http.post(
        "/api/v1/jobs/events", json={"event_id": f"e{n[0]}", "kind": kind, "job_id": job_id, **kw}
    )
    assert r.status_code == 200 and r.json()["data"]["applied"], r.text


def test_thresholds() -> None:
    assert project_colour(76, False) is ProgressColour.GREEN
    assert project_colour(75, False) is ProgressColour.YELLOW
    assert project_colour(50, False) is ProgressColour.YELLOW
    assert project_colour(49.9, False) is ProgressColour.RED
    assert project_colour(100, True) is ProgressColour.RED
    assert [disk_level(p) for p in (79.9, 80, 89.9, 90)] == ["ok", "warning", "warning", "critical"]


async def test_widgets_feed_and_live_activity(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        n = [0]
        async with (
            h.http(h.admin_token) as admin,
            h.http(creator) as http,
            h.socket(creator, ["activity", "activity_admin"]) as ws,
        ):
            await recv_until(ws, "snapshot")
            await push(admin, n, "j1", "started", project="trailer", type="img2vid")
            await push(admin, n, "j1", "progress", progress=40)
            await push(admin, n, "j2", "created", project="trailer", queue_position=1)
            await push(admin, n, "j3", "started", project="trailer")
            await push(admin, n, "j3", "completed")
            await push(admin, n, "j4", "started", project="spot", type="upscale")
            await push(admin, n, "j4", "failed", error="CUDA out of memory")
            for i in range(3):
                await push(admin, n, f"y{i}", "completed", project="lookdev")
            await push(admin, n, "y9", "started", project="lookdev")
            # an alert concerns infrastructure: only admins hear of it
            h.hub.bus.publish(
                "alert.fired",
                AlertFired(alert=Alert(id="a1", service="comfyui", state=AlertState.FIRING,
                                       status=HealthStatus.DOWN, fired_at=utcnow())),
            )  # fmt: skip

            live = await recv_until(ws, "activity.created")
            while live["data"]["item"]["category"] == "system":  # "platform ready", maybe
                live = await recv_until(ws, "activity.created")
            item = live["data"]["item"]
            assert (item["kind"], item["entity_type"], item["entity_id"]) == (
                "job.completed", "job", "j3"
            )  # fmt: skip

            tasks = (await http.get("/dashboard/widgets/active-tasks?recent_completed=1")).json()
            data = tasks["data"]
            assert [t["job"]["id"] for t in data["running"]] == ["j1", "y9"]
            assert data["running"][0]["job"]["progress"] == 40
            assert isinstance(data["running"][0]["elapsed_seconds"], int)
            assert [(t["job"]["id"], t["job"]["queue_position"]) for t in data["queued"]] == [
                ("j2", 1)
            ]
            assert [t["job"]["id"] for t in data["recent_completed"]] == ["y2"]
            bad = await http.get("/dashboard/widgets/active-tasks?recent_completed=-1")
            assert bad.status_code == 422 and "recent_completed" in bad.text

            await h.hub.writer.flush()
            projects = (await http.get("/dashboard/widgets/project-progress")).json()["data"]
            by_id = {p["project_id"]: p for p in projects}
            assert (by_id["trailer"]["approved"], by_id["trailer"]["total"]) == (1, 3)
            assert by_id["trailer"]["colour"] == "red" and not by_id["trailer"]["blocked"]
            assert by_id["spot"]["blocked"] and by_id["spot"]["colour"] == "red"
            assert by_id["lookdev"]["percent"] == 75.0 and by_id["lookdev"]["colour"] == "yellow"

            await h.hub.activity.flush()
            feed = (await http.get("/dashboard/widgets/activity-feed?category=job")).json()["data"]
            kinds = [(i["kind"], i["entity_id"]) for i in feed["items"]]
            assert kinds[:2] == [("job.completed", "y2"), ("job.completed", "y1")]
            assert ("job.failed", "j4") in kinds and all(
                i["category"] == "job" for i in feed["items"]
            )
            spot = (await http.get("/dashboard/widgets/activity-feed?project_id=spot")).json()
            (failed,) = spot["data"]["items"]
            assert failed["message"] == "CUDA out of memory" and failed["severity"] == "error"
            page = (await http.get("/dashboard/widgets/activity-feed?limit=2&offset=1")).json()
            assert len(page["data"]["items"]) == 2 and page["data"]["has_more"]
            admin_feed = (await admin.get("/dashboard/widgets/activity-feed?category=alert")).json()
            assert "a1" in [i["entity_id"] for i in admin_feed["data"]["items"]]
            hidden = await http.get("/dashboard/widgets/activity-feed?category=alert")
            assert hidden.json()["data"]["items"] == []
            for query, field in (("category=gossip", "category"), ("limit=0", "limit"),
                                 ("offset=-1", "offset")):  # fmt: skip
                r = await http.get(f"/dashboard/widgets/activity-feed?{query}")
                assert r.status_code == 422 and field in r.text

            disk = await admin.get("/dashboard/widgets/disk-health")
            (volume,) = disk.json()["data"]["volumes"]
            assert volume["path"] == str(tmp_path) and volume["level"] in (
                "ok",
                "warning",
                "critical",
            )
            assert 0 < volume["used_percent"] <= 100
            # what it holds in words, and the volume the figures are for
            assert volume["label"] == "Hub data"
            assert volume["mount"] and str(tmp_path).startswith(volume["mount"])
            assert (await http.get("/dashboard/widgets/disk-health")).status_code == 403
        # the creator's socket never got the admin-only item: the next one is a job's
        async with h.http(h.admin_token) as admin, h.socket(creator, ["activity"]) as ws:
            await recv_until(ws, "snapshot")
            await push(admin, n, "j1", "completed")
            assert (await recv_until(ws, "activity.created"))["data"]["item"]["entity_id"] == "j1"


async def test_user_dashboard_document_per_token(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        ana, bo = await h.token(Role.CREATOR), await h.token(Role.REVIEWER)
        async with h.http(ana) as http, h.http(bo) as other:
            first = (await http.get("/user/dashboard")).json()["data"]
            assert first["is_default"] and [w["widget"] for w in first["layout"]] == [
                "active-tasks", "project-progress", "disk-health", "activity-feed"
            ]  # fmt: skip
            doc = {
                "layout": [{"widget": "activity-feed", "x": 0, "y": 0, "w": 4, "h": 2}],
                "widget_settings": {"activity-feed": {"category": "job"}},
                "preferences": {"strip": {"segment_order": ["jobs", "services"],
                                          "collapsed": True}},
            }  # fmt: skip
            saved = await http.put("/user/dashboard", json=doc)
            assert saved.status_code == 200 and not saved.json()["data"]["is_default"]
            again = (await http.get("/user/dashboard")).json()["data"]
            assert again["preferences"]["strip"]["collapsed"] is True
            assert again["layout"] == doc["layout"] and again["updated_at"]
            assert (await other.get("/user/dashboard")).json()["data"]["is_default"]

            bad_cases: list[tuple[dict[str, Any], str]] = [
                ({"layout": [{"widget": "x", "x": 0, "y": 0, "w": 0, "h": 1}]}, "w"),
                ({"widget_settings": {"k": "v" * 40_000}}, "widget_settings"),
                ({"preferences": "collapsed"}, "preferences"),
                ({"colour": "pink"}, "colour"),
                ({"layout": [{"widget": "a", "x": 0, "y": 0, "w": 1, "h": 1}] * 2}, "layout"),
            ]
            for body, field in bad_cases:
                r = await http.put("/user/dashboard", json=body)
                assert r.status_code == 422 and field in r.text, (body, r.text)
        async with h.http() as anonymous:
            assert (await anonymous.get("/user/dashboard")).status_code == 401
