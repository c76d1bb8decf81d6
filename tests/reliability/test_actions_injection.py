"""Quick actions cannot be steered by a request: names are checked against the config,
restart runs the configured argv only (never a shell), logs read only the configured file."""

from __future__ import annotations

import sys
from pathlib import Path

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import run_hub

EVIL_NAMES = [
    "..%2F..%2Fetc%2Fpasswd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "..",
    "api%3Brm%20-rf%20%2F",
    "api%20%26%26%20touch%20pwned",
    "%24(touch%20pwned)",
    "api%00",
    "API",
]


async def test_names_argv_and_log_paths_come_from_config_only(
    tmp_path: Path, target: Target
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you\n")
    log_file = tmp_path / "api.log"
    log_file.write_text("line one\nline two\n")
    marker = tmp_path / "pwned"
    service = ServiceConfig.model_validate(
        {
            "name": "api",
            "interval_seconds": 3600,
            "check": {"kind": "http", "url": f"{target.url}/"},
            "restart": [sys.executable, "-c", "import sys; print(sys.argv[1:])", "configured"],
            "log_file": str(log_file),
        }
    )
    async with run_hub(tmp_path, [service]) as running:
        admin = await running.token(Role.ADMIN)
        async with running.http(admin) as http:
            for name in EVIL_NAMES:
                for method, action in (
                    ("GET", "logs"),
                    ("POST", "restart"),
                    ("POST", "diagnose"),
                    ("POST", "recheck"),
                ):
                    body = {"confirm": True} if action == "restart" else None
                    r = await http.request(method, f"/admin/health/{name}/{action}", json=body)
                    assert r.status_code in (404, 405, 422), (name, action, r.status_code)
                    assert "not for you" not in r.text
            # whatever the body says, the configured argv runs, as an argv
            r = await http.post(
                "/admin/health/api/restart",
                json={
                    "confirm": True,
                    "argv": ["sh", "-c", f"touch {marker}"],
                    "command": f"touch {marker}",
                },
            )
            assert r.status_code in (200, 422), r.text
            if r.status_code == 200:
                outcome = r.json()["data"]
                assert outcome["argv"] == service.restart
                assert "['configured']" in outcome["output"]
            # logs: only the configured file, whatever the query names
            r = await http.get(
                "/admin/health/api/logs",
                params={"path": str(secret), "file": str(secret), "lines": 10},
            )
            assert r.status_code == 200
            tail = r.json()["data"]
            assert tail["lines"] == ["line one", "line two"]
            assert Path(tail["path"]) == log_file
            r = await http.get("/admin/health/api/logs", params={"lines": 10**9})
            assert r.status_code == 422
    assert not marker.exists()
    assert not (Path.cwd() / "pwned").exists()
