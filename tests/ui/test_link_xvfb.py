"""A refused token on a real X server: the real strip says so (not "unreachable"), with the
profile to fix; the screenshot is the README's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed"),
]


def test_refused_token_on_the_strip(display: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.refused_child", str(ARTIFACTS), str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shot = json.loads(done.stdout.strip().splitlines()[-1])
    assert shot["text"] == "Token refused — check the token for profile “Studio” in Settings"
    assert shot["tooltip"].startswith("Token refused by http://127.0.0.1:")
    assert "unreachable" not in (shot["text"] + shot["tooltip"]).lower()
    assert (ARTIFACTS / "strip-token-refused.png").stat().st_size > 1000
