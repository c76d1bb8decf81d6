"""Quick actions on a service and the audit trail that records them (seed 001, admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, StrictBool

from .common import HealthStatus, WireModel

__all__ = [
    "AuditEntry",
    "CheckOutcome",
    "DiagnoseOutcome",
    "LogTail",
    "RestartOutcome",
    "RestartRequest",
]


class RestartRequest(WireModel):
    """Body of ``POST /admin/health/{service}/restart``: restarting is destructive, so the
    caller must say so explicitly."""

    confirm: StrictBool = False


class CheckOutcome(WireModel):
    """Answer of ``/recheck``: the check that just ran, already applied to the live state."""

    service: str
    status: HealthStatus
    latency_ms: int | None = None
    error_message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime


class DiagnoseOutcome(WireModel):
    """Answer of ``/diagnose``: the checker's extended output, not applied to the state."""

    service: str
    kind: str
    started_at: datetime
    duration_ms: int
    output: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class RestartOutcome(WireModel):
    service: str
    argv: list[str]
    exit_code: int | None
    timed_out: bool = False
    duration_ms: int
    #: the end of combined stdout and stderr
    output: str = ""


class LogTail(WireModel):
    service: str
    path: str
    lines: list[str]
    #: whether the file holds more lines before the first one returned
    more: bool
    size_bytes: int


class AuditEntry(WireModel):
    """Who did what, when, with what result. ``result`` is ``ok``, ``error`` or ``refused``."""

    id: int
    at: datetime
    actor: str
    action: str
    service: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    result: str
    detail: dict[str, Any] = Field(default_factory=dict)
