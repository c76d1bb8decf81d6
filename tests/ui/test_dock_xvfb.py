"""The strip docks beside other panels on a real X server, on every edge.

A stand-in panel (:mod:`.xpanel`: a mapped window reserving an edge with
``_NET_WM_STRUT_PARTIAL``, as tint2 or a tray bar does) shares the screen with the real
strip in a child process; the strip must sit in the work area the panel leaves, reserve
the rows past it, and move when a panel comes or goes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .test_xvfb import ARTIFACTS, HEIGHT, ROOT, WIDTH, _read_event
from .xpanel import panel

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)"
    ),
]

STRIP = 30
SIZE = (WIDTH, HEIGHT)


@contextmanager
def strip(
    display: str, tmp_path: Path, edge: str, name: str, scale: int = 1
) -> Iterator[subprocess.Popen[str]]:
    env = dict(os.environ)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_RUNTIME_DIR=str(tmp_path))
    if scale != 1:
        env["QT_SCALE_FACTOR"] = str(scale)
    env.pop("WAYLAND_DISPLAY", None)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ui.dock_child",
            str(ARTIFACTS),
            str(tmp_path / f"{name}.toml"),
            edge,
            name,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield child
    finally:
        child.kill()
        child.communicate()


def test_bottom_strip_sits_above_a_bottom_panel_and_follows_it(
    display: str, tmp_path: Path
) -> None:
    with panel(display, "bottom", 40, SIZE), strip(display, tmp_path, "bottom", "dock") as child:
        got = _read_event(child, "geometry")
        assert got["geometry"] == [0, HEIGHT - 40 - STRIP, WIDTH, STRIP]
        # the strut counts from the root's edge: the panel's rows and ours
        assert got["struts"] == [0, 0, 0, 40 + STRIP, 0, 0, 0, 0, 0, 0, 0, WIDTH - 1]
        shutil.copy(str(got["edge"]), ARTIFACTS / "strip-beside-panel.png")


def test_top_strip_sits_below_a_top_panel(display: str, tmp_path: Path) -> None:
    with panel(display, "top", 24, SIZE), strip(display, tmp_path, "top", "dock-top") as child:
        got = _read_event(child, "geometry")
        assert got["geometry"] == [0, 24, WIDTH, STRIP]
        assert got["struts"] == [0, 0, 24 + STRIP, 0, 0, 0, 0, 0, 0, WIDTH - 1, 0, 0]


def test_side_panels_shorten_the_strip(display: str, tmp_path: Path) -> None:
    with (
        panel(display, "left", 60, SIZE),
        panel(display, "right", 50, SIZE),
        strip(display, tmp_path, "bottom", "dock-side") as child,
    ):
        got = _read_event(child, "geometry")
        assert got["geometry"] == [60, HEIGHT - STRIP, WIDTH - 110, STRIP]
        assert got["struts"] == [0, 0, 0, STRIP, 0, 0, 0, 0, 0, 0, 60, WIDTH - 51]


def test_a_panel_that_appears_later_moves_the_strip(display: str, tmp_path: Path) -> None:
    with strip(display, tmp_path, "bottom", "dock-late") as child:
        got = _read_event(child, "geometry")
        assert got["geometry"] == [0, HEIGHT - STRIP, WIDTH, STRIP]
        with panel(display, "bottom", 40, SIZE):
            got = _read_event(child, "geometry")
            assert got["geometry"] == [0, HEIGHT - 40 - STRIP, WIDTH, STRIP]
            assert got["struts"][3] == 40 + STRIP
        got = _read_event(child, "geometry")  # the panel quit: back to the edge
        assert got["geometry"] == [0, HEIGHT - STRIP, WIDTH, STRIP]


def test_at_scale_2_the_panel_is_measured_in_device_pixels(display: str, tmp_path: Path) -> None:
    """A 40 px panel is 20 logical px at scale 2; the strip's strut is in device pixels."""
    with (
        panel(display, "bottom", 40, SIZE),
        strip(display, tmp_path, "bottom", "dock-scale2", scale=2) as child,
    ):
        got = _read_event(child, "geometry")
        assert got["geometry"] == [0, HEIGHT // 2 - 20 - STRIP, WIDTH // 2, STRIP]
        assert got["struts"][3] == 40 + 2 * STRIP


@pytest.mark.skipif(shutil.which("xprop") is None, reason="xprop not installed (x11-utils)")
def test_a_panel_that_grows_in_place_moves_the_strip(display: str, tmp_path: Path) -> None:
    """A panel changing its reserve (autohide, a new row of launchers) without coming or
    going: only the property changes, and the X server says so."""
    with (
        panel(display, "bottom", 40, SIZE) as win,
        strip(display, tmp_path, "bottom", "dock-grow") as child,
    ):
        assert _read_event(child, "geometry")["geometry"] == [0, HEIGHT - 40 - STRIP, WIDTH, STRIP]
        partial = [0, 0, 0, 70, 0, 0, 0, 0, 0, 0, 0, WIDTH - 1]
        subprocess.run(
            ["xprop", "-display", display, "-id", str(win), "-f", "_NET_WM_STRUT_PARTIAL",
             "32c", "-set", "_NET_WM_STRUT_PARTIAL", ",".join(map(str, partial))],
            check=True,
        )  # fmt: skip
        got = _read_event(child, "geometry")
        assert got["geometry"] == [0, HEIGHT - 70 - STRIP, WIDTH, STRIP]
        assert got["struts"][3] == 70 + STRIP


def test_the_panel_watch_hears_panels_and_nothing_else(
    display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch behind the strip's re-docking: the X server writes to our connection when
    a panel comes, changes or goes, and not at all while nothing happens (no poll)."""
    import select

    from studio_status.ui.strip.x11 import X11Properties

    monkeypatch.setenv("DISPLAY", display)
    x11 = X11Properties.open()
    assert x11 is not None

    def readable(timeout: float) -> bool:
        return bool(select.select([x11.fileno()], [], [], timeout)[0])

    try:
        assert x11.other_struts(0) == []
        assert not x11.panels_changed()
        assert not readable(0.3)  # idle: nothing arrives, nothing to wake for
        with panel(display, "left", 60, SIZE) as win:
            assert readable(10)
            assert x11.panels_changed()
            assert [s[0] for s in x11.other_struts(0)] == [60]
            assert not x11.panels_changed()
            assert not readable(0.3)
            if shutil.which("xprop") is not None:
                subprocess.run(
                    ["xprop", "-display", display, "-id", str(win), "-f", "_NET_WM_STRUT",
                     "32c", "-set", "_NET_WM_STRUT", "80,0,0,0"],
                    check=True,
                )  # fmt: skip
                assert readable(10)
                assert x11.panels_changed()
        assert readable(10)  # the panel's connection closed: its window went
        assert x11.panels_changed()
        assert x11.other_struts(0) == []
    finally:
        x11.close()
