"""The studio simulator: same seed, same run; its plant is real loopback services."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from studio_status import pace
from studio_status.hub.checks import build_checker
from studio_status.hub.checks.specs import ComfyUISpec, HttpSpec
from studio_status.hub.jobs import JobBoard
from studio_status.hub.sources.plant import (
    CATCH_UP_STEPS,
    SLOW_REAL_FLOOR,
    SimulatedPlant,
    budget_summary,
    run_simulation,
    slow_seconds,
)
from studio_status.hub.sources.simulator import Step, StudioScript
from studio_status.protocol import BudgetStatus, CloudPod, HealthStatus
from tests.hubrunner import run_hub

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def run_script(seed: int, steps: int) -> list[str]:
    script = StudioScript(seed)
    out: list[str] = []
    for i in range(steps):
        out += script.step(T0 + timedelta(seconds=i)).describe()
    return out


def test_same_seed_same_events_other_seed_other_events() -> None:
    first, second = run_script(11, 400), run_script(11, 400)
    assert first == second and len(first) > 400
    assert run_script(12, 400) != first


def test_script_drives_a_believable_studio_through_the_job_board() -> None:
    now = [T0]
    script, board = StudioScript(3), JobBoard(lambda: now[0])
    kinds: set[str] = set()
    stages: set[str] = set()
    for i in range(600):
        now[0] = T0 + timedelta(seconds=i)
        step = script.step(now[0])
        for job in step.jobs:
            assert board.apply_job(job).applied, job  # the script never breaks the rules
            kinds.add(job.kind)
        for wf in step.workflows:
            board.apply_workflow(wf)
            stages.add(wf.stage or wf.kind)
    assert {"created", "started", "progress", "completed", "failed"} <= kinds
    assert {"generating", "upscaling", "completed"} <= stages
    assert board.summary().running <= 4  # four simulated workers
    # every job it still has was spoken of within the last minute: no lease runs out
    assert board.sweep(stall_after=61, lost_after=60) == []


def test_queued_jobs_are_vouched_for_while_no_worker_takes_them() -> None:
    now = [T0]
    script, board = StudioScript(5), JobBoard(lambda: now[0])
    for i in range(1, 5):
        script._plant[f"worker-{i}"] = "down"  # nothing runs: the queue only grows
    alive = 0
    for i in range(300):
        now[0] = T0 + timedelta(seconds=i)
        for job in script.step(now[0]).jobs:
            assert board.apply_job(job).applied
            alive += job.kind == "alive"
        assert board.sweep(stall_after=61, lost_after=60) == []
    assert alive > 0 and board.summary().queued > 5  # (worker-3 flaps back now and then)


def test_budget_colours() -> None:
    def pod(cents: int, status: str = "RUNNING") -> CloudPod:
        return CloudPod(id=str(cents), status=status, cost_per_hour_cents=cents)

    assert budget_summary([pod(100)], 400).budget_status is BudgetStatus.WITHIN_BUDGET
    assert budget_summary([pod(320)], 400).budget_status is BudgetStatus.APPROACHING
    assert budget_summary([pod(300), pod(200)], 400).budget_status is BudgetStatus.EXCEEDED
    summary = budget_summary([pod(100), pod(50, "EXITED")], 400)
    assert (summary.active_pods, summary.cost_per_hour_cents) == (1, 100)
    assert budget_summary([pod(10, "ERROR")], 400).budget_status is BudgetStatus.ERROR


async def test_plant_services_are_checked_for_real(tmp_path: Path) -> None:
    plant = SimulatedPlant()
    await plant.start()
    try:
        services = {s.name: s for s in plant.services()}
        checkers = {n: build_checker(s.check, timeout=3) for n, s in services.items()}
        results = {n: await c.check() for n, c in checkers.items()}
        assert all(r.status is HealthStatus.HEALTHY for r in results.values()), results
        assert results["comfyui"].details["instances"] == 2
        assert results["workers"].details["online"] == 4
        plant.set("worker-3", "down")
        plant.set("comfyui-2", "down")
        workers = await checkers["workers"].check()
        comfy = await checkers["comfyui"].check()
        assert workers.status is HealthStatus.DEGRADED and workers.details["online"] == 3
        assert comfy.status is HealthStatus.DEGRADED and comfy.details["instances"] == 1
        for c in checkers.values():
            await c.aclose()
    finally:
        await plant.close()
    await asyncio.sleep(0)


def test_pods_report_real_uptime_and_gpu_load() -> None:
    from datetime import UTC, datetime, timedelta

    from studio_status.hub.sources.simulator import StudioScript

    script = StudioScript(7)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    script.step(t0)
    assert script.pods, "the first step starts a pod"
    for i in range(1, 121):
        script.step(t0 + timedelta(seconds=i))
    pod = next(p for p in script.pods if p.uptime_seconds)
    assert pod.uptime_seconds is not None and pod.uptime_seconds >= 60
    assert pod.gpu_util_percent is not None and 0 < pod.gpu_util_percent <= 100


def test_cloud_episodes_come_early_and_seldom() -> None:
    """A pod error and a budget overspend each show in the demo's first minutes, then only
    every several minutes; outside its burst the studio keeps within the budget."""
    from studio_status.hub.sources.simulator import DEMO_BUDGET_CENTS

    for seed in (3, 7, 11):
        script = StudioScript(seed)
        episodes: dict[BudgetStatus, list[int]] = {}
        last = BudgetStatus.WITHIN_BUDGET
        for i in range(900):
            script.step(T0 + timedelta(seconds=i))
            status = budget_summary(script.pods, DEMO_BUDGET_CENTS).budget_status
            if status is not last and status in (BudgetStatus.ERROR, BudgetStatus.EXCEEDED):
                episodes.setdefault(status, []).append(i)
            last = status
        errors, overspends = episodes[BudgetStatus.ERROR], episodes[BudgetStatus.EXCEEDED]
        assert errors[0] < 150 and overspends[0] < 260, (seed, episodes)
        assert len(errors) <= 2 and len(overspends) <= 2, (seed, episodes)


class _Spy(StudioScript):
    """The real script, remembering the time of every step it was asked for."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.asked: list[datetime] = []
        self.said: list[list[str]] = []

    def step(self, now: datetime) -> Step:
        self.asked.append(now)
        step = super().step(now)
        self.said.append(step.describe())
        return step


async def test_the_demo_steps_on_a_grid_however_late_its_loop_wakes(tmp_path: Path) -> None:
    """The script's draws depend on the time between steps: dated by when the loop woke, the
    same seed was another studio on every run. Late wakes are caught up on the grid; a gap
    longer than the catch-up (a machine that slept) moves the grid on."""
    start = datetime.now(UTC)
    now = [start]
    late = itertools.cycle([0.0, 0.4, 0.05, 2.7, 0.0, 0.9])
    woke = asyncio.Event()

    async def sleep(seconds: float) -> None:
        extra = 45.0 if len(spy.asked) == 20 else next(late)  # one long gap after step 20
        now[0] += timedelta(seconds=seconds + extra)
        await asyncio.sleep(0)
        if len(spy.asked) >= 40:
            woke.set()

    spy = _Spy(7)
    plant = SimulatedPlant()
    await plant.start()
    try:
        async with run_hub(tmp_path, []) as running:
            task = asyncio.create_task(
                run_simulation(running.hub, spy, plant, clock=lambda: now[0], sleep=sleep)
            )
            await asyncio.wait_for(woke.wait(), 10)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await plant.close()
    grid = [start + timedelta(seconds=k) for k in range(20)]
    assert spy.asked[:20] == grid
    # after the long gap: one step at the new "now", then the grid again from there
    moved = spy.asked[20]
    assert moved - grid[-1] > timedelta(seconds=CATCH_UP_STEPS)
    assert spy.asked[21:40] == [moved + timedelta(seconds=k) for k in range(1, 20)]
    # and the steps are the clean script's own, whatever the wakes were
    clean = StudioScript(7)
    assert spy.said[:20] == [clean.step(t).describe() for t in grid]


def _thresholds(plant: SimulatedPlant) -> tuple[int, int]:
    checks = {s.name: s.check for s in plant.services()}
    db, comfy = checks["database"], checks["comfyui"]
    assert isinstance(db, HttpSpec) and isinstance(comfy, ComfyUISpec)
    return db.degraded_ms, comfy.degraded_ms


def test_slow_answers_and_their_thresholds_follow_the_pace() -> None:
    plant = SimulatedPlant()
    try:
        assert slow_seconds() == 2.0
        assert _thresholds(plant) == (1000, 1500)
        pace.set_speed(5)
        assert slow_seconds() == 0.4  # 2 s of the demo
        assert _thresholds(plant) == (200, 300)
        pace.set_speed(20)  # 100 ms would be in reach of a busy machine's scheduling
        assert slow_seconds() == SLOW_REAL_FLOOR
        assert _thresholds(plant) == (150, 225)
    finally:
        pace.set_speed(None)
