"""What the platform's job engine pushes to the hub: job and workflow events.

Every pushed event carries a unique ``event_id`` (the hub drops repeats, so a retrying
pusher is safe) and, optionally, ``at``: events of one job older than the last applied one
are refused as out of order rather than rewinding the job.

Besides the lifecycle (``created`` → ``started`` → ``progress`` → an end), a pusher may send
``alive`` (it still vouches for the job: the lease starts again, a stall is lifted),
``stalled`` (it cannot vouch for now; ``error`` says why) and ``lost`` (it knows the job
will never be reported again; ``error`` says why). A job nobody vouches for within the
hub's ``[jobs] stall_seconds`` is shown stalled, and lost ``lost_seconds`` later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import JsonTyped, WireModel

__all__ = ["JobEventIn", "PushResult", "WorkflowEventIn"]

_Id = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")


class JobEventIn(WireModel, JsonTyped):
    event_id: str = _Id
    kind: Literal[
        "created",
        "started",
        "progress",
        "alive",
        "stalled",
        "completed",
        "failed",
        "cancelled",
        "lost",
    ]
    job_id: str = _Id
    at: datetime | None = None
    type: str | None = Field(default=None, max_length=100)
    project: str | None = Field(default=None, max_length=200)
    worker: str | None = Field(default=None, max_length=200)
    submitted_by: str | None = Field(default=None, max_length=200)
    progress: float | None = Field(default=None, ge=0, le=100)
    queue_position: int | None = Field(default=None, ge=0)
    error: str | None = Field(default=None, max_length=4000)
    workflow_id: str | None = None
    #: a short human name (ComfyUI: the prompt's main node and queue number)
    name: str | None = Field(default=None, max_length=200)
    #: who vouches for the job; the hub fills it in (``push`` for the push API)
    source: str | None = Field(default=None, max_length=200)
    #: on ``completed``: every output came from a cache, nothing ran
    cached: bool = False


class WorkflowEventIn(WireModel, JsonTyped):
    event_id: str = _Id
    kind: Literal["created", "stage_changed", "completed", "failed", "cancelled"]
    workflow_id: str = _Id
    at: datetime | None = None
    name: str | None = Field(default=None, max_length=200)
    stage: str | None = Field(default=None, max_length=100)
    job_ids: list[str] | None = None


class PushResult(WireModel):
    """``applied`` False with ``reason`` for a duplicate or an out-of-order event."""

    applied: bool
    reason: str | None = None
    seq: int | None = None
