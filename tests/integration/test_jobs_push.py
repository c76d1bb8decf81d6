"""Push API on a real hub: validation names the field, events reach sockets, state persists."""

from __future__ import annotations

from pathlib import Path

from studio_status.protocol import Role
from tests.hubrunner import recv_until, run_hub


async def test_push_validation_events_footer_and_restart(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http(h.admin_token) as http, h.socket(creator, ["jobs", "footer"]) as ws:
            assert (await recv_until(ws, "snapshot"))["data"]["jobs"] == []
            bad = await http.post(
                "/api/v1/jobs/events",
                json={"event_id": "e1", "kind": "progress", "job_id": "j1", "progress": 140},
            )
            assert bad.status_code == 422 and "progress" in bad.text
            bad_kind = await http.post(
                "/api/v1/jobs/events", json={"event_id": "e1", "kind": "exploded", "job_id": "j1"}
            )
            assert bad_kind.status_code == 422 and "kind" in bad_kind.text
            ok = await http.post(
                "/api/v1/jobs/events",
                json={"event_id": "e1", "kind": "started", "job_id": "j1", "project": "trailer"},
            )
            assert ok.json()["data"]["applied"] is True
            again = await http.post(
                "/api/v1/jobs/events", json={"event_id": "e1", "kind": "started", "job_id": "j1"}
            )
            assert again.status_code == 200
            assert again.json()["data"] == {
                "applied": False,
                "reason": "duplicate event_id",
                "seq": None,
            }
            changed = await recv_until(ws, "job.status_changed")
            assert changed["data"]["job"]["status"] == "running"
            footer = await recv_until(ws, "status.footer_changed")
            assert footer["data"]["footer"]["jobs"]["running"] == 1
            await http.post(
                "/api/v1/jobs/events",
                json={"event_id": "e2", "kind": "progress", "job_id": "j1", "progress": 40},
            )
            wf = await http.post(
                "/api/v1/workflows/events",
                json={
                    "event_id": "w1",
                    "kind": "created",
                    "workflow_id": "wf1",
                    "name": "Trailer",
                    "stage": "generating",
                },
            )
            assert wf.json()["data"]["applied"] is True
            body = (await http.get("/api/v1/status/footer")).json()["data"]
            assert body["jobs"] == {
                "running": 1,
                "queued": 0,
                "overall_progress": 40,
                "eta_seconds": None,
            }
            assert body["workflows"] == {"active": 1, "current_stage": "generating"}
        async with h.http(creator) as http:
            forbidden = await http.post(
                "/api/v1/jobs/events", json={"event_id": "e9", "kind": "started", "job_id": "j9"}
            )
            assert forbidden.status_code == 403
            listed = (await http.get("/api/v1/jobs")).json()["data"]
            assert [j["id"] for j in listed["active"]] == ["j1"]
        await h.hub.writer.flush()
    async with run_hub(tmp_path, []) as h2:
        assert h2.hub.jobs.jobs["j1"].progress == 40
        assert h2.hub.state.workflows.current_stage == "generating"
