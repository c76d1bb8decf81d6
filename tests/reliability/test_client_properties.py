"""Property tests for the client's event handling: whatever arrives on the socket (random,
truncated, duplicated, reordered, oversized frames), the stream's frame handler never
raises anything but its own control flow, the store stays consistent, and a frame that
changed nothing because it was refused left a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio_status.client import StatusClient, StatusStore
from studio_status.client.errors import Unauthorized
from studio_status.client.state import ConnectionState
from studio_status.client.stream import _Resync
from studio_status.protocol import FooterData, JobStatus, ServiceHealth
from tests.client.helpers import footer_dict

T0 = "2026-01-01T00:00:00Z"
STATUSES = ["healthy", "degraded", "down", "unknown", "bogus"]
JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "exploded"]


def snapshot(seq: int) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "seq": seq,
        "ts": T0,
        "hub_id": "hub-a",
        "data": {"role": "admin", "footer": footer_dict()},
    }


def events() -> st.SearchStrategy[dict[str, Any]]:
    seq = st.integers(min_value=-3, max_value=60)
    service = st.fixed_dictionaries(
        {
            "service": st.sampled_from(["api", "db", ""]),
            "previous": st.sampled_from([*STATUSES, None]),
            "current": st.fixed_dictionaries(
                {"name": st.sampled_from(["api", "db"]), "status": st.sampled_from(STATUSES)}
            ),
        }
    )
    job = st.fixed_dictionaries(
        {
            "job": st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["j1", "j2"]),
                    "status": st.sampled_from(JOB_STATUSES),
                    "progress": st.one_of(st.none(), st.floats(-5, 150), st.text(max_size=3)),
                }
            )
        }
    )
    progress = st.fixed_dictionaries(
        {"job_id": st.sampled_from(["j1", "j2"]), "progress": st.floats(-5, 150)}
    )
    footer = st.fixed_dictionaries({"footer": st.just(footer_dict())}) | st.fixed_dictionaries(
        {"footer": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)}
    )
    typed = st.one_of(
        st.tuples(st.just("service.health_changed"), service),
        st.tuples(st.just("job.status_changed"), job),
        st.tuples(st.just("job.progress"), progress),
        st.tuples(st.just("status.footer_changed"), footer),
        st.tuples(
            st.sampled_from(["x.unknown", "alert.fired", "cloud.pod_status_changed"]),
            st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        ),
    )
    return st.builds(lambda s, t: {"seq": s, "type": t[0], "ts": T0, "data": t[1]}, seq, typed)


def controls() -> st.SearchStrategy[dict[str, Any]]:
    seq = st.integers(min_value=-3, max_value=60)
    return st.one_of(
        st.builds(lambda s: {"type": "heartbeat", "seq": s, "ts": T0}, seq),
        st.builds(
            lambda f, s, h: {"type": "resumed", "from_seq": f, "seq": s, "hub_id": h},
            seq,
            seq,
            st.sampled_from(["hub-a", "hub-b"]),
        ),
        st.builds(snapshot, seq),
        st.builds(
            lambda c: {"type": "error", "code": c, "message": "m"},
            st.sampled_from(["bad_message", "unauthorized", "too_slow"]),
        ),
    )


def frames() -> st.SearchStrategy[str | bytes]:
    message = st.one_of(events(), controls())
    encoded = message.map(json.dumps)
    return st.one_of(
        encoded,
        encoded,
        st.builds(lambda m, n: m[: max(0, len(m) - n)], encoded, st.integers(1, 40)),  # cut
        st.binary(max_size=64),
        st.text(max_size=64),
        st.builds(  # oversized: a huge field inside an otherwise valid event
            lambda e: json.dumps({**e, "data": {**e["data"], "blob": "x" * 200_000}}), events()
        ),
        st.sampled_from(["null", "[]", "{}", '{"type": 5}', '{"type": "snapshot"}', "1e999"]),
    )


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture(scope="module")
def client() -> Iterator[StatusClient]:
    # never started: only its frame handler is driven; verify=False skips loading CAs
    c = StatusClient("http://127.0.0.1:9", StatusStore(), http=httpx.AsyncClient(verify=False))
    yield c


def consistent(store: StatusStore) -> None:
    state = store.state
    assert state.footer is None or isinstance(state.footer, FooterData)
    assert all(isinstance(s, ServiceHealth) for s in state.services.values())
    assert all(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) for j in state.jobs.values())
    assert all(len(n) <= 5 for n in state.history.values())


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(frames(), max_size=25))
def test_any_frames_leave_the_store_consistent(
    client: StatusClient, batch: list[str | bytes]
) -> None:
    store = StatusStore(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    client.store = store
    client._synced = False
    client._on_frame(json.dumps(snapshot(10)))  # live, at seq 10
    assert client.live and store.state.connection is ConnectionState.LIVE
    records = Records()
    for name in ("client.events", "client.state"):
        logging.getLogger(name).addHandler(records)
    try:
        for frame in batch:
            before, logged = store.state, records.count
            raised = False
            try:
                client._on_frame(frame)
            except (_Resync, Unauthorized):
                raised = True  # the stream's own control flow: reconnect, or stop (logged)
            after = store.state
            consistent(store)
            if (
                after.hub_id == before.hub_id
                and before.last_seq is not None
                and after.last_seq is not None
                and after.last_seq < before.last_seq
            ):
                # only a snapshot of the same hub may rewind the position
                assert json.loads(frame)["type"] == "snapshot"
            if not raised and after.version == before.version and records.count == logged:
                # nothing changed and nothing was said: only a true no-op may do that
                assert _is_noop(frame, before), frame[:200]
    finally:
        for name in ("client.events", "client.state"):
            logging.getLogger(name).removeHandler(records)


def _is_noop(frame: str | bytes, before: Any) -> bool:
    """A well-formed duplicate (seq already applied) or a heartbeat/resume at our position."""
    try:
        msg = json.loads(frame)
    except ValueError:
        return False
    if not isinstance(msg, dict):
        return False
    seq = msg.get("seq")
    if "." in str(msg.get("type", "")) and isinstance(seq, int):
        return before.last_seq is not None and seq <= before.last_seq
    return msg.get("type") in {"resumed", "heartbeat"}
