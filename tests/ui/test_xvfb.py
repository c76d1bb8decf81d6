"""The real strip on a real X server (Xvfb): docked at the edge, strut set, screenshot kept.

Needs ``Xvfb`` (apt: xvfb, plus Qt's xcb libraries); ``xprop``/``xwininfo`` (x11-utils) to
read the window back and ``trayer`` to test the tray icon are used when present. The
screenshots land in ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_hotkey import _Keyboard

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
WIDTH, HEIGHT = 1280, 800

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
    ),
]


def _env(display: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path))
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _read_event(proc: subprocess.Popen[str], name: str, timeout: float = 30) -> dict[str, object]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if data.get("event") == name:
            return dict(data)
    err = proc.stderr.read() if proc.stderr else ""
    pytest.fail(f"child never said {name!r}; stderr:\n{err}")


def _xprop(display: str, wid: int, *props: str) -> dict[str, str]:
    out = subprocess.run(
        ["xprop", "-display", display, "-id", str(wid), *props],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = {}
    for line in out.splitlines():
        name, _, value = line.partition("=")
        values[name.split("(")[0].strip()] = value.strip()
    return values


def test_strip_docks_reserves_and_shows_tray(display: str, tmp_path: Path) -> None:
    env = _env(display, tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.xvfb_child", str(ARTIFACTS), str(tmp_path / "s.toml")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    trayer: subprocess.Popen[bytes] | None = None
    try:
        ready = _read_event(child, "ready")
        assert ready["platform"] == "xcb"
        assert ready["geometry"] == [0, HEIGHT - 30, WIDTH, 30]  # bottom edge, full width
        assert ready["struts"] == [0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, WIDTH - 1]
        assert (ARTIFACTS / "strip.png").stat().st_size > 1000
        # the toggle chord works from anywhere on the desktop, not only in our windows
        assert ready["global_shortcut"] is True
        keyboard = _Keyboard(display)
        try:
            keyboard.chord("Control_L", "Alt_L", "s")
            assert _read_event(child, "toggled")["collapsed"] is True
            keyboard.chord("Control_L", "Alt_L", "s")
            assert _read_event(child, "toggled")["collapsed"] is False
        finally:
            keyboard.close()
        wid = int(str(ready["wid"]))
        if shutil.which("xprop"):
            props = _xprop(
                display,
                wid,
                "_NET_WM_STRUT_PARTIAL",
                "_NET_WM_STRUT",
                "_NET_WM_DESKTOP",
                "_NET_WM_WINDOW_TYPE",
            )
            assert (
                props["_NET_WM_STRUT_PARTIAL"] == f"0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, {WIDTH - 1}"
            )
            assert props["_NET_WM_STRUT"] == "0, 0, 0, 30"
            assert props["_NET_WM_DESKTOP"] == str(0xFFFFFFFF)
            assert "_NET_WM_WINDOW_TYPE_DOCK" in props["_NET_WM_WINDOW_TYPE"]
        if shutil.which("xwininfo"):
            info = subprocess.run(
                ["xwininfo", "-display", display, "-id", str(wid)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert f"Absolute upper-left Y:  {HEIGHT - 30}" in info
            assert "Height: 30" in info and f"Width: {WIDTH}" in info
        if shutil.which("trayer") is None:
            tray = _read_event(child, "tray", timeout=40)
            assert tray["shown"] is False  # no tray: the strip works alone
            pytest.skip("trayer not installed: the tray icon part was not run")
        assert ready["tray_available"] is False  # no tray yet ...
        trayer = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tray = _read_event(child, "tray", timeout=40)  # ... and the icon appears when one does
        assert tray["available"] is True
        assert tray["shown"] is True
        geometry = tray["geometry"]
        assert isinstance(geometry, list) and geometry[2] > 0
        assert child.wait(20) == 0
    finally:
        if trayer is not None:
            trayer.terminate()
            trayer.wait(10)
        if child.poll() is None:
            child.kill()
        child.communicate()
