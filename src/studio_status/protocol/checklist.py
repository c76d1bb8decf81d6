"""The startup pre-flight checklist and the platform-wide ``ready`` flag (seed 001)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import WireModel

__all__ = [
    "CheckOverride",
    "OverrideRequest",
    "ReadinessChanged",
    "StartupCheck",
    "StartupCheckState",
    "StartupChecklist",
]


class StartupCheckState(StrEnum):
    PENDING = "pending"  # not run yet (shown as loading)
    PASSED = "passed"
    FAILED = "failed"  # retried until it passes or an admin overrides it
    OVERRIDDEN = "overridden"


class CheckOverride(WireModel):
    by: str
    reason: str
    at: datetime


class StartupCheck(WireModel):
    name: str
    label: str | None = None
    kind: str
    required: bool
    state: StartupCheckState = StartupCheckState.PENDING
    error: str | None = None
    checked_at: datetime | None = None
    override: CheckOverride | None = None


class StartupChecklist(WireModel):
    """``ready`` is true when every required check passed or was overridden."""

    ready: bool
    started_at: datetime
    ready_at: datetime | None = None
    checks: list[StartupCheck]


class OverrideRequest(WireModel):
    reason: str = Field(min_length=3, max_length=500)


class ReadinessChanged(WireModel):
    """``system.readiness_changed``: the ``ready`` flag flipped; ``blocking`` names the
    required checks that hold it down (empty when ready)."""

    ready: bool
    blocking: list[str] = Field(default_factory=list)
