"""Alerts on a real hub: config API with field-named 422s, mute shown on the service,
``alert.fired`` on the socket when a real target fails, maintenance windows."""

from __future__ import annotations

from pathlib import Path

from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, recv_json, recv_until, run_hub


async def test_alert_api_and_socket(tmp_path: Path) -> None:
    target = Target()
    await target.server.start()
    try:
        async with run_hub(tmp_path, [http_service("api", target.server.url)]) as h:
            creator = await h.token(Role.CREATOR)
            async with h.http(creator) as other:
                assert (await other.get("/admin/health/alerts")).status_code == 403
                put = await other.put("/admin/health/alerts/api", json={"enabled": False})
                assert put.status_code == 403
                mute = await other.put("/admin/health/mute", json={"duration": "1h"})
                assert mute.status_code == 403
            async with h.http(h.admin_token) as http:
                view = (await http.get("/admin/health/alerts")).json()["data"]
                assert view["services"][0]["service"] == "api"
                assert view["services"][0]["config"]["escalation_delay_seconds"] == 300

                bad = await http.put(
                    "/admin/health/alerts/api", json={"escalation_delay_seconds": -5}
                )
                assert bad.status_code == 422 and "escalation_delay_seconds" in bad.text
                bad = await http.put("/admin/health/alerts/api", json={"webhook_url": "nope"})
                assert bad.status_code == 422 and "webhook_url" in bad.text
                bad = await http.put("/admin/health/alerts/api", json={"colour": "red"})
                assert bad.status_code == 422 and "colour" in bad.text
                ok = await http.put(
                    "/admin/health/alerts/api",
                    json={"escalation_delay_seconds": 60, "webhook_url": "http://127.0.0.1:9/x"},
                )
                assert ok.status_code == 200, ok.text
                assert ok.json()["data"]["escalation_delay_seconds"] == 60
                assert (await http.put("/admin/health/alerts/nope", json={})).status_code == 404
                view = (await http.get("/admin/health/alerts")).json()["data"]
                assert view["services"][0]["config"]["webhook_url"] == "http://127.0.0.1:9/x"

                async with h.socket(h.admin_token, ["alerts"]) as ws:
                    assert (await recv_json(ws))["type"] == "snapshot"
                    target.status = 503
                    await h.hub.recheck("api")
                    fired = await recv_until(ws, "alert.fired")
                    assert fired["data"]["alert"]["service"] == "api"
                    assert fired["data"]["alert"]["status"] == "down"
                    target.status = 200
                    await h.hub.recheck("api")
                    resolved = await recv_until(ws, "alert.resolved")
                    assert resolved["data"]["alert"]["id"] == fired["data"]["alert"]["id"]

                muted = await http.put(
                    "/admin/health/mute", json={"service": "api", "duration": "4h"}
                )
                assert muted.status_code == 200, muted.text
                detail = (await http.get("/admin/health/api")).json()["data"]["service"]
                assert detail["muted_until"] is not None
                bad = await http.put("/admin/health/mute", json={"duration": "2h"})
                assert bad.status_code == 422 and "duration" in bad.text
                assert (
                    await http.delete("/admin/health/mute", params={"service": "api"})
                ).status_code == 204
                assert (await http.delete("/admin/health/mute")).status_code == 404

                window = await http.post(
                    "/admin/health/maintenance",
                    json={
                        "service": "api",
                        "start": "2026-03-01T00:00:00Z",
                        "end": "2026-03-01T02:00:00Z",
                        "reason": "upgrade",
                    },
                )
                assert window.status_code == 201, window.text
                wid = window.json()["data"]["id"]
                listed = (await http.get("/admin/health/maintenance")).json()["data"]
                assert [w["id"] for w in listed] == [wid]
                backwards = await http.post(
                    "/admin/health/maintenance",
                    json={"start": "2026-03-01T02:00:00Z", "end": "2026-03-01T00:00:00Z"},
                )
                assert backwards.status_code == 422 and "end" in backwards.text
                assert (await http.delete(f"/admin/health/maintenance/{wid}")).status_code == 204
                assert (await http.delete(f"/admin/health/maintenance/{wid}")).status_code == 404

                trail = (await http.get("/admin/health/audit")).json()["data"]
                actions = [e["action"] for e in trail]
                assert actions[:5] == [
                    "maintenance_delete",
                    "maintenance_add",
                    "unmute",
                    "mute",
                    "alert_config",
                ]
    finally:
        await target.server.close()
