"""Quick actions on a real hub: recheck, diagnose, a real restart command, logs, audit."""

from __future__ import annotations

import sys
from pathlib import Path

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import HealthStatus, Role
from tests.hub.checks.servers import Target
from tests.hubrunner import run_hub


def service(name: str, url: str, **extra: object) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {
            "name": name,
            "interval_seconds": 3600,
            "timeout_seconds": 2,
            "check": {"kind": "http", "url": url},
            **extra,
        }
    )


async def test_quick_actions_and_audit(tmp_path: Path, target: Target) -> None:
    marker = tmp_path / "restarted"
    log = tmp_path / "api.log"
    log.write_text("".join(f"line {i}\n" for i in range(5000)), encoding="utf-8")
    restart = [
        sys.executable,
        "-c",
        "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text('yes'); print('restarted')",
        str(marker),
    ]
    services = [
        service("api", target.server.url, restart=restart, log_file=str(log)),
        service("web", target.server.url, restart=[sys.executable, "-c", "raise SystemExit(3)"]),
        service("bare", target.server.url),
    ]
    async with run_hub(tmp_path, services) as h:
        admin = await h.token(Role.ADMIN)
        creator = await h.token(Role.CREATOR)
        async with h.http() as anon, h.http(creator) as other:
            for method, path in (
                ("POST", "/admin/health/api/recheck"),
                ("POST", "/admin/health/api/diagnose"),
                ("POST", "/admin/health/api/restart"),
                ("GET", "/admin/health/api/logs"),
                ("GET", "/admin/health/audit"),
            ):
                assert (await anon.request(method, path)).status_code == 401, path
                body = {"confirm": True} if path.endswith("restart") else None
                assert (await other.request(method, path, json=body)).status_code == 403, path
        assert not marker.exists()

        async with h.http(admin) as http:
            target.status = 503
            resp = await http.post("/admin/health/api/recheck")
            assert resp.status_code == 200, resp.text
            assert resp.json()["data"]["status"] == "down"
            assert h.hub.state.services["api"].status is HealthStatus.DOWN
            target.status = 200

            diag = (await http.post("/admin/health/api/diagnose")).json()["data"]
            assert diag["kind"] == "http" and diag["output"]["status"] == "healthy"

            refused = await http.post("/admin/health/api/restart")
            assert refused.status_code == 400 and "confirm" in refused.json()["detail"]
            refused = await http.post("/admin/health/api/restart", json={"confirm": False})
            assert refused.status_code == 400
            bad = await http.post("/admin/health/api/restart", json={"confirm": "yes"})
            assert bad.status_code == 422
            assert not marker.exists()

            done = await http.post("/admin/health/api/restart", json={"confirm": True})
            assert done.status_code == 200, done.text
            out = done.json()["data"]
            assert out["exit_code"] == 0 and "restarted" in out["output"]
            assert marker.read_text() == "yes"

            failed = (await http.post("/admin/health/web/restart", json={"confirm": True})).json()
            assert failed["data"]["exit_code"] == 3
            none = await http.post("/admin/health/bare/restart", json={"confirm": True})
            assert none.status_code == 409 and "no restart" in none.json()["detail"]
            assert (await http.post("/admin/health/nope/recheck")).status_code == 404

            logs = (await http.get("/admin/health/api/logs")).json()["data"]
            assert logs["lines"] == [f"line {i}" for i in range(4900, 5000)] and logs["more"]
            few = (await http.get("/admin/health/api/logs", params={"lines": 3})).json()
            assert few["data"]["lines"] == ["line 4997", "line 4998", "line 4999"]
            assert (await http.get("/admin/health/bare/logs")).status_code == 404

            trail = (await http.get("/admin/health/audit")).json()["data"]
            got = [(e["action"], e["service"], e["result"]) for e in trail]
            assert got[:6] == [
                ("logs", "api", "ok"),
                ("logs", "api", "ok"),
                ("restart", "web", "error"),
                ("restart", "api", "ok"),
                ("restart", "api", "refused"),
                ("restart", "api", "refused"),
            ]
            assert ("recheck", "api", "ok") in got and ("diagnose", "api", "ok") in got
            assert all(e["actor"].startswith("test-admin (") for e in trail)
            only = (await http.get("/admin/health/audit", params={"action": "restart"})).json()
            assert {e["action"] for e in only["data"]} == {"restart"}
            page = (await http.get("/admin/health/audit", params={"limit": 2})).json()["data"]
            rest = await http.get("/admin/health/audit", params={"before_id": page[-1]["id"]})
            assert rest.json()["data"][0]["id"] == page[-1]["id"] - 1
