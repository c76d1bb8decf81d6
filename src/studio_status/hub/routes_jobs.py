"""Job and workflow routes: the push API for the platform's job engine, and reads.

Pushing needs an admin token (the job engine runs with one); reading active jobs is open to
every role, since creators and reviewers watch their generations.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from studio_status.protocol import (
    JobEventIn,
    JobInfo,
    PushResult,
    Role,
    WorkflowEventIn,
    WorkflowInfo,
)

from .deps import Access
from .gate import GatedRoute
from .openapi import errors
from .service import Hub

__all__ = ["jobs_router"]


class JobsView(BaseModel):
    active: list[JobInfo]
    recent: list[JobInfo]
    workflows: list[WorkflowInfo]


class JobsEnvelope(BaseModel):
    data: JobsView


class PushEnvelope(BaseModel):
    data: PushResult


def jobs_router(hub: Hub) -> APIRouter:
    router = APIRouter(tags=["jobs"], route_class=GatedRoute)
    deps = Access(hub)
    Pusher = Annotated[Role, Depends(deps.only(Role.ADMIN))]
    Reader = Annotated[Role, Depends(deps.any_role)]

    @router.post(
        "/api/v1/jobs/events",
        response_model=PushEnvelope,
        responses=errors(
            503, s503="Not ready (new generation jobs are refused), or storage is failing"
        ),
    )
    async def push_job(event: JobEventIn, _: Pusher) -> PushEnvelope:
        """One job event. A repeated ``event_id`` or an out-of-order event answers 200 with
        ``applied: false`` and the reason, so a retrying pusher never sees an error for a
        send that already landed. While the startup checklist says not ready, a job the hub
        does not know yet is refused (503); jobs already known carry on to their end."""
        if not hub.ready and not hub.jobs.knows(event.job_id):
            raise HTTPException(
                503,
                "platform not ready: the startup checklist has not passed"
                f" (waiting for {', '.join(hub.checklist.blocking) or 'its first run'});"
                " new generation jobs are refused until it does"
                " (see GET /admin/health/startup-checklist)",
                headers={"Retry-After": str(round(hub.config.health.startup_retry_seconds))},
            )
        return PushEnvelope(data=hub.push_job(event))

    @router.post("/api/v1/workflows/events", response_model=PushEnvelope)
    async def push_workflow(event: WorkflowEventIn, _: Pusher) -> PushEnvelope:
        return PushEnvelope(data=hub.push_workflow(event))

    @router.get("/api/v1/jobs", response_model=JobsEnvelope)
    async def list_jobs(
        _: Reader, recent: Annotated[int, Query(ge=0, le=200)] = 20
    ) -> JobsEnvelope:
        finished = list(hub.jobs.recent)[-recent:] if recent else []
        return JobsEnvelope(
            data=JobsView(
                active=list(hub.jobs.jobs.values()),
                recent=finished[::-1],
                workflows=list(hub.jobs.workflows.values()),
            )
        )

    return router
