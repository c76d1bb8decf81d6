"""Job intake while the startup checklist says not ready: new generation jobs are refused
with a clear error; jobs the hub already follows carry on to their end.

The checklist holds readiness for real here: by default a ComfyUI service is required,
and this one points at a closed port.
"""

from __future__ import annotations

import socket
from pathlib import Path

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import JobEventIn
from tests.hubrunner import run_hub


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_new_jobs_refused_until_ready(tmp_path: Path) -> None:
    comfyui = ServiceConfig.model_validate(
        {
            "name": "comfyui",
            "interval_seconds": 3600,
            "timeout_seconds": 2,
            "check": {"kind": "comfyui", "urls": [f"http://127.0.0.1:{closed_port()}"]},
        }
    )
    async with run_hub(tmp_path, [comfyui]) as h:
        assert not h.hub.ready
        async with h.http(h.admin_token) as admin:
            r = await admin.post(
                "/api/v1/jobs/events", json={"event_id": "e1", "kind": "created", "job_id": "j1"}
            )
            assert r.status_code == 503 and "not ready" in r.text, r.text
            assert all(name in r.text for name in h.hub.checklist.blocking)
            assert r.headers["Retry-After"]
            assert "j1" not in h.hub.jobs.jobs
            # a job the hub already follows (here from a source) carries on to its end
            h.hub.push_job(JobEventIn(event_id="src1", kind="started", job_id="j0"))
            ok = await admin.post(
                "/api/v1/jobs/events", json={"event_id": "e2", "kind": "completed", "job_id": "j0"}
            )
            assert ok.status_code == 200 and ok.json()["data"]["applied"]
