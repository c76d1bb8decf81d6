"""A believable busy studio, scripted by a seeded random generator.

:class:`StudioScript` is pure: given a seed and the same step times it produces the same
actions, so a demo run can be replayed exactly (and is tested that way). The actions are
ordinary push events and plant settings; :mod:`.plant` applies them through the same paths
a real platform uses (the push API's job board, real loopback services, real checks).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from studio_status.protocol import CloudPod, JobEventIn, WorkflowEventIn

__all__ = ["PlantSetting", "Step", "StudioScript"]

PROJECTS = ("trailer-s2", "lookdev-hero", "spot-30s", "previz-ep4")
JOB_TYPES = ("txt2img", "img2vid", "upscale", "interpolate", "lipsync")
USERS = ("ana", "bo", "chen", "dara", "eli")
STAGES = ("generating", "upscaling", "encoding", "review")
WORKERS = tuple(f"gpu-{i}" for i in range(1, 5))
WORKFLOWS_PER_SECOND = 0.03
JOBS_PER_SECOND = 0.07
POD_TYPES = (("RTX 4090", 44), ("A100 80GB", 164), ("L40S", 86))
VOUCH_SECONDS = 60.0
#: the demo's hourly cloud budget when the config sets none (the burst episode exceeds it)
DEMO_BUDGET_CENTS = 400
#: cloud episodes, each at a humane rate: a pod errors (and is replaced) and a deadline burst
#: overspends the budget, each first within the demo's first minutes, then every few minutes
POD_ERROR_FIRST = (80.0, 140.0)
BUDGET_BURST_FIRST = (190.0, 250.0)
EPISODE_EVERY = (420.0, 720.0)
POD_ERROR_SECONDS = 45.0
BUDGET_BURST_SECONDS = 60.0


@dataclass(frozen=True)
class PlantSetting:
    """How a simulated service should behave from now on."""

    service: str  # "comfyui-1", "comfyui-2", "database", "worker-3", ...
    mode: str  # "ok", "slow", "down"


@dataclass
class Step:
    jobs: list[JobEventIn] = field(default_factory=list)
    workflows: list[WorkflowEventIn] = field(default_factory=list)
    plant: list[PlantSetting] = field(default_factory=list)
    pods: list[tuple[CloudPod, str | None]] = field(default_factory=list)  # (pod, previous)

    def describe(self) -> list[str]:
        """A stable text form, for replay comparisons."""
        out = [f"job {e.kind} {e.job_id} {e.progress}" for e in self.jobs]
        out += [f"wf {e.kind} {e.workflow_id} {e.stage}" for e in self.workflows]
        out += [f"plant {p.service} {p.mode}" for p in self.plant]
        out += [f"pod {p.id} {p.status}" for p, _ in self.pods]
        return out


@dataclass
class _Job:
    id: str
    workflow: str | None
    speed: float  # progress points per second
    progress: float = 0.0
    running: bool = False
    worker: str | None = None
    told: datetime | None = None  # when the script last spoke of it


class StudioScript:
    """Seeded studio behaviour; call :meth:`step` with increasing times."""

    def __init__(
        self,
        seed: int = 7,
        *,
        max_pods: int = 3,
        run: str = "",
        budget_cents: int = DEMO_BUDGET_CENTS,
    ) -> None:
        """``run`` tags the ids of this run (the same seed twice must not reuse a job id
        that an earlier run's job still holds in the hub)."""
        self.seed = seed
        self._tag = f"{seed}{'.' + run if run else ''}"
        self._rng = random.Random(seed)
        self._n = 0
        self._jobs: dict[str, _Job] = {}
        self._queue: list[str] = []
        self._workflows: dict[str, tuple[int, list[str]]] = {}  # id -> (stage index, job ids)
        self._pods: dict[str, CloudPod] = {}
        self._max_pods = max_pods
        self._plant: dict[str, str] = {}
        self._last: datetime | None = None
        self._n_pods_started = 0
        self._pod_started: dict[str, datetime] = {}
        # a pod's GPU load has its own generator: the script's run stays what it was
        self._util_rng = random.Random(seed * 7919 + 1)
        # so have the cloud episodes (the rest of the studio runs as it always did)
        self._episode_rng = random.Random(seed * 104729 + 3)
        self._budget_cents = budget_cents
        self._start: datetime | None = None
        self._pod_error_at: float = self._episode_rng.uniform(*POD_ERROR_FIRST)
        self._burst_at: float = self._episode_rng.uniform(*BUDGET_BURST_FIRST)
        self._errored: dict[str, float] = {}  # pod id -> when it is replaced
        self._burst: set[str] = set()
        self._burst_until: float | None = None

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._tag}-{self._n}"

    def step(self, now: datetime) -> Step:
        dt = 0.0 if self._last is None else max(0.0, (now - self._last).total_seconds())
        self._last = now
        out = Step()
        rng = self._rng
        # arrivals per second of simulated time (steps may be 1 s or 5 s apart); together a
        # bit under what four workers finish, so the queue breathes instead of growing
        if rng.random() < WORKFLOWS_PER_SECOND * max(dt, 1.0) or not self._workflows:
            self._new_workflow(now, out)
        if rng.random() < JOBS_PER_SECOND * max(dt, 1.0):
            self._new_job(now, out, workflow=None)
        self._run_jobs(now, dt, out)
        self._vouch(now, out)
        self._advance_workflows(now, out)
        self._flap(out)
        self._pods_step(now, out)
        self._cloud_episodes(now, out)
        return out

    def _new_workflow(self, now: datetime, out: Step) -> None:
        if len(self._workflows) >= 3:
            return
        wf = self._id("wf")
        project = self._rng.choice(PROJECTS)
        jobs = [self._new_job(now, out, workflow=wf) for _ in range(self._rng.randint(2, 4))]
        self._workflows[wf] = (0, jobs)
        out.workflows.append(
            WorkflowEventIn(
                event_id=self._id("ev"),
                kind="created",
                workflow_id=wf,
                at=now,
                name=f"{project} run {self._n}",
                stage=STAGES[0],
                job_ids=jobs,
            )
        )

    def _new_job(self, now: datetime, out: Step, workflow: str | None) -> str:
        job = _Job(self._id("job"), workflow, speed=self._rng.uniform(2.0, 8.0))
        self._jobs[job.id] = job
        self._queue.append(job.id)
        out.jobs.append(
            JobEventIn(
                event_id=self._id("ev"),
                kind="created",
                job_id=job.id,
                at=now,
                type=self._rng.choice(JOB_TYPES),
                project=self._rng.choice(PROJECTS),
                submitted_by=self._rng.choice(USERS),
                workflow_id=workflow,
            )
        )
        return job.id

    def _run_jobs(self, now: datetime, dt: float, out: Step) -> None:
        busy = {j.worker for j in self._jobs.values() if j.running}
        online = [w for i, w in enumerate(WORKERS, 1) if self._plant.get(f"worker-{i}") != "down"]
        for worker in online:
            if worker not in busy and self._queue:
                job = self._jobs[self._queue.pop(0)]
                job.running, job.worker = True, worker
                out.jobs.append(
                    JobEventIn(
                        event_id=self._id("ev"),
                        kind="started",
                        job_id=job.id,
                        at=now,
                        worker=worker,
                    )
                )
        for job in list(self._jobs.values()):
            if not job.running or dt == 0:
                continue
            job.progress = min(100.0, job.progress + job.speed * dt * self._rng.uniform(0.5, 1.5))
            if job.progress >= 100.0:
                self._finish(job, now, out, failed=False)
            elif self._rng.random() < 0.002 * dt:  # about 1 job in 20 fails
                self._finish(job, now, out, failed=True)
            else:
                out.jobs.append(
                    JobEventIn(
                        event_id=self._id("ev"),
                        kind="progress",
                        job_id=job.id,
                        at=now,
                        progress=round(job.progress, 1),
                    )
                )

    def _vouch(self, now: datetime, out: Step) -> None:
        """A job waiting in the queue says nothing for a while: the script vouches for it
        (``alive``) once a minute, so the hub's lease never mistakes a long queue for a
        lost one."""
        for event in out.jobs:
            if event.job_id in self._jobs:
                self._jobs[event.job_id].told = now
        for job in self._jobs.values():
            if job.told is None or (now - job.told).total_seconds() >= VOUCH_SECONDS:
                job.told = now
                out.jobs.append(
                    JobEventIn(event_id=self._id("ev"), kind="alive", job_id=job.id, at=now)
                )

    def _finish(self, job: _Job, now: datetime, out: Step, *, failed: bool) -> None:
        del self._jobs[job.id]
        error = (
            self._rng.choice(
                (
                    "CUDA out of memory on " + (job.worker or "?"),
                    "node KSampler: NaN in latent",
                    "worker lost",
                )
            )
            if failed
            else None
        )
        out.jobs.append(
            JobEventIn(
                event_id=self._id("ev"),
                kind="failed" if failed else "completed",
                job_id=job.id,
                at=now,
                error=error,
            )
        )

    def _advance_workflows(self, now: datetime, out: Step) -> None:
        for wf, (stage, jobs) in list(self._workflows.items()):
            if any(j in self._jobs for j in jobs):
                continue  # still generating
            if stage + 1 >= len(STAGES):
                del self._workflows[wf]
                out.workflows.append(
                    WorkflowEventIn(
                        event_id=self._id("ev"), kind="completed", workflow_id=wf, at=now
                    )
                )
            elif self._rng.random() < 0.3:
                self._workflows[wf] = (stage + 1, jobs)
                out.workflows.append(
                    WorkflowEventIn(
                        event_id=self._id("ev"),
                        kind="stage_changed",
                        workflow_id=wf,
                        at=now,
                        stage=STAGES[stage + 1],
                    )
                )

    def _flap(self, out: Step) -> None:
        """Services trouble now and then: about one episode per service in three minutes,
        lasting some 25 s, so the first minutes show every kind of notice at a rate a person
        accepts (the README's ceiling), and a stretch of flips the hub calls flapping."""
        rng = self._rng
        for service in ("comfyui-2", "database", "worker-3"):
            mode = self._plant.get(service, "ok")
            if mode == "ok" and rng.random() < 0.006:
                new = rng.choice(("slow", "down")) if service != "worker-3" else "down"
            elif mode != "ok" and rng.random() < 0.04:
                new = "ok"
            else:
                continue
            self._plant[service] = new
            out.plant.append(PlantSetting(service, new))

    def _pods_step(self, now: datetime, out: Step) -> None:
        rng = self._rng
        running = [p for p in self._pods.values() if p.status == "RUNNING"]
        first = self._n_pods_started == 0
        if len(running) < self._max_pods and (first or rng.random() < 0.05):
            self._n_pods_started += 1
            gpu, cents = rng.choice(POD_TYPES)
            if sum(p.cost_per_hour_cents for p in running) + cents > self._budget_cents:
                return  # day-to-day scaling stays within budget; only the burst overspends
            self._start_pod("render", gpu, cents, now, out)
        elif running and rng.random() < 0.03:
            pod = rng.choice(running)
            if pod.id in self._burst:  # the burst episode ends its own pods
                return
            self._end_pod(pod.id, out)

    def _start_pod(self, kind: str, gpu: str, cents: int, now: datetime, out: Step) -> CloudPod:
        pod = CloudPod(
            id=self._id("pod"),
            name=f"{kind}-{self._n}",
            status="RUNNING",
            cost_per_hour_cents=cents,
            gpu_type=gpu,
            gpu_count=1,
            uptime_seconds=0,
            provider="simulated",
        )
        self._pods[pod.id] = pod
        self._pod_started[pod.id] = now
        out.pods.append((pod, None))
        return pod

    def _end_pod(self, pod_id: str, out: Step) -> None:
        """The pod exits (stopped, replaced or its burst over): it costs nothing from now."""
        pod = self._pods.pop(pod_id)
        self._pod_started.pop(pod_id, None)
        gone = pod.model_copy(update={"status": "EXITED", "cost_per_hour_cents": 0})
        out.pods.append((gone, pod.status))

    def _cloud_episodes(self, now: datetime, out: Step) -> None:
        """A pod that errors and is replaced, and a deadline burst that overspends the
        budget for a minute: each once in the first minutes, then every seven to twelve,
        never both at once (a pod in error outranks an exceeded budget)."""
        if self._start is None:
            self._start = now
        t = (now - self._start).total_seconds()
        rng = self._episode_rng
        for pod_id, until in list(self._errored.items()):
            if t >= until:  # replaced: the errored pod goes, the usual start brings another
                del self._errored[pod_id]
                self._end_pod(pod_id, out)
        if self._burst_until is not None and t >= self._burst_until:
            for pod_id in sorted(self._burst):
                self._end_pod(pod_id, out)
            self._burst.clear()
            self._burst_until = None
        quiet = not self._errored and self._burst_until is None
        candidates = [p for p in self._pods.values() if p.status == "RUNNING"]
        if t >= self._pod_error_at and quiet and candidates:
            pod = candidates[0]
            failed = pod.model_copy(update={"status": "ERROR"})
            self._pods[pod.id] = failed
            self._errored[pod.id] = t + POD_ERROR_SECONDS
            out.pods.append((failed, pod.status))
            self._pod_error_at = t + rng.uniform(*EPISODE_EVERY)
        elif t >= self._burst_at and quiet:
            rate = sum(p.cost_per_hour_cents for p in candidates)
            while rate <= self._budget_cents:
                gpu, cents = POD_TYPES[1]  # the big ones, for a deadline
                self._burst.add(self._start_pod("deadline", gpu, cents, now, out).id)
                rate += cents
            self._burst_until = t + BUDGET_BURST_SECONDS
            self._burst_at = t + rng.uniform(*EPISODE_EVERY)

    @property
    def pods(self) -> list[CloudPod]:
        """The running pods as a provider reports them now: real uptime and a GPU load."""
        now = self._last
        out = []
        for pod in self._pods.values():
            started = self._pod_started.get(pod.id)
            uptime = int((now - started).total_seconds()) if now and started else 0
            util = round(self._util_rng.uniform(55.0, 98.0), 1)
            out.append(pod.model_copy(update={"uptime_seconds": uptime, "gpu_util_percent": util}))
        return out
