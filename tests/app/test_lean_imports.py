"""What our processes decline to import: httpx's command-line tool, and trio (which httpcore
imports only because it is installed). Run in a fresh interpreter: the refusal is
process-wide by design."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.userenv import fresh_user_env

PROBE = """
import json, sys
from studio_status.cli import main
main(["config"])
import httpx, httpcore
print(json.dumps({
    "trio": "trio" in sys.modules and sys.modules["trio"] is not None,
    "httpx_cli": sys.modules.get("httpx._main") is not None,
    "client_ok": httpx.AsyncClient is not None,
}))
"""


def test_the_cli_does_not_load_trio_or_httpx_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=fresh_user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"trio": False, "httpx_cli": False, "client_ok": True}
