"""Schemathesis hooks for the contract run (``SCHEMATHESIS_HOOKS=tests.reliability.fuzzhooks``).

JSON Schema cannot compare two fields, nor a field with the clock. The rules of that kind
that the hub enforces are stated in the document's descriptions (end after start, a pod's
cost given once, nodes that add up, a snapshot's timestamp within the retention period and
not in the future); these hooks make generated bodies respect exactly those rules and no
others, so everything else a generated body may hold is still tested:

- ``filter_body`` drops a body that the operation's own model refuses *only* through a
  rule across fields (an error located at an object, not at a value); a body with any
  error at a value is kept, so a field bound missing from the document still shows;
- ``map_body`` moves a snapshot's valid timestamp to now (the one rule about the clock).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import schemathesis
from pydantic import BaseModel, ValidationError

from studio_status.protocol import JobEventIn, WorkflowEventIn
from studio_status.protocol.alerts import AlertConfigUpdate, MaintenanceIn, MuteRequest
from studio_status.protocol.cloud import CloudPodsPush
from studio_status.protocol.dashboard import DashboardConfigIn
from studio_status.protocol.systems import OutageIn, ReservationIn, SystemSnapshotIn

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("POST", "/admin/health/maintenance"): MaintenanceIn,
    ("PUT", "/admin/health/mute"): MuteRequest,
    ("PUT", "/admin/health/alerts/{service}"): AlertConfigUpdate,
    ("POST", "/api/v1/cloud/pods"): CloudPodsPush,
    ("PUT", "/user/dashboard"): DashboardConfigIn,
    ("POST", "/api/v1/status/outage"): OutageIn,
    ("POST", "/api/v1/status/reservation"): ReservationIn,
    ("POST", "/api/v1/status/{system}"): SystemSnapshotIn,
    ("POST", "/api/v1/jobs/events"): JobEventIn,
    ("POST", "/api/v1/workflows/events"): WorkflowEventIn,
}


def _key(ctx: Any) -> tuple[str, str]:
    return ctx.operation.method.upper(), ctx.operation.path


def _at(body: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return None
    return body


def breaks_only_cross_field_rules(model: type[BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return all(isinstance(_at(body, tuple(e["loc"])), dict) for e in exc.errors())
    return False


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    model = MODELS.get(_key(ctx))
    return model is None or not breaks_only_cross_field_rules(model, body)


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    if _key(ctx) == ("POST", "/api/v1/status/{system}") and isinstance(body, dict):
        stamp = body.get("timestamp")
        if isinstance(stamp, str):
            try:
                datetime.fromisoformat(stamp)
            except ValueError:
                return body  # a malformed one stays: it must be refused
            body = {**body, "timestamp": datetime.now(UTC).isoformat()}
    return body
