"""Start at login, the way each desktop expects it, toggled from Settings.

* Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/studio-status.desktop``
  (the freedesktop Desktop Application Autostart spec).
* Windows: a value ``StudioStatus`` under the per-user Run key
  (``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``).
* macOS: ``~/Library/LaunchAgents/com.studio-status.app.plist`` with ``RunAtLoad``.

Each writes the command that started this program (the frozen binary, the installed
``studio-status`` script, or ``python -m studio_status``), so autostart launches the same
install the user chose. Exceptions: :class:`AutostartError` (the only one raised here).
"""

from __future__ import annotations

import logging
import os
import plistlib
import shlex
import shutil
import sys
from pathlib import Path
from typing import Protocol

__all__ = [
    "AutostartError",
    "LaunchAgent",
    "RunKey",
    "XdgAutostart",
    "for_platform",
    "launch_command",
]

log = logging.getLogger("app.desktop")

APP_ID = "studio-status"
MAC_LABEL = "com.studio-status.app"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "StudioStatus"


class AutostartError(Exception):
    """Start-at-login could not be changed (permissions, no registry ...)."""


class Autostart(Protocol):
    def enabled(self) -> bool: ...
    def enable(self, command: list[str] | None = None) -> None: ...
    def disable(self) -> None: ...


def launch_command() -> list[str]:
    """How to start this same install again."""
    if getattr(sys, "frozen", False):  # PyInstaller
        return [sys.executable]
    script = shutil.which("studio-status")
    if script:
        return [script]
    return [sys.executable, "-m", "studio_status"]


def _desktop_exec(command: list[str]) -> str:
    # Desktop Entry Exec: quote arguments with spaces; a literal % must be doubled
    return " ".join(shlex.quote(a).replace("%", "%%") for a in command)


class _FileEntry:
    """An autostart entry that is one file: written atomically (a half-written entry would
    be worse than none), removed to disable."""

    path: Path

    def _write(self, body: bytes) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(body)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.path}: {exc}") from exc
        log.info("start at login: wrote %s", self.path)

    def disable(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.path}: {exc}") from exc
        log.info("start at login: removed %s", self.path)


class XdgAutostart(_FileEntry):
    """The XDG autostart entry. ``folder`` defaults to ``$XDG_CONFIG_HOME/autostart``."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            folder = Path(base) / "autostart"
        self.path = folder / f"{APP_ID}.desktop"

    def enabled(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return False
        return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text

    def enable(self, command: list[str] | None = None) -> None:
        from studio_status.desktop.install import desktop_entry

        self._write(desktop_entry(command or launch_command(), autostart=True).encode())


class LaunchAgent(_FileEntry):
    """The macOS LaunchAgent plist. ``folder`` defaults to ``~/Library/LaunchAgents``."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder if folder is not None else Path.home() / "Library" / "LaunchAgents"
        self.path = folder / f"{MAC_LABEL}.plist"

    def enabled(self) -> bool:
        return self.path.exists()

    def enable(self, command: list[str] | None = None) -> None:
        plist = {
            "Label": MAC_LABEL,
            "ProgramArguments": command or launch_command(),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
        self._write(plistlib.dumps(plist))


class RunKey:
    """The Windows per-user Run key value."""

    def enabled(self) -> bool:
        if sys.platform != "win32":
            return False
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except OSError:
            return False
        return True

    def enable(self, command: list[str] | None = None) -> None:
        if sys.platform != "win32":
            raise AutostartError("the Run key exists only on Windows")
        import subprocess
        import winreg

        line = subprocess.list2cmdline(command or launch_command())
        try:
            with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, line)
        except OSError as exc:
            raise AutostartError(f"cannot write the Run key: {exc}") from exc
        log.info("start at login: set HKCU\\%s\\%s", RUN_KEY, RUN_VALUE)

    def disable(self) -> None:
        if sys.platform != "win32":
            return
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AutostartError(f"cannot clear the Run key: {exc}") from exc


def for_platform(platform: str = sys.platform) -> Autostart:
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()
