"""Three hub replicas on loopback ports sharing one real PostgreSQL act as one hub: every
socket on every replica records the same events in the same order, each service is checked
by one replica, tokens and mutes made through one hold on all, a webhook gets each
escalation once, and the app's client fails over from replica to replica and resumes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from studio_status.client.state import ConnectionState, StatusStore
from studio_status.client.stream import StatusClient
from studio_status.hub.health_settings import HealthSettings
from studio_status.protocol import Role, Topic
from tests.hub.checks.servers import Target, free_port
from tests.hub.test_alerts import Receiver
from tests.hubrunner import RunningHub, http_service, recv_json, run_hub, until
from tests.pgserver import PgServer
from tests.storedb import fresh_database

pytestmark = pytest.mark.postgres

ALL_TOPICS = [
    Topic.HEALTH, Topic.FOOTER, Topic.CLOUD, Topic.JOBS, Topic.WORKFLOWS, Topic.ALERTS,
    Topic.SYSTEM, Topic.JOB_PROGRESS, Topic.ACTIVITY, Topic.ACTIVITY_ADMIN,
]  # fmt: skip


@contextlib.asynccontextmanager
async def replicas(
    tmp_path: Path, dsn: str, services: list[Any], count: int = 3, **settings: Any
) -> AsyncIterator[list[RunningHub]]:
    async with contextlib.AsyncExitStack() as stack:
        hubs = [
            await stack.enter_async_context(
                run_hub(tmp_path / f"r{i}", services, database=dsn, **settings)
            )
            for i in range(count)
        ]
        # settled: every replica sees the others, and every service has one owner
        names = [s.name for s in services]
        await until(
            lambda: (
                all(
                    h.hub.ownership is not None and len(h.hub.ownership.members) == count
                    for h in hubs
                )
                and all(
                    sum(h.hub.ownership.owns(n) for h in hubs if h.hub.ownership) == 1
                    for n in names
                )
            )
        )
        yield hubs


class Recorder:
    """A socket client that keeps every event (and the seq it has been considered to)."""

    def __init__(self, ws: ClientConnection, snapshot: dict[str, Any]) -> None:
        self.ws = ws
        self.snapshot = snapshot
        self.cursor: int = snapshot["seq"]
        self.events: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "." in msg["type"]:
                self.events.append(msg)
            self.cursor = max(self.cursor, msg.get("seq", 0))

    def between(self, after: int, upto: int) -> list[tuple[int, str, str]]:
        return [
            (e["seq"], e["type"], json.dumps(e["data"], sort_keys=True))
            for e in self.events
            if after < e["seq"] <= upto
        ]


async def record(hub: RunningHub, token: str, stack: contextlib.AsyncExitStack) -> Recorder:
    ws = await stack.enter_async_context(connect(hub.ws_url, open_timeout=10))
    await ws.send(json.dumps({"type": "hello", "token": token, "topics": ALL_TOPICS}))
    snapshot = await recv_json(ws)
    assert snapshot["type"] == "snapshot"
    recorder = Recorder(ws, snapshot)
    stack.push_async_callback(_stop, recorder)
    return recorder


async def _stop(recorder: Recorder) -> None:
    recorder.task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await recorder.task


async def test_thirty_sockets_on_three_replicas_record_the_same_stream(
    tmp_path: Path, postgres_server: PgServer
) -> None:
    targets = [Target() for _ in range(3)]
    for t in targets:
        await t.server.start()
    services = [
        http_service(name, t.server.url, interval_seconds=0.5, timeout_seconds=0.5)
        for name, t in zip("abc", targets, strict=True)
    ]
    try:
        with fresh_database(postgres_server) as dsn:
            async with (
                replicas(tmp_path, dsn, services, heartbeat_seconds=0.3) as hubs,
                contextlib.AsyncExitStack() as stack,
            ):
                # a token made through one replica holds on every one
                token = await hubs[0].token(Role.ADMIN)
                clients = [await record(hubs[i % 3], token, stack) for i in range(30)]
                start = max(c.snapshot["seq"] for c in clients)
                owners = {n: [h.hub.ownership.owns(n) for h in hubs].index(True) for n in "abc"}  # type: ignore[union-attr]
                # services flip while jobs are pushed through every replica at once
                for flip in range(2):
                    for t in targets:
                        t.status = 503 if flip == 0 else 200
                    pushes = []
                    for i, h in enumerate(hubs):
                        http = await stack.enter_async_context(h.http(token))
                        for n in range(5):
                            body = {"event_id": f"f{flip}-r{i}-{n}", "kind": "started",
                                    "job_id": f"job-{i}-{n}", "project": "trailer"}  # fmt: skip
                            if flip:
                                body["kind"] = "completed"
                            pushes.append(http.post("/api/v1/jobs/events", json=body))
                    answers = await asyncio.gather(*pushes)
                    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
                    want = "down" if flip == 0 else "healthy"
                    await until(
                        lambda want=want: all(  # type: ignore[misc]
                            h.hub.state.services[n].status.value == want
                            for h in hubs
                            for n in "abc"
                        )
                    )
                for h in hubs:
                    await h.hub.settle()
                final = await hubs[0].hub.store.max_seq()
                await until(lambda: all(c.cursor >= final for c in clients))
                streams = [c.between(start, final) for c in clients]
                first = streams[0]
                assert all(s == first for s in streams)
                seqs = [seq for seq, _, _ in first]
                assert seqs == list(range(start + 1, final + 1))  # one order, no gap
                types = [t for _, t, _ in first]
                health = [
                    json.loads(d)["service"] for _, t, d in first if t == "service.health_changed"
                ]
                assert sorted(set(health)) == ["a", "b", "c"]
                assert types.count("job.status_changed") == 30
                # each service was checked by one replica, the same one throughout
                assert owners == {
                    n: [h.hub.ownership.owns(n) for h in hubs].index(True)  # type: ignore[union-attr]
                    for n in "abc"
                }
    finally:
        for t in targets:
            await t.server.close()


async def test_a_webhook_gets_each_escalation_once_across_the_group(
    tmp_path: Path, postgres_server: PgServer
) -> None:
    target, receiver = Target(), Receiver()
    await target.server.start()
    await receiver.server.start()
    health = HealthSettings.model_validate(
        {
            "alerts": {
                "escalation_delay_seconds": 0,
                "webhook_url": f"{receiver.server.url}/hook",
                "channels": ["dashboard", "webhook"],
            },
            "alert_tick_seconds": 0.1,
        }
    )
    services = [http_service("api", target.server.url, interval_seconds=0.5, timeout_seconds=0.5)]
    try:
        with fresh_database(postgres_server) as dsn:
            async with replicas(tmp_path, dsn, services, health=health) as hubs:
                for incident in (1, 2):
                    target.status = 503
                    await until(lambda n=incident: receiver.kinds.count("alert.fired") >= n)  # type: ignore[misc]
                    # every replica tries the outbox at once: nothing is left to send
                    sent = await asyncio.gather(*(h.hub.alerts.deliver_due() for h in hubs))
                    assert sent == [0, 0, 0]
                    assert receiver.kinds.count("alert.fired") == incident
                    target.status = 200
                    await until(
                        lambda: all(
                            h.hub.state.services["api"].status.value == "healthy" for h in hubs
                        )
                    )
                store = hubs[0].hub.alerts.store
                await until(lambda: receiver.kinds.count("alert.resolved") == 2)
                assert await asyncio.gather(*(h.hub.alerts.deliver_due() for h in hubs)) == [0] * 3
                rows = await store.outbox()
                assert [r.kind for r in rows] == ["fired", "resolved", "fired", "resolved"]
                assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
                # each notice reached the receiver once, whichever replica claimed it
                assert len(receiver.bodies) == len(rows)
    finally:
        await target.server.close()
        await receiver.server.close()


async def test_a_mute_made_on_one_replica_or_a_cli_token_holds_on_all(
    tmp_path: Path, postgres_server: PgServer
) -> None:
    target = Target()
    await target.server.start()
    services = [http_service("api", target.server.url)]
    try:
        with fresh_database(postgres_server) as dsn:
            async with replicas(tmp_path, dsn, services) as hubs:
                async with hubs[1].http(hubs[1].admin_token) as http:
                    muted = await http.put(
                        "/admin/health/mute", json={"service": "api", "duration": "1h"}
                    )
                    assert muted.status_code == 200, muted.text
                await until(lambda: all(h.hub.alerts.muted_until("api") is not None for h in hubs))
                await until(
                    lambda: all(h.hub.state.services["api"].muted_until is not None for h in hubs)
                )
                # a token made by the CLI in another process works on every replica at once
                made = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "studio_status", "hub", "--database", dsn,
                     "token", "create", "--role", "reviewer"],
                    capture_output=True, text=True, timeout=60, check=False,
                )  # fmt: skip
                assert made.returncode == 0, made.stderr
                for h in hubs:
                    async with h.http(made.stdout.strip()) as http:
                        footer = await http.get("/api/v1/status/footer")
                        assert footer.status_code == 200
                        assert footer.json()["data"]["services"] is None  # a reviewer's view
    finally:
        await target.server.close()


async def test_the_app_client_fails_over_to_the_next_replica_and_resumes(
    tmp_path: Path, postgres_server: PgServer
) -> None:
    target = Target()
    await target.server.start()
    services = [http_service("api", target.server.url)]
    client: StatusClient | None = None
    try:
        with fresh_database(postgres_server) as dsn:
            async with run_hub(tmp_path / "b", services, database=dsn) as b:
                token = await b.token(Role.ADMIN)
                async with run_hub(tmp_path / "a", services, database=dsn) as a:
                    # a profile naming two replicas: a dead address first, then a and b
                    dead = f"http://127.0.0.1:{free_port()}"
                    client = StatusClient(
                        f"{dead}, {a.url}, {b.url}",
                        StatusStore(),
                        token=token,
                        backoff_initial=0.05,
                        backoff_max=0.2,
                        open_timeout=2,
                    )
                    client.start()
                    await until(lambda: client.store.state.connection is ConnectionState.LIVE)
                    assert client.base_url == a.url and client.last_sync == "snapshot"
                # a is gone: the client moves on to b and resumes where it was
                async with b.http(token) as http:
                    pushed = await http.post(
                        "/api/v1/jobs/events",
                        json={"event_id": "x1", "kind": "started", "job_id": "late-job"},
                    )
                    assert pushed.status_code == 200
                await until(lambda: "late-job" in client.store.state.jobs)
                assert client.base_url == b.url and client.last_sync == "resumed"
    finally:
        if client is not None:
            await client.aclose()
        await target.server.close()
