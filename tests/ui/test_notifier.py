"""Desktop notifications through a real notification server: dunst on a private session bus
under Xvfb. Actions are clicked the way dunst lets a user do it without a mouse: its context
menu (``dunstctl context``, a D-Bus call to dunst) hands the actions to a "dmenu" that picks
one, and dunst emits ``ActionInvoked`` on the bus like for a click."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync

from studio_status.app import _desktop_notices
from studio_status.appconfig import Transition
from studio_status.client.state import Segment, StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.formats import Overall
from studio_status.ui.notifier import MUTE_SECONDS, DesktopNotices
from studio_status.ui.notify import Notification
from studio_status.ui.theme import LIGHT
from studio_status.ui.tray import TrayIcon

from .factories import health_event, snapshot
from .live import until

MISSING = [p for p in ("dbus-daemon", "dunst", "dunstctl", "Xvfb") if shutil.which(p) is None]
pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"{', '.join(MISSING)} not installed (apt-get install dbus-daemon dunst xvfb)",
    ),
]

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


@pytest.fixture
def server(display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationServer]:
    folder = Path(tempfile.mkdtemp(prefix="ss-bus-"))  # short: a socket path has a limit
    s = NotificationServer(folder, display)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", s.address)
    try:
        yield s
    finally:
        s.close()
        shutil.rmtree(folder, ignore_errors=True)


def note(service: str, status: HealthStatus, title: str) -> Notification:
    kind = Transition.SERVICE_DOWN if status is HealthStatus.DOWN else Transition.SERVICE_RECOVERED
    return Notification(title, f"{service}: {status.value}", status, service, kind)


def test_open_and_mute_actions_and_replacement(
    qloop: qasync.QEventLoop, server: NotificationServer
) -> None:
    server.start_dunst()
    fallback: list[Notification] = []
    opened: list[str] = []
    muted: list[object] = []

    async def scenario() -> None:
        notices = DesktopNotices(fallback.append)
        notices.open_requested.connect(opened.append)
        notices.mute_requested.connect(muted.append)
        try:
            assert await notices.deliver(note("api", HealthStatus.DOWN, "API is down"))
            assert notices.available and notices.actions
            assert server.displayed() == 1
            # a later notice for the same incident replaces it
            assert await notices.deliver(note("api", HealthStatus.HEALTHY, "API recovered"))
            await until(lambda: server.displayed() == 1)
            offered = await server.choose("#Mute 1 h (API recovered)")
            assert "(API is down)" not in offered  # the replaced notice is gone
            assert "#Open (API recovered)" in offered
            await until(lambda: muted == [MUTE_SECONDS])
            assert opened == []

            # another incident: its own notice beside nothing else; "Open" opens its window
            assert await notices.deliver(note("db", HealthStatus.DOWN, "DB is down"))
            await server.choose("#Open (DB is down)")
            await until(lambda: opened == [Segment.SERVICES.value])

            # the body's own action (what a click on it sends) opens too
            assert await notices.deliver(note("gpu", HealthStatus.DOWN, "GPU is down"))
            await server.choose("# (GPU is down) [")
            await until(lambda: len(opened) == 2)
            assert fallback == []
        finally:
            await notices.aclose()

    qloop.run_until_complete(scenario())


def test_tray_notices_go_to_the_desktop_and_mute_from_the_notice(
    qapp: Any, qloop: qasync.QEventLoop, server: NotificationServer
) -> None:
    """Wired as the app wires it: the tray's policy raises, the notifier shows, the
    notice's "Mute 1 h" mutes the tray (which forwards it to the hub)."""
    server.start_dunst()
    store = StatusStore()
    feed = StateFeed(store)
    tray = TrayIcon(feed, theme=LIGHT)
    balloons: list[Notification] = []
    tray.show_balloon = balloons.append  # type: ignore[method-assign]
    notices = _desktop_notices(tray, lambda _name: None)
    assert notices.notices is None  # nothing loaded before the first notice
    forwarded: list[object] = []
    tray.mute_requested.connect(forwarded.append)

    async def scenario() -> None:
        try:
            store.apply_snapshot(snapshot(Role.ADMIN))
            store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY))
            await until(lambda: [n.title for n in tray.shown] == ["DB is down"])  # coalesced
            await until(lambda: server.displayed() == 1)
            assert notices.notices is not None
            await server.choose("#Mute 1 h (DB is down)")
            await until(lambda: tray.muted)
            assert forwarded == [MUTE_SECONDS]
            store.apply_event(health_event(3, "workers", HealthStatus.DOWN, HealthStatus.HEALTHY))
            await until(lambda: tray.overall is Overall.DOWN and tray.badge == 2)
            assert [n.title for n in tray.shown] == ["DB is down"]  # muted: nothing new
            assert balloons == []
        finally:
            await notices.aclose()
            feed.close()
            tray.close()

    qloop.run_until_complete(scenario())


def test_without_a_notification_service_the_balloon_shows_it(
    qloop: qasync.QEventLoop, server: NotificationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback: list[Notification] = []

    async def scenario() -> None:
        notices = DesktopNotices(fallback.append)  # a bus, but nobody serves notifications
        try:
            first = note("api", HealthStatus.DOWN, "API is down")
            assert not await notices.deliver(first)
            assert notices.available is False and fallback == [first]
        finally:
            await notices.aclose()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={server.folder}/no-bus")
        no_bus = DesktopNotices(fallback.append)  # no session bus at all
        try:
            assert not await no_bus.deliver(first)
            assert len(fallback) == 2
        finally:
            await no_bus.aclose()

    with contextlib.suppress(FileNotFoundError):
        (server.folder / "no-bus").unlink()
    qloop.run_until_complete(scenario())
