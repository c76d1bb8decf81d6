"""The link's state said the same way by the strip, the tray and every window; whose data it
is (profile, role); cached data greyed; app problems kept in view until dealt with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QGraphicsOpacityEffect

from studio_status.client.link import LinkProblem, ProblemKind
from studio_status.client.state import ConnectionState, Source, StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui import formats
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.strip.connection import APP_PROBLEM_MARK
from studio_status.ui.theme import LIGHT
from studio_status.ui.tray import TrayIcon
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore

from .factories import NOW, footer, services, snapshot

HUB = "https://status.studio.example"
REFUSED = LinkProblem(ProblemKind.TOKEN_REFUSED, HUB, "wrong, revoked or missing token")


@pytest.fixture
def sourced(store: StatusStore) -> StatusStore:
    store.set_source(Source("Studio", HUB))
    return store


@pytest.fixture
def tray(qapp: Any, sourced: StatusStore) -> Any:
    t = TrayIcon(StateFeed(sourced), theme=LIGHT)
    yield t
    t.close()


def menu_texts(tray: TrayIcon) -> list[str]:
    return [a.text() for a in tray.menu.actions()]


def test_tray_menu_starts_with_the_state_profile_and_role(
    tray: TrayIcon, sourced: StatusStore
) -> None:
    data = footer(svc=services(database=HealthStatus.DOWN, workers=HealthStatus.DEGRADED))
    sourced.apply_snapshot(snapshot(Role.ADMIN, data=data))
    texts = menu_texts(tray)
    assert texts[0] == "■ A service is down: 1 down · 1 degraded · 1 healthy"
    assert texts[1] == f"Profile Studio · admin · {HUB}"
    assert tray.menu.actions()[2].isSeparator()
    assert not tray.header_actions[0].isEnabled()  # information, not a command
    tip = tray.tray.toolTip()
    assert f"Studio · admin · {HUB}" in tip


def test_refused_token_reads_the_same_on_strip_tray_and_window(
    qtbot: Any, tray: TrayIcon, sourced: StatusStore, tmp_path: Path
) -> None:
    sourced.apply_snapshot(snapshot(Role.ADMIN))
    sourced.set_problem(REFUSED)
    state = sourced.state
    assert state.footer is None and state.connection is ConnectionState.OFFLINE
    said = "Token refused — check the token for profile “Studio” in Settings"
    assert formats.connection_text(state, NOW) == said
    # the tray: its menu's first lines and its tooltip
    assert menu_texts(tray)[:2] == ["? Token refused", said]
    assert "unreachable" not in tray.tray.toolTip().lower()
    assert said in tray.tray.toolTip()
    # the strip's connection segment
    feed = StateFeed(sourced)
    strip = StatusStrip(feed, SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.on_feed_changed(sourced.state)
    assert strip.connection.text() == said
    assert strip.connection.toolTip().startswith(f"Token refused by {HUB}")
    # a window's banner: the same words, with the hub, and no Retry (retrying cannot help)
    ctx = WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    win = WindowOpener(context=ctx).open("jobs")
    qtbot.addWidget(win)
    assert win.banner.text.startswith(f"Token refused by {HUB}")
    assert "check the token for profile “Studio”" in win.banner.text
    assert not win.banner.retry_button.isVisible()


def test_strip_right_end_names_profile_and_role_when_live(
    qtbot: Any, sourced: StatusStore, tmp_path: Path
) -> None:
    sourced.apply_snapshot(snapshot(Role.REVIEWER, data=footer(Role.REVIEWER)))
    strip = StatusStrip(StateFeed(sourced), SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.on_feed_changed(sourced.state)
    assert strip.connection.text() == "Studio · reviewer"
    assert not strip.connection.isHidden()
    sourced.set_source(Source("Studio", "http://other:8765", override=True))
    strip.on_feed_changed(sourced.state)
    assert strip.connection.text() == "Studio (--hub) · reviewer"
    assert "not saved" in strip.connection.toolTip()


def test_cached_data_is_greyed_in_windows_and_says_so(
    qtbot: Any, sourced: StatusStore, tmp_path: Path
) -> None:
    sourced.load_cached(footer(), Role.ADMIN, NOW, hub_id="h1")
    feed = StateFeed(sourced)
    ctx = WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    win = WindowOpener(context=ctx).open("services")
    qtbot.addWidget(win)
    win.show()
    assert win.dimmed
    faded = [w for w in win._content_widgets() if w.graphicsEffect() is not None]
    assert faded and all(isinstance(w.graphicsEffect(), QGraphicsOpacityEffect) for w in faded)
    assert "saved from an earlier run" in win.banner.text
    sourced.apply_snapshot(snapshot(Role.ADMIN))
    win.on_feed_changed(sourced.state)
    assert not win.dimmed
    assert all(w.graphicsEffect() is None for w in win._content_widgets())


def test_app_problem_stays_atop_the_menu_and_on_the_strip_until_dealt_with(
    qtbot: Any, tray: TrayIcon, sourced: StatusStore, tmp_path: Path
) -> None:
    sourced.apply_snapshot(snapshot(Role.ADMIN))
    strip = StatusStrip(StateFeed(sourced), SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    sourced.set_app_problem("settings", "Settings file repaired: theme: not a theme")
    strip.on_feed_changed(sourced.state)
    line = "⚠ Settings file repaired: theme: not a theme"
    assert line in menu_texts(tray)
    assert menu_texts(tray).index(line) < menu_texts(tray).index("Hide strip")
    assert strip.connection.text().startswith(APP_PROBLEM_MARK)
    assert line in strip.connection.toolTip()
    clicked: list[str] = []
    tray.app_problem_clicked.connect(clicked.append)
    tray.problem_actions["settings"].trigger()
    assert clicked == ["settings"]
    sourced.set_app_problem("settings", None)
    strip.on_feed_changed(sourced.state)
    assert line not in menu_texts(tray)
    assert not strip.connection.text().startswith(APP_PROBLEM_MARK)
