"""The startup checklist on a real hub: not ready while a required check fails, ready after
an admin override, the override in the audit trail and the flip on the event socket."""

from __future__ import annotations

import json
from pathlib import Path

from studio_status.hub.health_settings import HealthSettings
from studio_status.protocol import Role
from tests.hub.checks.servers import LoopbackServer
from tests.hubrunner import http_service, recv_json, recv_until, run_hub


async def test_override_makes_the_hub_ready(tmp_path: Path) -> None:
    target = await LoopbackServer().start()
    health = HealthSettings.model_validate(
        {
            "startup": [
                {"name": "migrations", "kind": "migrations"},
                {"name": "api-up", "kind": "service", "service": "api"},
                {"name": "models", "kind": "files", "paths": [str(tmp_path / "missing.bin")]},
            ]
        }
    )
    try:
        async with run_hub(tmp_path, [http_service("api", target.url)], health=health) as h:
            await h.hub.recheck("api")
            creator = await h.token(Role.CREATOR)
            async with h.http(creator) as other:
                assert (await other.get("/admin/health/startup-checklist")).status_code == 403
                denied = await other.post(
                    "/admin/health/startup-checklist/models/override", json={"reason": "fine"}
                )
                assert denied.status_code == 403
            async with h.http(h.admin_token) as http, h.socket(h.admin_token, ["system"]) as ws:
                assert (await recv_json(ws))["type"] == "snapshot"
                body = (await http.get("/admin/health/startup-checklist")).json()["data"]
                states = {c["name"]: c["state"] for c in body["checks"]}
                assert states == {"migrations": "passed", "api-up": "passed", "models": "failed"}
                assert body["ready"] is False and not h.hub.ready

                no_reason = await http.post("/admin/health/startup-checklist/models/override")
                assert no_reason.status_code == 422
                short = await http.post(
                    "/admin/health/startup-checklist/models/override", json={"reason": ""}
                )
                assert short.status_code == 422 and "reason" in short.text
                missing = await http.post(
                    "/admin/health/startup-checklist/nope/override", json={"reason": "typo"}
                )
                assert missing.status_code == 404

                done = await http.post(
                    "/admin/health/startup-checklist/models/override",
                    json={"reason": "weights moved to the new share"},
                )
                assert done.status_code == 200, done.text
                assert done.json()["data"]["state"] == "overridden"
                assert h.hub.ready
                event = await recv_until(ws, "system.readiness_changed")
                assert event["data"] == {"ready": True, "blocking": []}

                trail = (await http.get("/admin/health/audit")).json()["data"]
                entry = trail[0]
                assert entry["action"] == "startup_override" and entry["actor"] == "bootstrap"
                assert entry["params"] == {
                    "check": "models",
                    "reason": "weights moved to the new share",
                }
                assert json.dumps(entry["detail"]["ready"]) == "true"
    finally:
        await target.close()
