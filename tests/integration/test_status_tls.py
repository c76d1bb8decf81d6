"""``studio-status status`` against a real TLS hub: the certificate problem on line 1 by
default, ``--ca FILE`` trusts a private CA, ``--insecure`` checks nothing (and says so)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from studio_status.protocol import Role
from studio_status.tokens import TokenStore
from tests.hub.checks.servers import Target
from tests.hub.checks.tls import ca_and_leaf
from tests.hubrunner import http_service, run_hub
from tests.userenv import fresh_user_env


async def status(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "studio_status",
        "status",
        *args,
        env=fresh_user_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_status_names_the_certificate_problem_and_trusts_a_ca(
    tmp_path: Path, target: Target
) -> None:
    ca, leaf = ca_and_leaf(tmp_path)
    async with run_hub(
        tmp_path / "hub",
        [http_service("api", f"{target.url}/")],
        tls_certfile=leaf.cert,
        tls_keyfile=leaf.key,
    ) as running:
        token = await running.token(Role.ADMIN)
        base = ("--hub", running.url, "--token", token)
        code, out, _err = await status(tmp_path, *base)
        assert code == 3
        first = out.splitlines()[0]
        assert first.startswith(f"UNKNOWN: Hub certificate not trusted ({running.url})")
        assert "signed by a CA this computer does not trust" in first
        code, out, _err = await status(tmp_path, *base, "--ca", str(ca))
        assert code == 0 and out.startswith("OK: "), out
        code, out, err = await status(tmp_path, *base, "--insecure")
        assert code == 0 and out.startswith("OK: ")
        assert "certificate checks are OFF" in err
        code, out, _err = await status(tmp_path, *base, "--ca", str(tmp_path / "nope.pem"))
        assert code == 3 and out.startswith("UNKNOWN: studio-status status: --ca")
        # the profile's own verify setting: its private CA, no flag needed
        folder = tmp_path / "config" / "studio-status"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "app.toml").write_text(
            'active_profile = "Studio"\ninsecure_token_file = true\n'
            f'[[profiles]]\nname = "Studio"\nhub_url = "{running.url}"\nverify = "{ca}"\n'
        )
        TokenStore(None, config_dir=folder, allow_insecure_file=True).set("Studio", token)
        code, out, _err = await status(tmp_path)
        assert code == 0 and out.startswith("OK: "), out
