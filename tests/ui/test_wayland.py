"""The real app on a real Wayland compositor (headless Weston), with and without XWayland.

A Wayland client may neither place itself nor reserve space, so the app's decision is:
when an X server is reachable too (XWayland), ask Qt for ``xcb`` and dock as on X11;
otherwise (or when the user opts out with ``STUDIO_STATUS_NATIVE_WAYLAND=1``) run as a
native Wayland client with a floating bar the compositor places. Each branch runs here as
the real ``studio-status`` process with its own embedded hub, in its smoke mode, which
reports where the strip went once live data has arrived.

Needs ``weston`` (apt: weston) and, for the XWayland branch, ``Xvfb`` standing in for the
X server XWayland would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.userenv import fresh_user_env

pytestmark = pytest.mark.skipif(
    shutil.which("weston") is None, reason="Weston not installed (apt-get install weston)"
)

NEEDS_XVFB = pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
)
WIDTH, HEIGHT = 1280, 800
SOCKET = "wayland-studio-test"


@pytest.fixture
def weston(tmp_path: Path) -> Iterator[Path]:
    """A headless Weston; yields its XDG_RUNTIME_DIR (where its socket is)."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    log = tmp_path / "weston.log"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    for name in ("WAYLAND_DISPLAY", "DISPLAY"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                "weston",
                "--backend=headless-backend.so",
                f"--socket={SOCKET}",
                f"--width={WIDTH}",
                f"--height={HEIGHT}",
                "--idle-time=0",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not (runtime / SOCKET).exists():  # the compositor is ready when it listens
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"weston did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield runtime
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _run_app(tmp_path: Path, runtime: Path, **env_extra: str) -> dict[str, Any]:
    env = {
        k: v
        for k, v in fresh_user_env(tmp_path).items()
        if not k.startswith(("QT_", "WAYLAND_")) and k != "DISPLAY"  # the session decides
    }
    env.update(
        XDG_SESSION_TYPE="wayland",
        WAYLAND_DISPLAY=SOCKET,
        XDG_RUNTIME_DIR=str(runtime),
        **env_extra,
    )
    result = subprocess.run(
        [sys.executable, "-m", "studio_status", "--smoke-exit", "60"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(next(json.loads(s) for s in result.stdout.splitlines() if '"smoke"' in s))


def test_native_wayland_runs_as_a_floating_bar(weston: Path, tmp_path: Path) -> None:
    report = _run_app(tmp_path, weston)
    assert report["ok"] is True
    assert report["platform"] == "wayland"
    # it cannot dock or reserve, says so, and still shows the whole strip
    assert report["docked"] is False and report["reserves_space"] is False
    assert report["visible"] is True
    assert report["geometry"][2:] == [WIDTH, 30]


@NEEDS_XVFB
def test_wayland_session_with_xwayland_docks_through_xcb(
    weston: Path, display: str, tmp_path: Path
) -> None:
    report = _run_app(tmp_path, weston, DISPLAY=display)
    assert report["ok"] is True
    assert report["platform"] == "xcb"
    assert report["docked"] is True and report["reserves_space"] is True
    assert report["geometry"] == [0, HEIGHT - 30, WIDTH, 30]


@NEEDS_XVFB
def test_native_wayland_can_be_chosen_over_xwayland(
    weston: Path, display: str, tmp_path: Path
) -> None:
    report = _run_app(tmp_path, weston, DISPLAY=display, STUDIO_STATUS_NATIVE_WAYLAND="1")
    assert report["platform"] == "wayland"
    assert report["docked"] is False
