"""Access per role, for every REST route the hub documents and every socket topic.

The route list is the hub's own OpenAPI document, so a route added later is covered
without touching this file: no token, a garbage token and a revoked token get 401;
creators and reviewers get 403 on admin routes; admins are never refused.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from studio_status.hub.auth import split_token
from studio_status.hub.bus import EventBus
from studio_status.protocol import ADMIN_TOPICS, EVENT_TYPES, Event, Role, Topic, topic_allowed
from tests.hub.checks.servers import Target
from tests.hubrunner import RunningHub, http_service, recv_json, recv_until, run_hub

PUBLIC = {("GET", "/health")}
#: FastAPI's own documentation routes are not in the schema; they are public and static.
PARAMS = {"service": "api", "system": "cluster-a"}
NON_ADMIN = (Role.CREATOR, Role.REVIEWER)


def operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for path, item in schema["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                out.append((method.upper(), path))
    return sorted(out)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), "x"), path)


async def call(http: httpx.AsyncClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    r = await http.request(method, concrete(path), headers=headers, json=body)
    return r.status_code


async def tokens(running: RunningHub) -> dict[str, str]:
    out = {role.value: await running.token(role) for role in Role}
    revoked = await running.token(Role.ADMIN)
    parts = split_token(revoked)
    assert parts is not None
    await running.hub.store.revoke_token(parts[0])
    out["revoked"] = revoked
    out["garbage"] = "ss_000000000000_not-a-real-secret"
    out["malformed"] = "Bearer"
    return out


async def route_problems(
    http: httpx.AsyncClient, tok: dict[str, str], method: str, path: str
) -> list[str]:
    problems = []
    public = (method, path) in PUBLIC
    for who in ("none", "revoked", "garbage", "malformed"):
        status = await call(http, method, path, tok.get(who))
        if not public and status != 401:
            problems.append(f"{method} {path} as {who}: {status}, not 401")
    status = await call(http, method, path, tok["admin"])
    if status in (401, 403) or status >= 500:
        problems.append(f"{method} {path} as admin: {status}")
    for role in NON_ADMIN:
        status = await call(http, method, path, tok[role.value])
        if status >= 500 or status == 401:
            problems.append(f"{method} {path} as {role.value}: {status}")
        if path.startswith("/admin/") and status != 403:
            problems.append(f"{method} {path} as {role.value}: {status}, not 403")
    return problems


async def test_every_route_per_role(tmp_path: Path, target: Target) -> None:
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        tok = await tokens(running)
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
            schema = (await http.get("/openapi.json")).json()
            ops = operations(schema)
            assert len(ops) >= 10
            gate = asyncio.Semaphore(16)

            async def check(method: str, path: str) -> list[str]:
                async with gate:
                    return await route_problems(http, tok, method, path)

            found = await asyncio.gather(*(check(m, p) for m, p in ops))
            problems = [p for each in found for p in each]
            assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", list(Role))
async def test_every_topic_per_role_live_and_replayed(role: Role) -> None:
    bus = EventBus("hub-a")
    every_topic = [*{topic for _, topic in EVENT_TYPES.values()}, f"{Topic.JOB_DETAIL_PREFIX}j1"]
    sub = bus.subscribe(role, every_topic)
    now = datetime.now(UTC)
    events = [
        Event(seq=i, type=kind, ts=now, data={"job_id": "j1", "footer": {"services": {}}})
        for i, kind in enumerate(sorted(EVENT_TYPES), start=1)
    ]
    for event in events:
        sub.offer(event, event.model_copy(update={"data": {"footer": {"services": None}}}))
    live = []
    while not sub.queue.empty():
        live.append(sub.queue.get_nowait())
    replayed = bus.replay(events, sub)
    for got in (live, replayed):
        topics = {EVENT_TYPES[e.type][1] for e in got}
        assert all(topic_allowed(t, role) for t in topics)
        if role is Role.ADMIN:
            assert topics >= ADMIN_TOPICS
        else:
            assert not topics & ADMIN_TOPICS
            footers = [e for e in got if e.type == "status.footer_changed"]
            assert all(e.data["footer"]["services"] is None for e in footers)


async def test_revoked_token_closes_its_open_socket(tmp_path: Path, target: Target) -> None:
    services = [http_service("api", f"{target.url}/")]
    async with run_hub(tmp_path, services, heartbeat_seconds=0.2) as running:
        creator = await running.token(Role.CREATOR)
        other = await running.token(Role.CREATOR)
        parts = split_token(creator)
        assert parts is not None
        async with (
            running.socket(creator) as doomed,
            running.socket(other) as kept,
        ):
            await recv_until(doomed, "snapshot")
            await recv_until(kept, "snapshot")
            await running.hub.store.revoke_token(parts[0])
            async with asyncio.timeout(5):
                while (msg := await recv_json(doomed)).get("type") != "error":
                    pass
            assert msg["code"] == "unauthorized"
            await asyncio.wait_for(doomed.wait_closed(), 5)
            assert doomed.close_code == 4401
            assert (await recv_until(kept, "heartbeat"))["type"] == "heartbeat"
        # and the token no longer opens one
        async with connect(running.ws_url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": creator}))
            assert json.loads(await ws.recv())["code"] == "unauthorized"
