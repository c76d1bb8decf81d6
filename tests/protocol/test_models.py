"""The wire contract: seed 000's footer verbatim, events, socket messages, bad data."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio_status.protocol import (
    MAX_MESSAGE_BYTES,
    BudgetStatus,
    Event,
    FooterEnvelope,
    HealthStatus,
    HelloMessage,
    MessageTooLarge,
    ProtocolError,
    ServiceHealthChanged,
    SnapshotMessage,
    SubscribeMessage,
    parse_client_message,
    parse_model,
    parse_server_message,
    topic_allowed,
    worst_status,
)
from studio_status.protocol.common import Role

SEED_FOOTER = {
    "data": {
        "services": {
            "comfyui": {"status": "healthy", "instances": 2, "checked_at": "2026-02-24T10:00:00Z"},
            "database": {
                "status": "healthy",
                "latency_ms": 3,
                "checked_at": "2026-02-24T10:00:00Z",
            },
            "workers": {
                "status": "healthy",
                "online": 3,
                "total": 4,
                "checked_at": "2026-02-24T10:00:00Z",
            },
        },
        "cloud_gpu": {
            "active_pods": 2,
            "cost_per_hour_cents": 124,
            "budget_status": "within_budget",
        },
        "jobs": {"running": 3, "queued": 5, "overall_progress": 72},
        "workflows": {"active": 2, "current_stage": "generating"},
    }
}


def test_seed_footer_parses_field_for_field() -> None:
    env = parse_model(FooterEnvelope, SEED_FOOTER, "footer")
    services = env.data.services
    assert services is not None
    assert services["comfyui"].instances == 2
    assert services["database"].latency_ms == 3
    assert (services["workers"].online, services["workers"].total) == (3, 4)
    assert env.data.cloud_gpu is not None
    assert env.data.cloud_gpu.cost_per_hour_cents == 124
    assert env.data.cloud_gpu.budget_status is BudgetStatus.WITHIN_BUDGET
    assert env.data.jobs.overall_progress == 72
    assert env.data.workflows.current_stage == "generating"
    # and it round-trips to the same shape (no renamed or dropped fields)
    dumped = json.loads(env.model_dump_json(exclude_none=True))
    assert dumped["data"]["jobs"] == SEED_FOOTER["data"]["jobs"]
    assert dumped["data"]["cloud_gpu"] == SEED_FOOTER["data"]["cloud_gpu"]


def test_non_admin_footer_omits_or_nulls_infrastructure() -> None:
    env = parse_model(FooterEnvelope, {"data": {"jobs": {"running": 0, "queued": 0}}}, "footer")
    assert env.data.services is None and env.data.cloud_gpu is None
    assert env.data.jobs.overall_progress is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"data": {"jobs": {"running": "many"}}}, "data.jobs.running"),
        ({"data": {"jobs": {"overall_progress": 140}}}, "data.jobs.overall_progress"),
        ({"data": {"services": {"db": {"status": "sideways"}}}}, "data.services.db.status"),
        ({}, "data"),
    ],
)
def test_bad_footer_names_the_field(payload: object, field: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_model(FooterEnvelope, payload, "footer")
    assert field in str(info.value)


def _event(kind: str, data: object, seq: int = 7) -> str:
    return json.dumps({"seq": seq, "type": kind, "ts": "2026-11-23T10:00:00Z", "data": data})


def test_known_event_is_typed() -> None:
    msg = parse_server_message(
        _event(
            "service.health_changed",
            {
                "service": "db",
                "previous": "healthy",
                "current": {"name": "db", "status": "down", "error_message": "refused"},
            },
        )
    )
    assert isinstance(msg, Event) and msg.known and msg.topic == "health"
    typed = msg.typed()
    assert isinstance(typed, ServiceHealthChanged)
    assert typed.current.status is HealthStatus.DOWN


def test_unknown_event_type_is_tolerated() -> None:
    msg = parse_server_message(_event("render.farm_exploded", {"anything": [1, 2]}))
    assert isinstance(msg, Event)
    assert not msg.known and msg.typed() is None and msg.data == {"anything": [1, 2]}


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '{"seq": 1}',
        '{"type": "snapshot"}',
        '{"type": "whatever", "seq": 1}',
        _event("service.health_changed", {"service": "db"}),
        _event("job.progress", {"job_id": "j", "progress": 250}),
        json.dumps({"seq": -1, "type": "a.b", "ts": "2026-01-01T00:00:00Z", "data": {}}),
        b"\xff\xfe",
    ],
)
def test_malformed_server_messages_raise_one_error_type(raw: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_server_message(raw)


def test_oversized_frame_refused_before_parsing() -> None:
    with pytest.raises(MessageTooLarge):
        parse_server_message(b" " * (MAX_MESSAGE_BYTES + 1))


def test_snapshot_message() -> None:
    msg = parse_server_message(
        json.dumps(
            {
                "type": "snapshot",
                "seq": 12,
                "ts": "2026-11-23T10:00:00Z",
                "hub_id": "h",
                "data": {"role": "creator", "footer": {"jobs": {"running": 1, "queued": 0}}},
            }
        )
    )
    assert isinstance(msg, SnapshotMessage)
    assert msg.data.role is Role.CREATOR and msg.data.services is None


def test_client_messages() -> None:
    hello = parse_client_message(
        '{"type": "hello", "token": "t", "topics": ["footer"], "last_seq": 4}'
    )
    assert isinstance(hello, HelloMessage) and hello.last_seq == 4
    sub = parse_client_message('{"type": "subscribe", "topics": ["job:42"]}')
    assert isinstance(sub, SubscribeMessage)
    for bad in (
        '{"type": "hello", "last_seq": -3}',
        '{"type": "nope"}',
        "{",
        '"hello"',
        '{"type": "subscribe", "topics": [""]}',
    ):
        with pytest.raises(ProtocolError):
            parse_client_message(bad)


def test_topics_by_role() -> None:
    assert topic_allowed("health", Role.ADMIN)
    assert not topic_allowed("health", Role.CREATOR)
    assert not topic_allowed("cloud", Role.REVIEWER)
    assert topic_allowed("jobs", Role.REVIEWER) and topic_allowed("footer", Role.CREATOR)


def test_worst_status_never_shows_doubt_as_green() -> None:
    assert worst_status([]) is HealthStatus.UNKNOWN
    assert worst_status([HealthStatus.HEALTHY, HealthStatus.UNKNOWN]) is HealthStatus.UNKNOWN
    assert worst_status([HealthStatus.DEGRADED, HealthStatus.UNKNOWN]) is HealthStatus.DEGRADED
    assert worst_status([HealthStatus.DOWN, HealthStatus.DEGRADED]) is HealthStatus.DOWN


@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_bytes_either_parse_or_raise_protocol_error(raw: bytes | str) -> None:
    with contextlib.suppress(ProtocolError):
        parse_server_message(raw)
    with contextlib.suppress(ProtocolError):
        parse_client_message(raw)


@given(
    st.dictionaries(
        st.sampled_from(["seq", "type", "ts", "data", "x"]),
        st.none()
        | st.integers()
        | st.text(max_size=20)
        | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        max_size=5,
    )
)
def test_any_object_either_parses_or_raises_protocol_error(obj: dict[str, object]) -> None:
    with contextlib.suppress(ProtocolError):
        parse_server_message(json.dumps(obj))
