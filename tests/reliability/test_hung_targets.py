"""One hung target among several, under the whole hub and its scheduler.

A hung worker (or ComfyUI instance) is one target down, reported with the others' counts
("3/4 workers online", degraded), not the whole service timing out with its counts lost;
a hung plugin is reported by its checker (what it printed, its argv), not as a bare
"timed out".
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import CAPTURE
from tests.hub.checks.servers import Behaviour, LoopbackServer, Request, Response
from tests.hubrunner import run_hub, wait_for_status

TIMEOUT = 1.0


def service(name: str, check: dict[str, Any]) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {"name": name, "interval_seconds": 3600, "timeout_seconds": TIMEOUT, "check": check}
    )


def system_stats() -> bytes:
    with CAPTURE.open() as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("dir") == "http" and record.get("req") == "GET /system_stats":
                return json.dumps(record["body"]).encode()
    raise AssertionError("no /system_stats in the capture")


async def test_one_hung_target_is_one_target_down(tmp_path: Path) -> None:
    stats = system_stats()

    async def comfy(_: Request) -> Response:
        return Response(200, stats, content_type="application/json")

    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for handler, behaviour in [
            *[(None, Behaviour.RESPOND)] * 3,
            (None, Behaviour.HANG),
            (comfy, Behaviour.RESPOND),
            (comfy, Behaviour.HANG),
        ]:
            server = (
                LoopbackServer(handler=handler, behaviour=behaviour)
                if handler
                else LoopbackServer(behaviour=behaviour)
            )
            await server.start()
            stack.push_async_callback(server.close)
            servers.append(server)
        workers = service("workers", {"kind": "workers", "urls": [s.url for s in servers[:4]]})
        comfyui = service("comfyui", {"kind": "comfyui", "urls": [s.url for s in servers[4:]]})
        async with run_hub(tmp_path, [workers, comfyui]) as running:
            hub = running.hub
            await wait_for_status(hub, "workers", HealthStatus.DEGRADED, TIMEOUT * 5)
            await wait_for_status(hub, "comfyui", HealthStatus.DEGRADED, TIMEOUT * 5)
            w = hub.state.services["workers"]
            assert (w.details["online"], w.details["total"]) == (3, 4)
            assert (w.error_message or "").startswith("3/4 workers online (")
            assert "no answer within" in (w.error_message or "")
            c = hub.state.services["comfyui"]
            assert (c.details["instances"], c.details["total"]) == (1, 2)
            assert "no answer within" in (c.error_message or "")


async def test_hung_plugin_is_reported_by_its_checker(tmp_path: Path) -> None:
    script = tmp_path / "check_license.py"
    script.write_text(
        "import time\nprint('CRITICAL - license server silent | wait=30s', flush=True)\n"
        "time.sleep(60)\n"
    )
    plugin = service("license", {"kind": "command", "argv": [sys.executable, str(script)]})
    async with run_hub(tmp_path, [plugin]) as running:
        hub = running.hub
        await wait_for_status(hub, "license", HealthStatus.DOWN, TIMEOUT * 6)
        svc = hub.state.services["license"]
        assert svc.error_message == (
            f"plugin timed out after {TIMEOUT:g} s and was killed;"
            " it had printed: CRITICAL - license server silent"
        )
        assert svc.details["perfdata"] == "wait=30s"
        assert svc.details["argv"] == [sys.executable, str(script)]
