"""Monitors plugged and unplugged under a real X server, one of them at another scale.

Xvfb speaks RandR 1.5, so ``xrandr --setmonitor`` / ``--delmonitor`` add and remove
monitors the way a docking station does, and Qt's xcb platform sees real ``screenAdded``
and ``screenRemoved``. With ``QT_USE_PHYSICAL_DPI=1`` Qt derives each monitor's scale from
its physical size, so a small monitor is a real HiDPI screen (scale ≈ 2). The strip must
follow: fall back to the primary screen when its own goes, come back when it returns
(remembered by name), and reserve the right native pixels at every scale.

Needs ``Xvfb`` and ``xrandr`` (apt: xvfb, x11-xserver-utils).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 800  # the display fixture's screen

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
    ),
    pytest.mark.skipif(
        shutil.which("xrandr") is None,
        reason="xrandr not installed (apt-get install x11-xserver-utils)",
    ),
]

Docked = dict[str, Any]


class Child:
    def __init__(self, display: str, tmp_path: Path, screen: str) -> None:
        env = dict(os.environ)
        env.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            QT_USE_PHYSICAL_DPI="1",
            XDG_RUNTIME_DIR=str(tmp_path),
        )
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("QT_SCALE_FACTOR", None)
        self.display = display
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.hotplug_child", str(tmp_path / "app.toml"), screen],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen: list[Docked] = []

    def wait(self, what: str, match: Callable[[Docked], bool], timeout: float = 30) -> Docked:
        """The first placement (already seen or to come) that ``match`` accepts."""
        assert self.proc.stdout is not None
        for docked in self.seen:
            if match(docked):
                return docked
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            docked = json.loads(line)
            self.seen.append(docked)
            if match(docked):
                return docked
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        err = self.proc.stderr.read() if self.proc.stderr else ""
        pytest.fail(f"the strip never docked {what}; placements: {self.seen}\n{err}")

    def xrandr(self, *args: str) -> None:
        subprocess.run(["xrandr", "--display", self.display, *args], check=True, timeout=10)
        self.seen.clear()  # what matters now is what follows the change

    def close(self) -> None:
        """Close its stdin (its cue to quit), then collect it and its pipes."""
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def _on(screen: str) -> Callable[[Docked], bool]:
    return lambda d: d["screen"] == screen and d["visible"] and d["struts"] is not None


def test_strip_follows_monitors_coming_going_and_changing_scale(
    display: str, tmp_path: Path
) -> None:
    child = Child(display, tmp_path, "RIGHT")
    try:
        # its monitor is not there: the primary one, full width, its height reserved
        first = child.wait("on the primary screen", _on("screen"))
        assert first["wanted"] == "RIGHT"
        assert first["geometry"] == [0, HEIGHT - 30, WIDTH, 30]
        assert first["struts"] == [0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, WIDTH - 1]

        # a docking station: a normal monitor on the left, a small dense one on the right
        child.xrandr("--setmonitor", "LEFT", "640/169x800/211+0+0", "none")
        child.xrandr("--setmonitor", "RIGHT", "640/85x800/106+640+0", "none")
        right = child.wait("back on RIGHT at scale 2", _on("RIGHT"))
        dpr = right["dpr"]
        assert dpr > 1.9
        x, y, w, h = right["geometry"]
        # logical pixels: the screen's origin is not scaled; the strip shrinks its segments
        # to the narrow screen instead of overflowing it
        assert (x, w, h) == (640, round(640 / dpr), 30)
        assert y + h == round(HEIGHT / dpr)  # at the bottom of the scaled screen
        # the strut is in root pixels: twice the height, only across the right monitor
        assert right["struts"][3] == HEIGHT - round(y * dpr)
        assert right["struts"][3] in (59, 60, 61)
        assert right["struts"][10:] == [640, WIDTH - 1]

        # unplugged: the primary screen takes it, the wish is kept
        child.xrandr("--delmonitor", "RIGHT")
        gone = child.wait("on the primary screen", lambda d: d["screen"] == "LEFT")
        assert gone["wanted"] == "RIGHT"
        assert gone["geometry"] == [0, HEIGHT - 30, 640, 30]
        assert gone["struts"] == [0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 639]

        # plugged in again, now at scale 1: back where it was asked to be
        child.xrandr("--setmonitor", "RIGHT", "640/169x800/211+640+0", "none")
        back = child.wait("back on RIGHT at scale 1", _on("RIGHT"))
        assert back["dpr"] == 1.0
        assert back["geometry"] == [640, HEIGHT - 30, 640, 30]
        assert back["struts"] == [0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 640, WIDTH - 1]
    finally:
        child.close()
    assert child.proc.returncode == 0
