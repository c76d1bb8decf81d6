"""A real hub on loopback watching real HTTP targets: footer, socket, windows, roles; on
SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from studio_status.protocol import (
    FooterEnvelope,
    HealthStatus,
    Role,
    parse_model,
    parse_server_message,
)
from studio_status.protocol.messages import SnapshotMessage
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, recv_json, recv_until, run_hub, wait_for_status


async def test_status_change_reaches_footer_socket_and_windows(
    tmp_path: Path, target: Target, database: Path | str
) -> None:
    services = [http_service("api", target.server.url), http_service("comfy", target.server.url)]
    async with run_hub(tmp_path, services, database=database) as h:
        await wait_for_status(h.hub, "api", HealthStatus.HEALTHY)
        await wait_for_status(h.hub, "comfy", HealthStatus.HEALTHY)
        async with h.socket(h.admin_token, ["health", "footer"]) as ws:
            snap = parse_server_message(json.dumps(await recv_json(ws)))
            assert isinstance(snap, SnapshotMessage)
            assert snap.data.services is not None
            assert snap.data.services["api"].status is HealthStatus.HEALTHY
            target.status = 503
            await h.hub.recheck("api")
            changed = await recv_until(ws, "service.health_changed")
            assert changed["seq"] > snap.seq
            assert changed["data"]["service"] == "api"
            assert changed["data"]["previous"] == "healthy"
            assert changed["data"]["current"]["status"] == "down"
            assert "503" in changed["data"]["current"]["error_message"]
            footer_event = await recv_until(ws, "status.footer_changed")
            assert footer_event["data"]["footer"]["services"]["api"]["status"] == "down"
        async with h.http(h.admin_token) as http:
            body = (await http.get("/api/v1/status/footer")).json()
        footer = parse_model(FooterEnvelope, body, "footer").data
        assert footer.services is not None
        assert footer.services["api"].status is HealthStatus.DOWN
        assert footer.services["comfy"].status is HealthStatus.HEALTHY
        await h.hub.writer.flush()
        windows = await h.hub.store.windows("api")
        assert [(w.status, w.ended_at is None) for w in windows] == [
            (HealthStatus.HEALTHY, False),
            (HealthStatus.DOWN, True),
        ]
        assert windows[0].duration_seconds is not None
        assert len(await h.hub.store.history("api", windows[0].started_at, 100)) == 2


async def test_roles_never_see_infrastructure(
    tmp_path: Path, target: Target, database: Path | str
) -> None:
    async with run_hub(tmp_path, [http_service("api", target.server.url)], database=database) as h:
        await wait_for_status(h.hub, "api", HealthStatus.HEALTHY)
        for role in (Role.CREATOR, Role.REVIEWER):
            token = await h.token(role)
            async with h.http(token) as http:
                footer = (await http.get("/api/v1/status/footer")).json()["data"]
                assert footer["services"] is None and footer["cloud_gpu"] is None
                assert footer["jobs"]["running"] == 0
                assert (await http.get("/admin/health")).status_code == 403
                assert (await http.get("/admin/health/api")).status_code == 403
            async with h.socket(token, ["health", "footer", "alerts", "cloud"]) as ws:
                snap = await recv_json(ws)
                assert snap["type"] == "snapshot" and snap["data"]["role"] == role.value
                assert snap["data"]["services"] is None
                assert snap["data"]["transitions"] is None
                assert snap["data"]["footer"]["services"] is None
                target.status = 500 if target.status == 200 else 200
                await h.hub.recheck("api")
                event = await recv_json(ws)
                # the health event is withheld; the footer arrives, redacted
                assert event["type"] == "status.footer_changed"
                assert event["data"]["footer"]["services"] is None
                assert "api" not in json.dumps(event)
        async with h.http() as anonymous:
            assert (await anonymous.get("/api/v1/status/footer")).status_code == 401
            assert (await anonymous.get("/admin/health")).status_code == 401
        async with h.http("ss_bogus_token") as bad:
            assert (await bad.get("/api/v1/status/footer")).status_code == 401
        async with h.http(h.admin_token) as http:
            overview = (await http.get("/admin/health")).json()["data"]
            assert [s["name"] for s in overview["services"]] == ["api"]
            detail = (await http.get("/admin/health/api")).json()["data"]
            assert detail["service"]["name"] == "api" and len(detail["history"]) >= 1
            assert (await http.get("/admin/health/nope")).status_code == 404
            assert (await http.get("/health")).json() == {"status": "healthy"}


async def test_socket_refuses_bad_tokens_and_survives_bad_messages(
    tmp_path: Path, target: Target, database: Path | str
) -> None:
    async with run_hub(tmp_path, [http_service("api", target.server.url)], database=database) as h:
        async with h.socket("ss_nope_nope") as ws:
            msg = await recv_json(ws)
            assert msg == {
                "type": "error",
                "code": "unauthorized",
                "message": "missing or invalid token",
                "details": {},
            }
            await ws.wait_closed()
            assert ws.close_code == 4401
        async with h.socket(h.admin_token, ["footer"]) as ws:
            assert (await recv_json(ws))["type"] == "snapshot"
            await ws.send("{not json")
            error = await recv_until(ws, "error")
            assert error["code"] == "bad_message" and "not JSON" in error["message"]
            await ws.send(json.dumps({"type": "subscribe", "topics": ["health"]}))
            target.status = 500
            await h.hub.recheck("api")
            assert (await recv_until(ws, "service.health_changed"))["data"]["service"] == "api"


async def test_resume_replays_the_gap_even_across_a_restart(
    tmp_path: Path, target: Target, database: Path | str
) -> None:
    services = [http_service("api", target.server.url)]
    async with run_hub(tmp_path, services, database=database) as h:
        await wait_for_status(h.hub, "api", HealthStatus.HEALTHY)
        async with h.socket(h.admin_token, ["health"]) as ws:
            snap = await recv_json(ws)
        hub_id, last_seq = snap["hub_id"], snap["seq"]
        target.status = 500
        await h.hub.recheck("api")
        await h.hub.settle()  # on PostgreSQL an event is numbered (and sent) at commit
        async with h.socket(h.admin_token, ["health"], last_seq=last_seq, hub_id=hub_id) as ws:
            resumed = await recv_json(ws)
            assert resumed["type"] == "resumed" and resumed["from_seq"] == last_seq
            missed = await recv_json(ws)
            assert missed["type"] == "service.health_changed" and missed["seq"] > last_seq
            # the replay ends with a heartbeat at the cursor: the client is caught up
            caught_up = await recv_json(ws)
            assert caught_up == {**caught_up, "type": "heartbeat", "seq": resumed["seq"]}
            last_seq = resumed["seq"]
        target.status = 200
        await h.hub.recheck("api")
        await h.hub.writer.flush()
    # a new hub process on the same database: the gap comes from storage
    async with run_hub(tmp_path, services, run_checks=True, database=database) as h2:
        assert h2.hub.bus.hub_id == hub_id
        async with h2.socket(h2.admin_token, ["health"], last_seq=last_seq, hub_id=hub_id) as ws:
            resumed = await recv_json(ws)
            assert resumed["type"] == "resumed"
            missed = await recv_json(ws)
            assert missed["type"] == "service.health_changed"
            assert missed["data"]["current"]["status"] == "healthy"
            assert missed["seq"] > last_seq
        # another hub's id, or a seq from the future: a fresh snapshot
        async with h2.socket(h2.admin_token, ["health"], last_seq=1, hub_id="other") as ws:
            assert (await recv_json(ws))["type"] == "snapshot"
        async with h2.socket(h2.admin_token, ["health"], last_seq=10**9, hub_id=hub_id) as ws:
            assert (await recv_json(ws))["type"] == "snapshot"


async def test_heartbeat_carries_the_cursor(
    tmp_path: Path, target: Target, database: Path | str
) -> None:
    async with run_hub(
        tmp_path,
        [http_service("api", target.server.url)],
        heartbeat_seconds=0.2,
        database=database,
    ) as h:
        creator = await h.token(Role.CREATOR)
        async with h.socket(creator, ["health", "footer"]) as ws:
            snap = await recv_json(ws)
            target.status = 500
            await h.hub.recheck("api")
            # the withheld health event still advances the creator's cursor: a heartbeat
            # comes to cover both events (on PostgreSQL events are published at commit, so
            # an earlier heartbeat may cover only the first: wait for the one that covers both)
            covered = snap["seq"] + 2
            sent: list[str] = []
            async with asyncio.timeout(10):
                while True:
                    msg = await recv_json(ws)
                    if msg["type"] == "heartbeat" and msg["seq"] >= covered:
                        break
                    if msg["type"] != "heartbeat":
                        sent.append(msg["type"])
            assert "service.health_changed" not in sent  # admin-only: never sent to a creator
