"""``studio-status install-desktop``: the desktop entry and the hicolor icons for this user.

Why a command and not a package step: a pip or PyInstaller install has no post-install
hook, yet launchers, docks and the tray look for ``studio-status.desktop`` and an icon
named ``studio-status`` in the icon theme. This copies both from the package's
``resources/`` into ``$XDG_DATA_HOME`` (``~/.local/share``): ``applications/`` and
``icons/hicolor/<size>/apps/``, and refreshes the caches when the tools exist.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

__all__ = ["ICON_SIZES", "desktop_entry", "install", "uninstall"]

log = logging.getLogger("app.desktop")

APP_ID = "studio-status"
#: The hicolor sizes shipped as PNG (plus scalable/ SVG); @2 copies for HiDPI.
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
HIDPI_SIZES = (16, 22, 24, 32, 48)


def resource_root() -> Path:
    return Path(str(resources.files("studio_status") / "resources"))


def desktop_entry(command: list[str], *, autostart: bool = False) -> str:
    """The package's desktop entry with ``Exec`` pointing at ``command``."""
    from .autostart import _desktop_exec

    template = (resource_root() / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    lines = []
    for line in template.splitlines():
        if line.startswith("TryExec="):
            continue
        lines.append(f"Exec={_desktop_exec(command)}" if line.startswith("Exec=") else line)
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-Delay=5"]
    return "\n".join(lines) + "\n"


def _data_home(data_home: Path | None) -> Path:
    if data_home is not None:
        return data_home
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def targets(data_home: Path | None = None) -> list[tuple[Path, Path]]:
    """(source, destination) for every file :func:`install` writes."""
    root = resource_root() / "icons" / "hicolor"
    base = _data_home(data_home)
    icons = base / "icons" / "hicolor"
    out = [
        (root / "scalable" / "apps" / f"{APP_ID}.svg", icons / "scalable/apps" / f"{APP_ID}.svg")
    ]
    for size in ICON_SIZES:
        rel = Path(f"{size}x{size}") / "apps" / f"{APP_ID}.png"
        out.append((root / rel, icons / rel))
    for size in HIDPI_SIZES:
        rel = Path(f"{size}x{size}@2") / "apps" / f"{APP_ID}.png"
        out.append((root / rel, icons / rel))
    return out


def install(command: list[str] | None = None, data_home: Path | None = None) -> list[Path]:
    """Write the desktop entry and icons; returns the files written."""
    from .autostart import launch_command

    base = _data_home(data_home)
    written: list[Path] = []
    for src, dst in targets(base):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    entry = base / "applications" / f"{APP_ID}.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(command or launch_command()), encoding="utf-8")
    written.append(entry)
    _refresh_caches(base)
    log.info("installed the desktop entry and %d icons under %s", len(written) - 1, base)
    return written


def uninstall(data_home: Path | None = None) -> list[Path]:
    base = _data_home(data_home)
    removed = []
    for _src, dst in targets(base):
        if dst.exists():
            dst.unlink()
            removed.append(dst)
    entry = base / "applications" / f"{APP_ID}.desktop"
    if entry.exists():
        entry.unlink()
        removed.append(entry)
    _refresh_caches(base)
    return removed


def _refresh_caches(base: Path) -> None:
    """Launchers pick new entries up sooner with fresh caches; neither tool is required."""
    for tool, arg in (
        ("update-desktop-database", base / "applications"),
        ("gtk-update-icon-cache", base / "icons" / "hicolor"),
    ):
        exe = shutil.which(tool)
        if exe and arg.exists():
            extra = ["-f", "-t"] if tool == "gtk-update-icon-cache" else []
            subprocess.run([exe, *extra, str(arg)], capture_output=True, check=False, timeout=30)
