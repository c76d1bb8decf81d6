"""Shared primitives of the contract: statuses, roles, the strict base model."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum, StrEnum
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from studio_status import pace as _pace

from .errors import MessageTooLarge, ProtocolError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_MESSAGE_BYTES",
    "HealthStatus",
    "InputModel",
    "JsonTyped",
    "Role",
    "WireModel",
    "decode_json",
    "parse_model",
    "utcnow",
    "worst_status",
]

#: the integers the hub takes and stores (SQLite's): the document bounds every integer so
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

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
    """Timezone-aware now; every timestamp on the wire is UTC. A sped-up demo's process
    runs on its paced clock (:mod:`studio_status.pace`): one time for the hub and the app."""
    return _pace.now()


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are kept (forward compatible), values checked."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class JsonTyped(BaseModel):
    """A model whose values must have the JSON type its schema gives: pydantic would read
    ``0`` as a date-time (1970), ``0`` / ``"yes"`` as a boolean, ``false`` or ``"7"`` as a
    number; the document says otherwise, so such a value is a 422 naming the field.
    (Pydantic's strict mode cannot do this: FastAPI validates decoded JSON, where a
    date-time is a string.)
    """

    @field_validator("*", mode="before")
    @classmethod
    def _json_type(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        kinds = _scalar_kinds(cls.model_fields[info.field_name].annotation)
        if not kinds:
            return value
        numeric = bool(kinds & {int, float})
        if isinstance(value, bool):
            if bool not in kinds:
                raise ValueError(f"{_expected(kinds)}, not true or false")
        elif isinstance(value, int | float):
            if not numeric:
                raise ValueError(f"{_expected(kinds)}, not a number")
            if float not in kinds and not INT64_MIN <= value <= INT64_MAX:
                raise ValueError(f"should be between {INT64_MIN} and {INT64_MAX}")
        elif isinstance(value, str) and not kinds & {str, datetime}:
            raise ValueError(f"{_expected(kinds)}, not a string")
        return value


class InputModel(JsonTyped):
    """Base of what clients send in (push bodies, settings): an unknown field is an error,
    so a typo is refused with a 422 instead of being silently ignored; values have their
    JSON types (:class:`JsonTyped`).

    Not ``defer_build`` (nor is :class:`WireModel`): FastAPI wraps a request body in an
    adapter with an alias, and over a deferred model that adapter is built on the first
    request, outside FastAPI's handling of the warning the alias raises (a 500).
    """

    model_config = ConfigDict(extra="forbid")


def _scalar_kinds(annotation: Any) -> set[type]:
    """The JSON scalar kinds a field's type admits (``str`` for enums and string literals);
    empty when it admits something else too (a list, a model, Any), which is left alone."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        kinds: set[type] = set()
        for arg in get_args(annotation):
            if arg is type(None):
                continue
            inner = _scalar_kinds(arg)
            if not inner:
                return set()
            kinds |= inner
        return kinds
    if origin is Literal:
        return {type(v) if not isinstance(v, Enum) else str for v in get_args(annotation)}
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return {str} if issubclass(annotation, str) else set()
        if issubclass(annotation, bool):
            return {bool}
        for kind in (datetime, int, float, str):
            if issubclass(annotation, kind):
                return {kind}
    return set()


def _expected(kinds: set[type]) -> str:
    names = {bool: "true or false", int: "a number", float: "a number", str: "a string"}
    if datetime in kinds:
        return "should be an ISO 8601 date-time string"
    return "should be " + " or ".join(sorted({names[k] for k in kinds if k in names}))


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
