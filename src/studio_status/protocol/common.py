"""Shared primitives of the contract: statuses, roles, the strict base model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import MessageTooLarge, ProtocolError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "HealthStatus",
    "InputModel",
    "Role",
    "WireModel",
    "decode_json",
    "parse_model",
    "utcnow",
    "worst_status",
]

#: Largest frame either side accepts; a snapshot of hundreds of services stays far below it.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class HealthStatus(StrEnum):
    """State of one service. ``unknown`` means no trustworthy reading, never "probably fine"."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class Role(StrEnum):
    """Roles carried by bearer tokens; only admins see infrastructure data."""

    ADMIN = "admin"
    CREATOR = "creator"
    REVIEWER = "reviewer"


_SEVERITY = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.UNKNOWN: 1,
    HealthStatus.DEGRADED: 2,
    HealthStatus.DOWN: 3,
}


def worst_status(statuses: list[HealthStatus] | tuple[HealthStatus, ...]) -> HealthStatus:
    """The most severe status; ``unknown`` outranks healthy so doubt is never shown as green."""
    if not statuses:
        return HealthStatus.UNKNOWN
    return max(statuses, key=_SEVERITY.__getitem__)


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp on the wire is UTC."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are kept (forward compatible), values checked."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class InputModel(BaseModel):
    """Base of what clients send in (push bodies, settings): an unknown field is an error,
    so a typo is refused with a 422 instead of being silently ignored.

    Not ``defer_build`` (nor is :class:`WireModel`): FastAPI wraps a request body in an
    adapter with an alias, and over a deferred model that adapter is built on the first
    request, outside FastAPI's handling of the warning the alias raises (a 500).
    """

    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


def decode_json(raw: str | bytes, what: str) -> Any:
    """Decode one JSON document, translating size and syntax problems into ProtocolError."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(what, f"{len(raw)} bytes exceeds the {MAX_MESSAGE_BYTES} limit")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(what, f"not JSON ({exc})") from None


def parse_model(model: type[M], data: Any, what: str) -> M:
    """Validate ``data`` as ``model``; a failure names the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ProtocolError(what, f"{loc}: {first['msg']}") from None
