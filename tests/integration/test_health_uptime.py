"""``GET /admin/health/uptime`` on a real hub: roles, filters, shape, route order."""

from __future__ import annotations

from pathlib import Path

from studio_status.protocol import Role, parse_model
from studio_status.protocol.uptime import UptimeReport
from tests.hub.checks.servers import LoopbackServer
from tests.hubrunner import http_service, run_hub


async def test_uptime_route(tmp_path: Path) -> None:
    target = await LoopbackServer().start()
    try:
        services = [http_service("api", target.url), http_service("web", target.url)]
        async with run_hub(tmp_path, services) as h:
            await h.hub.recheck("api")
            await h.hub.writer.flush()
            creator = await h.token(Role.CREATOR)
            async with h.http() as anon:
                assert (await anon.get("/admin/health/uptime")).status_code == 401
            async with h.http(creator) as http:
                assert (await http.get("/admin/health/uptime")).status_code == 403
            async with h.http(h.admin_token) as http:
                resp = await http.get("/admin/health/uptime", params={"period": "24h"})
                assert resp.status_code == 200, resp.text
                report = parse_model(UptimeReport, resp.json()["data"], "uptime")
                assert report.period == "24h"
                assert [s.service for s in report.services] == ["api", "web"]
                api = report.services[0]
                assert api.uptime_percent == 100.0
                assert api.timeline is not None and api.timeline[-1].state.value == "healthy"
                one = await http.get(
                    "/admin/health/uptime", params={"service": "web", "timeline": "false"}
                )
                body = one.json()["data"]
                assert [s["service"] for s in body["services"]] == ["web"]
                assert body["services"][0]["timeline"] is None
                bad = await http.get("/admin/health/uptime", params={"period": "1y"})
                assert bad.status_code == 422 and "period" in bad.text
                missing = await http.get("/admin/health/uptime", params={"service": "nope"})
                assert missing.status_code == 404
                # the detail route still answers for real services
                assert (await http.get("/admin/health/api")).status_code == 200
    finally:
        await target.close()
