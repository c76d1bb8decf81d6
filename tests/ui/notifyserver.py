"""A real notification server for tests: dunst on a private D-Bus session bus (under the
test's Xvfb), shared by the notifier's tests and the demo's notification count."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .live import until

__all__ = ["BUS_CONFIG", "NotificationServer", "notification_server"]

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
# dunst's context menu lists "#<action> (<summary>) [<id>,<key>]"; pick the chosen line
DMENU = """#!/bin/sh
cat > "{folder}/menu.part" && mv "{folder}/menu.part" "{folder}/menu.txt"
grep -m1 -F -- "$(cat "{folder}/choice")" "{folder}/menu.txt"
"""


class NotificationServer:
    """A private session bus (no service activation: nothing starts behind our back) and,
    when asked, dunst owning org.freedesktop.Notifications on it."""

    def __init__(self, folder: Path, display: str) -> None:
        self.folder = folder
        self.display = display
        (folder / "bus.conf").write_text(BUS_CONFIG.format(socket=folder / "bus"))
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--print-address=1", f"--config-file={folder}/bus.conf"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.bus.stdout is not None
        self.address = self.bus.stdout.readline().strip()
        assert self.address.startswith("unix:"), self.address
        self.dunst: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DISPLAY": self.display,
            "DBUS_SESSION_BUS_ADDRESS": self.address,
        }

    def start_dunst(self) -> None:
        dmenu = self.folder / "dmenu.sh"
        dmenu.write_text(DMENU.format(folder=self.folder))
        dmenu.chmod(0o755)
        (self.folder / "choice").write_text("\x01nothing\n")
        (self.folder / "dunstrc").write_text(f"[global]\ndmenu = {dmenu}\n")
        self.dunst = subprocess.Popen(
            ["dunst", "-conf", str(self.folder / "dunstrc")],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):  # dunst owns its names once its main loop runs (bounded)
            if self.ctl_ok("is-paused"):
                return
            if self.dunst.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        raise RuntimeError("dunst did not take org.freedesktop.Notifications")

    def ctl_ok(self, *args: str) -> bool:
        done = subprocess.run(
            ["dunstctl", *args], check=False, env=self.env, capture_output=True, timeout=10
        )
        return done.returncode == 0

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            ["dunstctl", *args], check=False, env=self.env, capture_output=True, text=True,
            timeout=10,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def displayed(self) -> int:
        return int(self.ctl("count", "displayed"))

    async def choose(self, line: str) -> str:
        """Open dunst's context menu and pick the action whose line contains ``line``;
        returns every line the menu offered."""
        (self.folder / "choice").write_text(line + "\n")
        menu = self.folder / "menu.txt"
        menu.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec("dunstctl", "context", env=self.env)
        await proc.wait()
        await until(menu.exists)
        return menu.read_text()

    def close(self) -> None:
        for proc in (self.dunst, self.bus):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.bus.stdout is not None:
            self.bus.stdout.close()


@contextlib.contextmanager
def notification_server(display: str) -> Iterator[NotificationServer]:
    """A private bus for ``display`` (dunst not yet started), gone with its folder after."""
    folder = Path(tempfile.mkdtemp(prefix="ss-bus-"))  # short: a socket path has a limit
    s = NotificationServer(folder, display)
    try:
        yield s
    finally:
        s.close()
        shutil.rmtree(folder, ignore_errors=True)
