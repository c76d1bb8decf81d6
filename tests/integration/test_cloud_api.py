"""Cloud GPU routes on a real hub: provider-neutral push, admin-only reads, live events."""

from __future__ import annotations

from pathlib import Path

from studio_status.protocol import Role
from tests.hubrunner import recv_until, run_hub


async def test_push_validation_roles_events_and_footer(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        async with (
            h.http(h.admin_token) as http,
            h.socket(h.admin_token, ["cloud", "footer"]) as ws,
        ):
            await recv_until(ws, "snapshot")
            for body, field in [
                (
                    {
                        "provider": "lambda",
                        "pods": [{"id": "a", "status": "running", "cost_per_hour": -1}],
                    },
                    "cost_per_hour",
                ),
                ({"provider": "Lambda Labs", "pods": []}, "provider"),
                (
                    {
                        "provider": "lambda",
                        "pods": [{"id": "a", "status": "x"}, {"id": "a", "status": "y"}],
                    },
                    "duplicate",
                ),
                (
                    {
                        "provider": "lambda",
                        "pods": [
                            {
                                "id": "a",
                                "status": "running",
                                "cost_per_hour": 1,
                                "cost_per_hour_cents": 100,
                            }
                        ],
                    },
                    "not both",
                ),
                ({"provider": "lambda", "pods": [{"id": "a", "state": "running"}]}, "status"),
            ]:
                bad = await http.post("/api/v1/cloud/pods", json=body)
                assert bad.status_code == 422 and field in bad.text, (body, bad.text)
            ok = await http.post(
                "/api/v1/cloud/pods",
                json={
                    "provider": "lambda",
                    "pods": [
                        {
                            "id": "a",
                            "name": "train",
                            "status": "running",
                            "cost_per_hour": 1.24,
                            "gpu_type": "H100",
                            "gpu_count": 1,
                            "gpu_util_percent": 93,
                        },
                        {"id": "b", "status": "exited", "cost_per_hour_cents": 50},
                    ],
                },
            )
            assert ok.json()["data"] == {"provider": "lambda", "pods": 2, "changed": 2}
            changed = await recv_until(ws, "cloud.pod_status_changed")
            assert changed["data"]["pod"]["id"] == "a"
            assert changed["data"]["pod"]["provider"] == "lambda"
            footer = await recv_until(ws, "status.footer_changed")
            assert footer["data"]["footer"]["cloud_gpu"] == {
                "active_pods": 1,
                "cost_per_hour_cents": 124,
                "budget_status": "within_budget",
            }
            running = (await http.get("/admin/cloud/pods?status=running")).json()["data"]
            assert [p["id"] for p in running["pods"]] == ["a"]
            assert running["pods"][0]["cost_per_hour_cents"] == 124
            costs = (await http.get("/admin/cloud/costs?hours=1")).json()["data"]
            assert costs["series"][-1]["cost_per_hour_cents"] == 124
            health = (await http.get("/admin/health")).json()["data"]["services"]
            assert {s["name"]: s["status"] for s in health}["cloud"] == "healthy"
            public = (await http.get("/api/v1/status/footer")).json()["data"]
            assert public["cloud_gpu"]["active_pods"] == 1
            assert "cloud" not in (public["services"] or {})  # opt-in footer only
        async with h.http(creator) as http:
            assert (await http.get("/admin/cloud/pods")).status_code == 403
            assert (await http.get("/admin/cloud/costs")).status_code == 403
            refused = await http.post("/api/v1/cloud/pods", json={"provider": "x", "pods": []})
            assert refused.status_code == 403
            assert (await http.get("/api/v1/status/footer")).json()["data"]["cloud_gpu"] is None
        async with h.http() as http:
            assert (await http.get("/admin/cloud/pods")).status_code == 401
