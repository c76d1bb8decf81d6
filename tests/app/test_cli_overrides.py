"""``--hub`` / ``--token`` are for this run only: the real app, against a real hub, must not
write what they showed (the role, the hub) into the saved profile, nor cache that hub's data
under the profile's own hub."""

from __future__ import annotations

import asyncio
import json
import sys
import tomllib
from pathlib import Path

from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, run_hub
from tests.userenv import fresh_user_env


async def test_command_line_flags_are_never_saved_into_the_profile(
    tmp_path: Path, target: Target
) -> None:
    config = tmp_path / "config" / "studio-status" / "app.toml"
    config.parent.mkdir(parents=True)
    config.write_text('active_profile = "Local"\n[[profiles]]\nname = "Local"\n')
    before = config.read_bytes()
    async with run_hub(tmp_path / "hub", [http_service("api", f"{target.url}/")]) as running:
        token = await running.token(Role.REVIEWER)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "studio_status",
            "--hub",
            running.url.removeprefix("http://"),  # scheme-less: read as http://
            "--token",
            token,
            "--smoke-exit",
            "60",
            env=fresh_user_env(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()[-2000:]
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["ok"], report
    # the reviewer's session reached the hub and was cached, but under that hub's own key
    saved = tomllib.loads(config.read_text())
    assert config.read_bytes() == before, saved
    assert all("role" not in p and "hub_url" not in p for p in saved["profiles"])
    cache = Path(report["cache"])
    assert cache.parent == tmp_path / "cache" / "studio-status"
    written = sorted(p.name for p in cache.parent.glob("footer-*.json"))
    # one file, under that hub's key: the profile's own hub has none, so nothing of
    # another hub can ever paint under it
    assert written == [cache.name]
