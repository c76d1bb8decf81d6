"""The PyInstaller one-folder build, then a smoke run of the built binary (offscreen).

Slow (about 90 s to build here, ~200 MB), so it runs only with
``STUDIO_STATUS_TEST_PACKAGING=1``; ``.ci/run`` or a separate CI step sets it. The smoke run:
the binary starts with no hub configured, so it starts its own hub (in its own process, on
a thread: the bundle must hold the hub's modules), connects, writes its first snapshot cache, and
exits 0 on ``--smoke-exit``. A second run connects to a real hub started from the sources,
with a token, as a desktop pointed at a platform would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.userenv import fresh_user_env

ROOT = Path(__file__).resolve().parents[2]
BINARY = (
    ROOT / "dist" / "studio-status" / ("studio-status.exe" if os.name == "nt" else "studio-status")
)

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(
        os.environ.get("STUDIO_STATUS_TEST_PACKAGING") != "1",
        reason="set STUDIO_STATUS_TEST_PACKAGING=1 to build and smoke-test the bundle",
    ),
    pytest.mark.timeout(900),
]


def _env(tmp_path: Path) -> dict[str, str]:
    return fresh_user_env(tmp_path)


@pytest.fixture(scope="module")
def bundle() -> Path:
    started = time.monotonic()
    subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT, check=True)
    print(f"build took {time.monotonic() - started:.0f} s")
    assert BINARY.exists()
    return BINARY


def _smoke(binary: Path, tmp_path: Path, *args: str) -> dict[str, object]:
    started = time.monotonic()
    result = subprocess.run(
        [str(binary), "--smoke-exit", "60", *args],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(json.loads(s) for s in result.stdout.splitlines() if '"smoke"' in s)
    assert line["ok"] is True
    assert Path(str(line["cache"])).exists()
    print(f"smoke run took {time.monotonic() - started:.1f} s")
    return dict(line)


def test_bundle_runs_its_own_hub_and_writes_the_cache(bundle: Path, tmp_path: Path) -> None:
    line = _smoke(bundle, tmp_path)
    assert str(line["cache"]).startswith(str(tmp_path / "cache"))
    assert (tmp_path / "state" / "studio-status" / "log" / "studio-status.log").exists()


def test_bundle_connects_to_a_hub_with_a_token(bundle: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    hub = subprocess.Popen(
        [sys.executable, "-m", "studio_status", "hub", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hub.stdout is not None
        url = json.loads(hub.stdout.readline())["url"]
        token = subprocess.run(
            [str(bundle), "hub", "token", "create", "--role", "admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        _smoke(bundle, tmp_path, "--hub", url, "--token", token)
        status = subprocess.run(
            [str(bundle), "status", "--hub", url, "--token", token],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode in (0, 1, 2) and "jobs" in status.stdout
    finally:
        hub.terminate()
        hub.communicate(timeout=20)


def test_wheel_carries_the_resources(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("studio_status-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "studio_status/resources/studio-status.desktop" in names
    assert "studio_status/resources/icons/hicolor/scalable/apps/studio-status.svg" in names
    assert "studio_status/resources/icons/hicolor/48x48/apps/studio-status.png" in names
    assert "studio_status/resources/icons/tray/down-light.svg" in names
