"""Leases through the real hub: pushed jobs stall and end lost when nobody reports them,
and a restarted hub hands each restored job to a source that can vouch for it."""

from __future__ import annotations

from pathlib import Path

from studio_status.hub.config import JobsSettings
from studio_status.protocol import JobEventIn, JobStatus, Role, Topic
from tests.hub.fakeclock import FakeClock
from tests.hubrunner import recv_until, run_hub, until

LEASES = JobsSettings(stall_seconds=60, lost_seconds=120, sweep_seconds=3600)


async def test_a_pushed_job_nobody_reports_is_stalled_then_lost(tmp_path: Path) -> None:
    clock = FakeClock()
    async with run_hub(tmp_path, [], jobs=LEASES, serve_kw={"clock": clock}) as h:
        async with h.http(h.admin_token) as http:
            for event_id, kind in (("e1", "created"), ("e2", "started")):
                r = await http.post(
                    "/api/v1/jobs/events",
                    json={"event_id": event_id, "kind": kind, "job_id": "render-1"},
                )
                assert r.json()["data"]["applied"]
        assert h.hub.jobs.jobs["render-1"].source == "push"
        token = await h.token(Role.CREATOR)
        async with h.socket(token, [Topic.JOBS, Topic.FOOTER]) as ws:
            await recv_until(ws, "snapshot")
            clock.advance(61)
            h.hub.sweep_jobs()
            changed = await recv_until(ws, "job.status_changed")
            job = changed["data"]["job"]
            assert job["status"] == "running" and job["stalled_since"] is not None
            assert job["stall_reason"] == "no word from push for 60 s"
            footer = (await recv_until(ws, "status.footer_changed"))["data"]["footer"]
            assert (footer["jobs"]["running"], footer["jobs"]["stalled"]) == (0, 1)
            clock.advance(120)
            h.hub.sweep_jobs()
            lost = (await recv_until(ws, "job.status_changed"))["data"]["job"]
            assert lost["status"] == "lost"
            assert lost["error"] == "no word from push for 60 s; given up after 2 min stalled"


async def test_a_restarted_hub_gives_restored_jobs_to_a_source_or_loses_them(
    tmp_path: Path,
) -> None:
    database = tmp_path / "hub.sqlite3"
    clock = FakeClock()
    async with run_hub(tmp_path, [], database=database, jobs=LEASES) as h:
        for job_id, source in (("sim-1", "simulator"), ("box-1", "comfyui:old"), ("p-1", "push")):
            result = h.hub.push_job(
                JobEventIn(event_id=f"{job_id}-s", kind="started", job_id=job_id), source=source
            )
            assert result.applied
    async with run_hub(
        tmp_path, [], database=database, jobs=LEASES, serve_kw={"clock": clock}
    ) as h:
        jobs = h.hub.jobs.jobs
        # the ComfyUI instance is no longer configured: nobody can report that job
        assert jobs["box-1"].stall_reason == (
            "comfyui:old is not configured any more; nothing can report this job"
        )
        assert jobs["p-1"].stalled_since is None  # the pusher gets its lease
        # a simulator starting afresh knows it will not continue its earlier jobs
        h.hub.abandon_jobs("simulator", "the simulator restarted")
        assert "sim-1" not in jobs
        assert next(j for j in h.hub.jobs.recent if j.id == "sim-1").status is JobStatus.LOST
        clock.advance(61 + 120)
        h.hub.sweep_jobs()
        h.hub.sweep_jobs()
        assert not h.hub.jobs.jobs


async def test_the_sweep_runs_only_while_a_job_is_active(tmp_path: Path) -> None:
    """An idle hub does not sweep an empty board every few seconds; a pushed job starts
    the sweep (the real loop, here every 20 ms) and the last job's end parks it again."""
    clock = FakeClock()
    quick = JobsSettings(stall_seconds=60, lost_seconds=120, sweep_seconds=0.02)
    async with run_hub(tmp_path, [], jobs=quick, serve_kw={"clock": clock}) as h:
        assert not h.hub.sweeping
        token = await h.token(Role.CREATOR)
        async with h.socket(token, [Topic.JOBS]) as ws:
            await recv_until(ws, "snapshot")
            h.hub.push_job(JobEventIn(event_id="s1", kind="started", job_id="render-1"))
            assert h.hub.sweeping
            started = (await recv_until(ws, "job.status_changed"))["data"]["job"]
            assert started["status"] == "running" and started["stalled_since"] is None
            clock.advance(61)  # the loop's own sweep stalls it, then ends it as lost
            stalled = (await recv_until(ws, "job.status_changed"))["data"]["job"]
            assert stalled["stalled_since"] is not None
            clock.advance(121)
            lost = (await recv_until(ws, "job.status_changed"))["data"]["job"]
            assert lost["status"] == "lost"
        await until(lambda: not h.hub.sweeping)
