"""Autostart entries written and removed, the desktop entry and icons installed, in temp dirs."""

from __future__ import annotations

import plistlib
import struct
from pathlib import Path

import pytest

from studio_status.desktop import install
from studio_status.desktop.autostart import (
    LaunchAgent,
    XdgAutostart,
    for_platform,
    launch_command,
)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_xdg_autostart_written_and_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    entry = for_platform("linux")
    assert isinstance(entry, XdgAutostart)
    assert entry.path == tmp_path / "autostart" / "studio-status.desktop"
    assert not entry.enabled()
    entry.enable(["/opt/Studio Status/studio-status", "--profile", "100%"])
    text = entry.path.read_text()
    assert "Exec='/opt/Studio Status/studio-status' --profile 100%%" in text
    assert "Type=Application" in text and "Icon=studio-status" in text
    assert "X-GNOME-Autostart-enabled=true" in text and "TryExec" not in text
    assert entry.enabled()
    entry.disable()
    entry.disable()  # twice is fine
    assert not entry.path.exists() and not entry.enabled()


def test_launch_agent_written_and_removed(tmp_path: Path) -> None:
    agent = LaunchAgent(tmp_path / "LaunchAgents")
    agent.enable(["/Applications/Studio Status.app/Contents/MacOS/studio-status"])
    plist = plistlib.loads(agent.path.read_bytes())
    assert plist["Label"] == "com.studio-status.app" and plist["RunAtLoad"] is True
    assert plist["ProgramArguments"] == [
        "/Applications/Studio Status.app/Contents/MacOS/studio-status"
    ]
    assert agent.enabled()
    agent.disable()
    assert not agent.enabled()


def test_platform_choice() -> None:
    assert type(for_platform("darwin")).__name__ == "LaunchAgent"
    assert type(for_platform("win32")).__name__ == "RunKey"
    assert launch_command()  # the installed script or python -m studio_status


def test_install_desktop_writes_entry_and_every_icon(tmp_path: Path) -> None:
    written = install.install(["studio-status"], data_home=tmp_path)
    entry = tmp_path / "applications" / "studio-status.desktop"
    assert entry in written and "Exec=studio-status" in entry.read_text()
    icons = tmp_path / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / "studio-status.svg").exists()
    for size in install.ICON_SIZES:
        png = icons / f"{size}x{size}" / "apps" / "studio-status.png"
        assert _png_size(png) == (size, size)
    for size in install.HIDPI_SIZES:
        png = icons / f"{size}x{size}@2" / "apps" / "studio-status.png"
        assert _png_size(png) == (2 * size, 2 * size)
    removed = install.uninstall(data_home=tmp_path)
    assert set(removed) == set(written)
    assert not entry.exists()


def test_tray_state_svgs_differ_in_shape_not_only_colour() -> None:
    tray = install.resource_root() / "icons" / "tray"
    paths = {}
    for state in ("healthy", "degraded", "down", "unknown", "processing"):
        for theme in ("light", "dark"):
            svg = (tray / f"{state}-{theme}.svg").read_text()
            assert "<path" in svg and 'viewBox="0 0 32 32"' in svg
        paths[state] = [
            line for line in (tray / f"{state}-light.svg").read_text().splitlines() if " d=" in line
        ]
    shapes = {state: p[0].split(" d=")[1] for state, p in paths.items()}
    assert shapes["degraded"] != shapes["down"] != shapes["healthy"]
    assert shapes["degraded"] != shapes["healthy"]
