"""Job board rules on a fake clock: idempotent, ordered, honest progress, ETAs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from studio_status.hub.jobs import JobBoard
from studio_status.protocol import JobEventIn, JobInfo, JobStatus, WorkflowEventIn

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def ev(event_id: str, kind: str, job: str = "j1", seconds: float = 0, **kw: object) -> JobEventIn:
    return JobEventIn.model_validate(
        {
            "event_id": event_id,
            "kind": kind,
            "job_id": job,
            "at": T0 + timedelta(seconds=seconds),
            **kw,
        }
    )


def test_lifecycle_progress_eta_and_summary() -> None:
    board = JobBoard(lambda: T0)
    assert board.apply_job(ev("e1", "created", queue_position=2, project="p")).applied
    assert board.summary().queued == 1 and board.summary().running == 0
    started = board.apply_job(ev("e2", "started", seconds=10, worker="gpu-1"))
    assert [t for t, _ in started.events] == ["job.status_changed"]
    running = board.jobs["j1"]
    assert running.status is JobStatus.RUNNING and running.queue_position is None
    assert running.progress is None  # nothing reported yet: indeterminate, not 0
    assert board.summary().overall_progress is None
    board.apply_job(ev("e3", "progress", seconds=20, progress=10))
    out = board.apply_job(ev("e4", "progress", seconds=30, progress=30))
    assert [t for t, _ in out.events] == ["job.progress"]
    # 20 points in 10 s -> 70 points left take 35 s
    assert board.jobs["j1"].eta_seconds == 35
    summary = board.summary()
    assert (summary.running, summary.overall_progress, summary.eta_seconds) == (1, 30, 35)
    done = board.apply_job(ev("e5", "completed", seconds=60))
    assert [t for t, _ in done.events] == ["job.status_changed"]
    assert board.jobs == {} and board.recent[-1].progress == 100.0
    assert board.recent[-1].status is JobStatus.COMPLETED


def test_duplicates_out_of_order_and_finished_jobs_are_refused() -> None:
    board = JobBoard(lambda: T0)
    board.apply_job(ev("e1", "started", seconds=10))
    dup = board.apply_job(ev("e1", "started", seconds=10))
    assert not dup.applied and dup.reason == "duplicate event_id"
    late = board.apply_job(ev("e0", "created", seconds=5))
    assert not late.applied and "out of order" in (late.reason or "")
    board.apply_job(ev("e2", "failed", seconds=20, error="OOM on gpu-1"))
    assert board.recent[-1].error == "OOM on gpu-1"
    after = board.apply_job(ev("e3", "progress", seconds=30, progress=50))
    assert not after.applied and "already finished" in (after.reason or "")


def test_cumulative_eta_is_the_longest_running_eta() -> None:
    board = JobBoard(lambda: T0)
    for job, rate in (("a", 5), ("b", 1)):
        board.apply_job(ev(f"{job}1", "progress", job=job, seconds=0, progress=0))
        board.apply_job(ev(f"{job}2", "progress", job=job, seconds=10, progress=rate * 10))
    # a: 50 left at 5/s -> 10 s; b: 90 left at 1/s -> 90 s; both finish after 90 s
    assert board.jobs["a"].eta_seconds == 10
    assert board.summary().eta_seconds == 90
    assert board.summary().overall_progress == 30


def test_workflows_stage_summary() -> None:
    board = JobBoard(lambda: T0)
    for i, stage in enumerate(["generating", "generating", "upscaling"]):
        board.apply_workflow(
            WorkflowEventIn(
                event_id=f"w{i}", kind="created", workflow_id=f"wf{i}", name=f"Run {i}", stage=stage
            )
        )
    s = board.workflows_summary()
    assert (s.active, s.current_stage) == (3, "generating")
    out = board.apply_workflow(WorkflowEventIn(event_id="w9", kind="completed", workflow_id="wf0"))
    assert out.events[0][1].model_dump()["previous"] == "generating"
    assert board.workflows_summary().active == 2
    assert not board.apply_workflow(
        WorkflowEventIn(event_id="w10", kind="stage_changed", workflow_id="wf0", stage="x")
    ).applied


def test_queue_positions_move_up_when_a_job_leaves_the_queue() -> None:
    board = JobBoard(lambda: T0)
    for i in range(1, 4):
        board.apply_job(ev(f"c{i}", "created", job=f"q{i}", seconds=i, queue_position=i))
    board.apply_job(ev("s1", "started", job="q1", seconds=10))
    assert [board.jobs[j].queue_position for j in ("q2", "q3")] == [1, 2]
    board.apply_job(ev("x3", "cancelled", job="q3", seconds=11))
    board.apply_job(ev("s2", "started", job="q2", seconds=12))
    assert board.jobs["q2"].queue_position is None
    assert board.summary().queued == 0


def test_queue_is_numbered_first_come_when_the_source_gives_no_position() -> None:
    board = JobBoard(lambda: T0)
    for i in range(1, 4):
        board.apply_job(ev(f"c{i}", "created", job=f"q{i}", seconds=i))
    assert [board.jobs[f"q{i}"].queue_position for i in range(1, 4)] == [1, 2, 3]
    board.apply_job(ev("s1", "started", job="q1", seconds=5))
    board.apply_job(ev("c4", "created", job="q4", seconds=6))
    assert [board.jobs[j].queue_position for j in ("q2", "q3", "q4")] == [1, 2, 3]


def test_a_job_nobody_vouches_for_is_stalled_then_lost_ending_when_last_heard() -> None:
    now = [T0]
    board = JobBoard(lambda: now[0])
    board.apply_job(ev("c", "created", source="push"))
    board.apply_job(ev("s", "started", seconds=10))
    board.apply_job(ev("p", "progress", seconds=20, progress=10))
    board.apply_job(ev("p2", "progress", seconds=30, progress=20))
    now[0] = T0 + timedelta(seconds=30 + 299)
    assert board.sweep(stall_after=300, lost_after=600) == []
    now[0] = T0 + timedelta(seconds=30 + 300)
    (stalled,) = board.sweep(stall_after=300, lost_after=600)
    job = board.jobs["j1"]
    assert job.status is JobStatus.RUNNING
    assert job.stalled_since == T0 + timedelta(seconds=30)
    assert job.stall_reason == "no word from push for 5 min"
    assert [t for t, _ in stalled.events] == ["job.status_changed"]
    summary = board.summary()
    assert (summary.running, summary.stalled, summary.eta_seconds) == (0, 1, None)
    # word from the source lifts the stall
    board.apply_job(ev("a", "alive", seconds=400))
    assert board.jobs["j1"].stalled_since is None and board.summary().running == 1
    now[0] = T0 + timedelta(seconds=400 + 300)
    board.sweep(stall_after=300, lost_after=600)
    now[0] = T0 + timedelta(seconds=400 + 300 + 600)
    assert len(board.sweep(stall_after=300, lost_after=600)) == 1
    done = board.recent[-1]
    assert done.status is JobStatus.LOST and not board.jobs
    assert done.error == "no word from push for 5 min; given up after 10 min stalled"
    assert done.finished_at == T0 + timedelta(seconds=400)  # the silence is not its run time
    late = board.apply_job(ev("p3", "progress", seconds=2000, progress=90))
    assert not late.applied and "already finished" in (late.reason or "")


def test_restored_jobs_get_one_lease_and_sources_speak_for_their_own() -> None:
    now = [T0]
    board = JobBoard(lambda: now[0])
    board.restore(
        [
            JobInfo(id="sim-1", status=JobStatus.RUNNING, source="simulator"),
            JobInfo(id="old-1", status=JobStatus.QUEUED, source="comfyui:gone"),
            JobInfo(id="push-1", status=JobStatus.RUNNING, source="push"),
            JobInfo(id="legacy", status=JobStatus.RUNNING),  # stored before sources existed
        ],
        [],
    )
    orphans = board.stall_orphans(["comfyui:box"], "{source} is not configured any more")
    assert {a.changed.id for a in orphans if a.changed} == {"sim-1", "old-1"}
    assert board.jobs["old-1"].stall_reason == "comfyui:gone is not configured any more"
    assert len(board.abandon("simulator", "the simulator restarted")) == 1
    assert board.recent[-1].id == "sim-1" and board.recent[-1].status is JobStatus.LOST
    assert board.recent[-1].error == "the simulator restarted"
    assert board.apply_job(ev("x", "alive", job="nobody")).reason == "job nobody is not known"
    now[0] = T0 + timedelta(seconds=301)
    swept = board.sweep(stall_after=300, lost_after=600)
    assert {a.changed.id for a in swept if a.changed} == {"push-1", "legacy"}


def test_positions_of_a_whole_line_never_collide_and_moves_are_collected() -> None:
    board = JobBoard(lambda: T0)
    for i in range(1, 4):
        board.apply_job(
            ev(f"c{i}", "created", job=f"q{i}", seconds=i, queue_position=i, source="s")
        )
    assert board.take_moves() == {}
    # q1 left the line between two polls (deleted); the source reports the rest
    board.set_positions("s", {"q2": 1, "q3": 2})
    assert [board.jobs[q].queue_position for q in ("q1", "q2", "q3")] == [None, 1, 2]
    assert board.leaving(board.jobs["q1"]) and board.summary().queued == 2
    # its outcome comes later: no gap closing on top of what the source reported
    board.apply_job(ev("x1", "cancelled", job="q1", seconds=5))
    assert [board.jobs[q].queue_position for q in ("q2", "q3")] == [1, 2]
    assert board.take_moves() == {"q2": 1, "q3": 2}
    assert board.take_moves() == {}


def test_eta_says_what_it_covers() -> None:
    board = JobBoard(lambda: T0)
    board.apply_job(ev("s", "started", seconds=0))
    board.apply_job(ev("p1", "progress", seconds=10, progress=10))
    board.apply_job(ev("p2", "progress", seconds=20, progress=20))
    assert (board.summary().eta_seconds, board.summary().eta_covers) == (80, "all")
    board.apply_job(ev("c", "created", job="j2", seconds=21))
    assert (board.summary().eta_seconds, board.summary().eta_covers) == (80, "running")


def test_eta_counts_jobs_queued_for_a_one_at_a_time_worker_by_its_typical_run() -> None:
    board = JobBoard(lambda: T0)
    # box has run two prompts: 30 s and 50 s (median 50 of two: the upper one)
    for i, took in enumerate((30, 50)):
        board.apply_job(ev(f"s{i}", "started", job=f"r{i}", seconds=0, worker="box"))
        board.apply_job(ev(f"d{i}", "completed", job=f"r{i}", seconds=took))
    board.apply_job(ev("cached-s", "started", job="c", seconds=0, worker="box"))
    board.apply_job(ev("cached-d", "completed", job="c", seconds=0.01, cached=True))
    board.apply_job(ev("a", "started", job="now", seconds=100, worker="box"))
    board.apply_job(ev("b", "progress", job="now", seconds=110, progress=50))
    board.apply_job(ev("c", "progress", job="now", seconds=120, progress=75))  # 10 s left
    for q in ("q1", "q2"):
        board.apply_job(ev(f"{q}-c", "created", job=q, seconds=121, worker="box"))
    summary = board.summary()
    assert (summary.eta_seconds, summary.eta_covers) == (10 + 2 * 50, "all")
    # a job queued where the run time cannot be told: the number covers the running ones
    board.apply_job(ev("x", "created", job="elsewhere", seconds=122))
    summary = board.summary()
    assert (summary.eta_seconds, summary.eta_covers) == (10, "running")
