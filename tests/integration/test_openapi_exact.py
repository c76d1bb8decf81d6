"""The OpenAPI document against what the hub does, case by case (the fuzzing run in
``tests/reliability/test_contract.py`` covers the rest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import Role
from tests.hubrunner import run_hub


def api_service() -> ServiceConfig:
    return ServiceConfig.model_validate(
        {
            "name": "api",
            "interval_seconds": 3600,
            "check": {"kind": "tcp", "host": "127.0.0.1", "port": 9},
        }
    )


async def document(http: httpx.AsyncClient) -> dict[str, Any]:
    spec: dict[str, Any] = (await http.get("/openapi.json")).json()
    return spec


async def test_null_means_the_same_in_the_document_and_the_hub(tmp_path: Path) -> None:
    async with run_hub(tmp_path, [api_service()]) as h, h.http(h.admin_token) as http:
        schema = (await document(http))["components"]["schemas"]["AlertConfigUpdate"]
        props = schema["properties"]
        assert props["channels"]["type"] == "array" and "default" not in props["channels"]
        assert {"type": "null"} in props["webhook_url"]["anyOf"]
        r = await http.put("/admin/health/alerts/api", json={"channels": None})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "channels"]
        r = await http.put(
            "/admin/health/alerts/api",
            json={"webhook_url": None, "reminder_seconds": None, "channels": ["dashboard"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["data"]["channels"] == ["dashboard"]


async def test_every_gated_operation_documents_what_the_layers_answer(tmp_path: Path) -> None:
    async with run_hub(tmp_path, [api_service()]) as h, h.http(h.admin_token) as http:
        spec = await document(http)
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                codes = set(operation["responses"])
                if path == "/health":
                    assert "401" not in codes
                    continue
                if path == "/metrics":  # its own access rule (a scrape token, loopback)
                    assert {"401", "403"} <= codes
                    continue
                assert {"401", "429"} <= codes, (method, path)
                if path.startswith("/admin/"):
                    assert "403" in codes, (method, path)
                if "requestBody" in operation:
                    assert {"413", "422"} <= codes, (method, path)
                if method in ("post", "put", "delete"):
                    assert "503" in codes, (method, path)
        restart = spec["paths"]["/admin/health/{service}/restart"]["post"]
        body = restart["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"]["properties"]["confirm"] == {
            "const": True
        }


async def test_405_lists_the_methods_of_the_resource(tmp_path: Path) -> None:
    async with run_hub(tmp_path, [api_service()]) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http(creator) as http:
            r = await http.options("/api/v1/status/footer")  # not POST /api/v1/status/{system}
            assert r.status_code == 405 and r.headers["allow"] == "GET"
            r = await http.options("/admin/health/maintenance")
            assert r.headers["allow"] == "GET, POST"
            r = await http.patch("/user/dashboard")
            assert r.headers["allow"] == "GET, PUT"
            r = await http.get("/api/v1/status/casper")
            assert r.status_code == 405 and r.headers["allow"] == "POST"
