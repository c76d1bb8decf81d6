"""The app's wiring, in a child process: light imports, start, paint, quit cleanly on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.userenv import fresh_user_env

HEAVY = ("httpx", "websockets", "PySide6.QtWidgets", "studio_status.client.stream", "fastapi")


def _env(tmp_path: Path) -> dict[str, str]:
    return fresh_user_env(tmp_path, PYTHONWARNINGS="error")


def test_import_is_light(tmp_path: Path) -> None:
    code = f"import sys, studio_status.app\nprint([m for m in {HEAVY!r} if m in sys.modules])\n"
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_what_the_first_paint_needs_leaves_the_network_stack_unloaded(tmp_path: Path) -> None:
    # everything _main builds before the strip's first paint: the cached snapshot, the
    # settings, the strip, the tray, the window registry; httpx and websockets come after
    code = (
        "import sys\n"
        "import studio_status.app, studio_status.appconfig, studio_status.session\n"
        "import studio_status.client.state, studio_status.client.cache\n"
        "import studio_status.ui.strip, studio_status.ui.tray, studio_status.ui.windows\n"
        "from studio_status.client import StatusStore, SnapshotCache\n"
        f"print([m for m in {HEAVY[:2] + HEAVY[3:4]!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_runs_offline_and_quits_cleanly_on_sigint(tmp_path: Path) -> None:
    # A hub URL where nothing listens: the app must start, show the outage, and exit 0.
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from studio_status.app import run\n"
        "raise SystemExit(run(hub_url='http://127.0.0.1:9', token=None, demo=False))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3.0)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert "strip shown (docked)" in err
    assert "INFO:app:quitting" in err
