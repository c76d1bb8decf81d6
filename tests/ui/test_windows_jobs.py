"""Job progress window over a real hub fed by the studio script: rows, progress, topics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import qasync

from studio_status.protocol import JobEventIn, JobStatus, Role, Topic
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows.jobs import JobsWindow

from .live import live_studio, until


def test_jobs_window_rows_progress_and_detail_topic(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, steps=12) as live:
            state = live.store.state
            running = [j for j in state.jobs.values() if j.status is JobStatus.RUNNING]
            queued = [j for j in state.jobs.values() if j.status is JobStatus.QUEUED]
            assert running, "the script should have started jobs"
            opener = live.opener()
            win = opener.open("jobs")
            assert isinstance(win, JobsWindow)
            assert opener.open_ms < 200
            # the detail topic is held while the window is open (seed 003)
            assert live.details.held_topics[Topic.JOB_PROGRESS] == 1
            await until(lambda: Topic.JOB_PROGRESS in live.client.topics)
            bus = live.hub.hub.bus
            await until(  # the hub has taken the subscription (the frame is async)
                lambda: any(Topic.JOB_PROGRESS in s.topics for s in bus._subscribers)
            )
            await until(lambda: win.pane.state is PaneState.CONTENT)
            rows = win.running.texts()
            assert len(rows) == len(running)
            assert {r[0] for r in rows} == {f"{j.type} · {j.id}" for j in running}
            assert all(r[2] == "⚡ running" for r in rows)
            assert len(win.queued.texts()) == len(queued)
            assert win.subtitle.text().startswith(f"{len(running)} running · {len(queued)} queued")

            # progress pushed to the hub reaches the bar (a job_progress event, live)
            job = running[0]
            live.hub.hub.push_job(
                JobEventIn(event_id="p-test", kind="progress", job_id=job.id, progress=99.0)
            )
            await until(lambda: win.bars[job.id].value == 99.0)
            assert win.bars[job.id].accessibleName() == "99%"

            # a finished job moves to "recently completed" (refetched by the client layer)
            live.hub.hub.push_job(JobEventIn(event_id="done-test", kind="completed", job_id=job.id))
            await until(lambda: any(r[0].endswith(job.id) for r in win.recent.texts()))
            row = next(r for r in win.recent.texts() if r[0].endswith(job.id))
            assert row[2] == "✓ completed"
            assert job.id not in win.running.rows

            win.close()
            assert Topic.JOB_PROGRESS not in live.details.held_topics
            await until(lambda: Topic.JOB_PROGRESS not in live.client.topics)
            await until(lambda: not any(Topic.JOB_PROGRESS in s.topics for s in bus._subscribers))

    qloop.run_until_complete(scenario())


def test_jobs_window_for_a_creator_and_empty_hub(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, role=Role.CREATOR) as live:
            win = live.opener().open("jobs")
            assert isinstance(win, JobsWindow)
            await until(lambda: win.pane.state is PaneState.EMPTY)
            assert win.pane.message.startswith("No jobs right now")
            win.close()

    qloop.run_until_complete(scenario())


def test_jobs_window_flags_stalled_jobs_and_says_what_its_eta_covers(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            hub = live.hub.hub

            def push(event_id: str, kind: str, job_id: str, **kw: Any) -> None:
                event = JobEventIn.model_validate(
                    {"event_id": event_id, "kind": kind, "job_id": job_id, **kw}
                )
                assert hub.push_job(event).applied

            t0 = hub.clock()
            push("a1", "started", "render-a", name="Hero shot", at=t0)
            push("a2", "progress", "render-a", progress=10, at=t0 + timedelta(seconds=10))
            push("b1", "created", "render-b", at=t0 + timedelta(seconds=20))
            win = live.opener().open("jobs")
            assert isinstance(win, JobsWindow)
            await until(lambda: "render-b" in win.queued.rows)
            bus = hub.bus
            await until(lambda: any(Topic.JOB_PROGRESS in s.topics for s in bus._subscribers))
            push("a3", "progress", "render-a", progress=20, at=t0 + timedelta(seconds=20))
            await until(lambda: win.running.texts()[0][6] != "—")
            # the hub's ETA covers the running job only while one waits: the title says so
            await until(lambda: "queued ones not counted" in win.subtitle.text())
            assert win.subtitle.text() == (
                "1 running · 1 queued · 20% overall"
                " · running jobs done in about 1 min (queued ones not counted)"
            )
            row = win.running.texts()[0]
            assert row[0] == "Hero shot" and row[6] == "1 min"

            # its source can no longer vouch for it: flagged, no fresh ETA
            push("a4", "stalled", "render-a", error="worker gpu-2 stopped answering", at=t0)
            await until(lambda: win.running.texts()[0][2].startswith("⚠ stalled"))
            row = win.running.texts()[0]
            assert row[2].startswith("⚠ stalled, last heard") and row[6] == "—"
            assert win.running.rows["render-a"].toolTip(2) == "worker gpu-2 stopped answering"
            assert "1 stalled" in win.subtitle.text()
            assert "done in about" not in win.subtitle.text()

            # resolved as lost, with the reason, in the recent list
            push(
                "a5",
                "lost",
                "render-a",
                error="gpu-2 restarted without it",
                at=t0 + timedelta(seconds=30),
            )
            await until(lambda: "render-a" in win.recent.rows)
            row = next(r for r in win.recent.texts() if r[0] == "Hero shot")
            assert row[2] == "? lost" and row[5] == "gpu-2 restarted without it"

            # a ComfyUI prompt queued by another client: no progress, and the window says why
            push("c1", "started", "comfyui:box:p1", type="comfyui", name="KSampler #3")
            await until(lambda: "comfyui:box:p1" in win.running.rows)
            assert "relay" in win.running.rows["comfyui:box:p1"].toolTip(4)
            win.close()

    qloop.run_until_complete(scenario())
