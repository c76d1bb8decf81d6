"""Push API on a real hub: validation names the field, events reach sockets, state persists."""

from __future__ import annotations

from pathlib import Path

import pytest

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
                "eta_covers": None,
                "stalled": None,
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


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/jobs/events", {"kind": "started", "job_id": "j"}, "event_id"),
        ("/api/v1/jobs/events", {"event_id": "e", "kind": "started"}, "job_id"),
        ("/api/v1/jobs/events", {"event_id": "e", "job_id": "j"}, "kind"),
        ("/api/v1/jobs/events", {"event_id": "e", "kind": "boom", "job_id": "j"}, "kind"),
        ("/api/v1/jobs/events", {"event_id": "e f", "kind": "started", "job_id": "j"}, "event_id"),
        ("/api/v1/jobs/events", {"event_id": "e", "kind": "started", "job_id": "j/../x"}, "job_id"),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "progress", "job_id": "j", "progress": -1},
            "progress",
        ),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "progress", "job_id": "j", "progress": "half"},
            "progress",
        ),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "created", "job_id": "j", "queue_position": -2},
            "queue_position",
        ),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "failed", "job_id": "j", "error": "x" * 5000},
            "error",
        ),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "started", "job_id": "j", "at": "yesterday"},
            "at",
        ),
        (
            "/api/v1/jobs/events",
            {"event_id": "e", "kind": "started", "job_id": "j", "type": "t" * 101},
            "type",
        ),
        ("/api/v1/workflows/events", {"event_id": "w", "kind": "created"}, "workflow_id"),
        (
            "/api/v1/workflows/events",
            {"event_id": "w", "kind": "paused", "workflow_id": "wf"},
            "kind",
        ),
        (
            "/api/v1/workflows/events",
            {"event_id": "w", "kind": "created", "workflow_id": "wf", "job_ids": "j1"},
            "job_ids",
        ),
        (
            "/api/v1/workflows/events",
            {"event_id": "w", "kind": "created", "workflow_id": "wf", "stage": "s" * 101},
            "stage",
        ),
    ],
)
async def test_every_push_validation_error_names_its_field(
    tmp_path: Path, path: str, body: dict[str, object], field: str
) -> None:
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        response = await http.post(path, json=body)
        assert response.status_code == 422
        locs = [e["loc"] for e in response.json()["detail"]]
        assert any(field in loc for loc in locs), locs
        assert h.hub.jobs.jobs == {} and h.hub.jobs.workflows == {}  # nothing half-applied
