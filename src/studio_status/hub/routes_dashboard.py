"""Studio pulse routes (seed 002): the four widgets and the per-user dashboard document.

Widgets answer from memory (active tasks), from the store (project progress, the feed) or
from ``statvfs`` (disk health); none of them probes the platform. Disk paths are
infrastructure, so disk health is for admins; the feed leaves admin-only items out for
other roles. The dashboard document is kept per token, the hub's notion of a user.
"""

import asyncio
import os
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from studio_status.protocol import JobInfo, JobStatus, Role, utcnow
from studio_status.protocol.dashboard import (
    DEFAULT_LAYOUT,
    ActiveTask,
    ActiveTasks,
    ActivityPage,
    DashboardConfig,
    DashboardConfigIn,
    DiskHealth,
    DiskVolume,
    ProgressColour,
    ProjectProgress,
)

from .auth import split_token
from .checks.disk import disk_usage
from .checks.specs import DiskSpec
from .deps import Access
from .gate import GatedRoute
from .service import Hub

__all__ = ["dashboard_router", "disk_level", "project_colour"]

WARNING_PERCENT = 80.0
CRITICAL_PERCENT = 90.0
_STATVFS_TIMEOUT = 5.0

_bearer = HTTPBearer(auto_error=False)


class ActiveTasksEnvelope(BaseModel):
    data: ActiveTasks


class ProjectsEnvelope(BaseModel):
    data: list[ProjectProgress]


class DiskEnvelope(BaseModel):
    data: DiskHealth


class ActivityEnvelope(BaseModel):
    data: ActivityPage


class DashboardEnvelope(BaseModel):
    data: DashboardConfig


def project_colour(percent: float, blocked: bool) -> ProgressColour:
    """Seed 002's thresholds: green above 75 %, yellow from 50 %, red below or blocked."""
    if blocked or percent < 50:
        return ProgressColour.RED
    return ProgressColour.GREEN if percent > 75 else ProgressColour.YELLOW


def _measure(path: str) -> tuple[os.statvfs_result, str | None]:
    """statvfs and the mount point holding ``path`` (the figures are that volume's), in one
    worker thread: a hung mount blocks the thread, never the loop."""
    st = os.statvfs(path)
    current = os.path.realpath(path)
    while not os.path.ismount(current):
        parent = os.path.dirname(current)
        if parent == current:
            return st, None
        current = parent
    return st, current


def disk_level(used_percent: float) -> Literal["ok", "warning", "critical"]:
    """Seed 002's thresholds: warning from 80 %, critical from 90 %."""
    if used_percent >= CRITICAL_PERCENT:
        return "critical"
    return "warning" if used_percent >= WARNING_PERCENT else "ok"


def _elapsed(job: JobInfo, now: datetime) -> int | None:
    start = job.started_at if job.status is not JobStatus.QUEUED else job.submitted_at
    if start is None:
        return None
    end = job.finished_at or now
    return max(0, round((end - start).total_seconds()))


def dashboard_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["dashboard"], route_class=GatedRoute)
    deps = Access(hub)
    Reader = Annotated[Role, Depends(deps.any_role)]
    Admin = Annotated[Role, Depends(deps.only(Role.ADMIN))]
    busy: set[str] = set()  # paths whose statvfs has not come back yet

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        _: Reader,
    ) -> str:
        """The token id, the key of the caller's dashboard (the embedded hub's in-memory
        bootstrap token has none and shares one document)."""
        assert credentials is not None  # Reader already refused a missing token
        parts = split_token(credentials.credentials.strip())
        return parts[0] if parts else "bootstrap"

    Caller = Annotated[str, Depends(caller)]

    @router.get("/dashboard/widgets/active-tasks", response_model=ActiveTasksEnvelope)
    async def active_tasks(
        _: Reader, recent_completed: Annotated[int, Query(ge=0, le=200)] = 10
    ) -> ActiveTasksEnvelope:
        """Running jobs with progress and elapsed time, queued ones by position, and the
        newest finished ones."""
        now = utcnow()
        jobs = list(hub.jobs.jobs.values())
        running = [j for j in jobs if j.status is JobStatus.RUNNING]
        queued = sorted(
            (j for j in jobs if j.status is JobStatus.QUEUED),
            key=lambda j: (j.queue_position is None, j.queue_position or 0, j.submitted_at or now),
        )
        recent = list(hub.jobs.recent)[-recent_completed:][::-1] if recent_completed else []
        return ActiveTasksEnvelope(
            data=ActiveTasks(
                running=[ActiveTask(job=j, elapsed_seconds=_elapsed(j, now)) for j in running],
                queued=[ActiveTask(job=j, elapsed_seconds=_elapsed(j, now)) for j in queued],
                recent_completed=[
                    ActiveTask(job=j, elapsed_seconds=_elapsed(j, now)) for j in recent
                ],
            )
        )

    @router.get("/dashboard/widgets/project-progress", response_model=ProjectsEnvelope)
    async def project_progress(
        _: Reader, days: Annotated[float, Query(gt=0, le=365)] = 7.0
    ) -> ProjectsEnvelope:
        """Per project with job activity in the last ``days``: completed jobs over all jobs
        that were not cancelled. Blocked: failures and nothing queued or running."""
        counts = await hub.activity.db.project_counts(utcnow() - timedelta(days=days))
        out = []
        for project, by_status in sorted(counts.items()):
            approved = by_status.get("completed", 0)
            failed = by_status.get("failed", 0)
            active = by_status.get("queued", 0) + by_status.get("running", 0)
            total = approved + failed + active
            if total == 0:
                continue
            percent = round(approved * 100.0 / total, 1)
            blocked = failed > 0 and active == 0
            out.append(
                ProjectProgress(
                    project_id=project,
                    approved=approved,
                    total=total,
                    percent=percent,
                    active=active,
                    failed=failed,
                    blocked=blocked,
                    colour=project_colour(percent, blocked),
                )
            )
        return ProjectsEnvelope(data=out)

    def disk_paths() -> dict[str, str]:
        """Each watched folder with what it holds, in the words the app shows."""
        paths = {str(hub.config.database_path().parent): "Hub data"}
        for service in hub.services:
            if isinstance(service.check, DiskSpec) and service.check.path not in paths:
                paths[service.check.path] = service.label or service.name
        return paths

    async def volume(path: str, label: str) -> DiskVolume:
        if path in busy:  # a hung mount: never stack a second thread on it
            return DiskVolume(
                path=path, label=label, level="unknown", error="still waiting for the disk"
            )
        busy.add(path)
        task = asyncio.create_task(asyncio.to_thread(_measure, path))
        task.add_done_callback(lambda _: busy.discard(path))
        try:
            async with asyncio.timeout(_STATVFS_TIMEOUT):
                measured = await asyncio.shield(task)
        except TimeoutError:
            return DiskVolume(
                path=path, label=label, level="unknown", error="the disk did not answer"
            )
        except OSError as exc:
            return DiskVolume(path=path, label=label, level="unknown", error=str(exc))
        st, mount = measured
        usage = disk_usage(st)
        return DiskVolume(
            path=path,
            label=label,
            mount=mount,
            total_bytes=usage.total_bytes,
            used_bytes=usage.used_bytes,
            free_bytes=usage.free_bytes,
            used_percent=usage.used_percent,
            level=disk_level(usage.used_percent),
        )

    @router.get("/dashboard/widgets/disk-health", response_model=DiskEnvelope)
    async def disk_health(_: Admin) -> DiskEnvelope:
        """The hub's data disk and every disk-checked path, read now with statvfs."""
        volumes = await asyncio.gather(*(volume(p, n) for p, n in disk_paths().items()))
        return DiskEnvelope(
            data=DiskHealth(
                volumes=list(volumes),
                warning_percent=WARNING_PERCENT,
                critical_percent=CRITICAL_PERCENT,
            )
        )

    @router.get("/dashboard/widgets/activity-feed", response_model=ActivityEnvelope)
    async def activity_feed(
        role: Reader,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        category: Literal["job", "workflow", "system", "service", "alert"] | None = None,
        project_id: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ActivityEnvelope:
        """Newest first, each item naming the entity it is about for click-through."""
        items, more = await hub.activity.db.activity(
            limit=limit,
            offset=offset,
            admin=role is Role.ADMIN,
            category=category,
            project_id=project_id,
        )
        return ActivityEnvelope(
            data=ActivityPage(items=items, limit=limit, offset=offset, has_more=more)
        )

    @router.get("/user/dashboard", response_model=DashboardEnvelope)
    async def get_dashboard(token_id: Caller) -> DashboardEnvelope:
        """The caller's layout, widget settings and preferences; the seed's default layout
        until one is saved."""
        stored = await hub.activity.db.dashboard(token_id)
        if stored is None:
            return DashboardEnvelope(
                data=DashboardConfig(
                    layout=list(DEFAULT_LAYOUT),
                    widget_settings={},
                    preferences={},
                    is_default=True,
                )
            )
        doc, at = stored
        saved = DashboardConfigIn.model_validate(doc)
        return DashboardEnvelope(
            data=DashboardConfig(**saved.model_dump(), is_default=False, updated_at=at)
        )

    @router.put("/user/dashboard", response_model=DashboardEnvelope)
    async def put_dashboard(body: DashboardConfigIn, token_id: Caller) -> DashboardEnvelope:
        """Save (replace) the caller's document; 422 names the offending field."""
        at = utcnow()
        await hub.activity.db.save_dashboard(token_id, body.model_dump(mode="json"), at)
        return DashboardEnvelope(
            data=DashboardConfig(**body.model_dump(), is_default=False, updated_at=at)
        )

    return router
