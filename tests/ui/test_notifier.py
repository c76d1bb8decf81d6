"""Desktop notifications through a real notification server: dunst on a private session bus
under Xvfb. Actions are clicked the way dunst lets a user do it without a mouse: its context
menu (``dunstctl context``, a D-Bus call to dunst) hands the actions to a "dmenu" that picks
one, and dunst emits ``ActionInvoked`` on the bus like for a click."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
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
from .notifyserver import NotificationServer, notification_server

MISSING = [p for p in ("dbus-daemon", "dunst", "dunstctl", "Xvfb") if shutil.which(p) is None]
pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"{', '.join(MISSING)} not installed (apt-get install dbus-daemon dunst xvfb)",
    ),
]


@pytest.fixture
def server(display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationServer]:
    with notification_server(display) as s:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", s.address)
        yield s


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
