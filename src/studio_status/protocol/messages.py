"""Messages on ``WS /api/v1/events`` besides events themselves.

Client to hub: ``hello`` (first, carries the token unless the upgrade had an
``Authorization`` header, the topics, and ``last_seq`` to resume), ``subscribe`` and
``unsubscribe`` (detail topics come and go with the windows that show them), ``resume``.

Hub to client: ``snapshot`` (the full state at ``seq``), ``resumed`` (the gap after
``last_seq`` follows as ordinary events), ``heartbeat`` (carries the latest ``seq``, so a
client can tell it missed nothing), ``error``, and events. Control types have no dot;
every event type has one, which is how :func:`parse_server_message` tells them apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from .activity import CloudPod, JobInfo, StabilityState, WorkflowInfo
from .common import HealthStatus, Role, WireModel, decode_json, parse_model
from .errors import ProtocolError
from .events import Event
from .footer import FooterData
from .health import ServiceHealth

__all__ = [
    "ClientMessage",
    "ErrorMessage",
    "HeartbeatMessage",
    "HelloMessage",
    "ResumeMessage",
    "ResumedMessage",
    "ServerMessage",
    "Snapshot",
    "SnapshotMessage",
    "StabilityStatus",
    "SubscribeMessage",
    "Transition",
    "UnsubscribeMessage",
    "parse_client_message",
    "parse_server_message",
]

_TopicList = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=256)
]


class HelloMessage(WireModel):
    type: Literal["hello"] = "hello"
    token: str | None = None
    topics: _TopicList = Field(default_factory=list)
    last_seq: int | None = Field(default=None, ge=0)
    hub_id: str | None = None
    client: str | None = None


class SubscribeMessage(WireModel):
    type: Literal["subscribe"] = "subscribe"
    topics: _TopicList


class UnsubscribeMessage(WireModel):
    type: Literal["unsubscribe"] = "unsubscribe"
    topics: _TopicList


class ResumeMessage(WireModel):
    type: Literal["resume"] = "resume"
    last_seq: int = Field(ge=0)


ClientMessage = Annotated[
    HelloMessage | SubscribeMessage | UnsubscribeMessage | ResumeMessage,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[
    HelloMessage | SubscribeMessage | UnsubscribeMessage | ResumeMessage
] = TypeAdapter(ClientMessage)


class Transition(WireModel):
    """One status change of a service, for the strip's "last 5 transitions" popover."""

    service: str
    previous: HealthStatus | None = None
    status: HealthStatus
    at: datetime
    error_message: str | None = None


class StabilityStatus(WireModel):
    """Seed 003's system stability as the hub knows it now: sent on connect (in the
    snapshot) and by ``GET /api/v1/status/stability``; changes follow as
    ``system.stability_changed`` events.

    ``state`` None: no listener has learnt it yet. ``listening`` False: a listener is not
    connected, so the state may be stale (its own service says why).
    """

    state: StabilityState | None = None
    active_jobs: int | None = None
    listening: bool


class Snapshot(WireModel):
    """Everything a client needs to paint, as its role may see it.

    ``simulated`` is True when the hub runs the studio simulator: every view says so.
    ``stability`` is None when no ``pg_notify`` listener is configured.
    ``contract`` is the hub's contract number (:mod:`.contract`; None from hubs older than
    numbering). ``flapping`` names the services whose open incident the hub calls flapping
    (admins), so a client that connects mid-episode notifies it once, not every flip.
    """

    role: Role
    footer: FooterData
    services: dict[str, ServiceHealth] | None = None
    transitions: list[Transition] | None = None
    jobs: list[JobInfo] = Field(default_factory=list)
    workflows: list[WorkflowInfo] = Field(default_factory=list)
    pods: list[CloudPod] | None = None
    heartbeat_seconds: float = 15.0
    simulated: bool = False
    stability: StabilityStatus | None = None
    contract: int | None = None
    flapping: list[str] | None = None


class SnapshotMessage(WireModel):
    type: Literal["snapshot"] = "snapshot"
    seq: int = Field(ge=0)
    ts: datetime
    hub_id: str
    data: Snapshot


class ResumedMessage(WireModel):
    type: Literal["resumed"] = "resumed"
    from_seq: int = Field(ge=0)
    seq: int = Field(ge=0)
    hub_id: str


class HeartbeatMessage(WireModel):
    type: Literal["heartbeat"] = "heartbeat"
    seq: int = Field(ge=0)
    ts: datetime


class ErrorMessage(WireModel):
    type: Literal["error"] = "error"
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


ServerMessage = SnapshotMessage | ResumedMessage | HeartbeatMessage | ErrorMessage | Event

_CONTROL: dict[str, type[WireModel]] = {
    "snapshot": SnapshotMessage,
    "resumed": ResumedMessage,
    "heartbeat": HeartbeatMessage,
    "error": ErrorMessage,
}


def parse_server_message(raw: str | bytes) -> ServerMessage:
    """Parse one frame from the hub; raises :class:`ProtocolError` if it breaks the contract.

    A frame whose ``type`` is neither a control message nor dotted is refused, while any
    dotted type parses as an :class:`Event` (known or not).
    """
    obj = decode_json(raw, "server message")
    if not isinstance(obj, dict):
        raise ProtocolError("server message", "expected a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("server message", "type: missing or not a string")
    control = _CONTROL.get(kind)
    if control is not None:
        return parse_model(control, obj, f"{kind} message")  # type: ignore[return-value]
    if "." not in kind:
        raise ProtocolError("server message", f"type: unknown message type {kind!r}")
    event = parse_model(Event, obj, "event")
    event.typed()  # a known type must carry valid data; unknown types pass through
    return event


def parse_client_message(
    raw: str | bytes,
) -> HelloMessage | SubscribeMessage | UnsubscribeMessage | ResumeMessage:
    """Parse one frame from a client; raises :class:`ProtocolError` naming the bad field."""
    obj = decode_json(raw, "client message")
    try:
        return _client_adapter.validate_python(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ProtocolError("client message", f"{loc}: {first['msg']}") from None
