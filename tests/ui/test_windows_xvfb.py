"""Every detail window on a real X server over the simulated studio, screenshots kept.

Runs :mod:`tests.ui.windows_shots` under a fresh Xvfb: it starts the embedded hub with the
simulator (as ``studio-status demo`` does), posts two external systems as a collector would,
lets the studio run, and grabs each window in the light and the dark theme into
``test-artifacts/window-<name>-<theme>.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.procs import xvfb

from .test_xvfb import ARTIFACTS, ROOT  # the Xvfb fixture `display` is in conftest
from .xpanel import panel

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
    ),
]

WINDOWS = 9


def test_every_window_rendered_over_the_simulator(display: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path))
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.windows_shots", str(ARTIFACTS), str(tmp_path), "25"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    shots = [e for e in events if e.get("event") == "shot"]
    assert events[-1] == {"event": "done"}
    assert len(shots) == 2 * WINDOWS
    for shot in shots:
        assert shot["state"] == "content", shot  # real data in every window, no error page
        assert Path(shot["path"]).stat().st_size > 5000, shot


def test_a_window_at_scale_2_fits_the_screen(tmp_path: Path) -> None:
    """Jobs at scale 2 on a 1920×1080 screen (960×540 logical) with a panel at the bottom:
    the window opens inside the free area (it is 900×620 by default), the panel left clear."""
    with xvfb("1920x1080x24") as display:
        assert display is not None
        env = dict(os.environ)
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path))
        env.update(QT_SCALE_FACTOR="2", XDG_CONFIG_HOME=str(tmp_path / "config"))
        env.update(XDG_DATA_HOME=str(tmp_path / "data"))
        env.pop("WAYLAND_DISPLAY", None)
        with panel(display, "bottom", 60, (1920, 1080)):  # a panel reserving 30 logical px
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.ui.windows_shots",
                    str(ARTIFACTS),
                    str(tmp_path),
                    "8",
                    "jobs",
                    "-scale2",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
    assert proc.returncode == 0, proc.stderr[-4000:]
    shots = [json.loads(line) for line in proc.stdout.splitlines() if '"shot"' in line]
    assert len(shots) == 2  # light and dark
    for shot in shots:
        assert shot["scale"] == 2.0
        ax, ay, aw, ah = shot["area"]
        assert (aw, ah) == (960, 540 - 30)  # the panel's rows are not free
        x, y, w, h = shot["geometry"]
        assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, shot
        assert shot["state"] == "content"
