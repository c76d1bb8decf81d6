"""Tray clicks follow platform habit: a left click opens the main window, never hides things."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from studio_status.client.state import StatusStore
from studio_status.protocol import Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import LIGHT
from studio_status.ui.tray import TrayIcon, click_action

from .factories import snapshot

Reason = QSystemTrayIcon.ActivationReason


@pytest.mark.parametrize(("role", "window"), [(Role.ADMIN, "services"), (Role.CREATOR, "jobs")])
def test_left_and_double_click_open_the_main_window(
    qapp: Any, store: StatusStore, role: Role, window: str
) -> None:
    store.apply_snapshot(snapshot(role))
    tray = TrayIcon(StateFeed(store), theme=LIGHT)
    opened: list[str] = []
    toggled: list[bool] = []
    tray.open_requested.connect(opened.append)
    tray.strip_toggle_requested.connect(lambda: toggled.append(True))
    tray.on_tray_activated(Reason.Trigger)
    tray.on_tray_activated(Reason.DoubleClick)
    assert opened == [window, window]
    assert toggled == []  # a left click never hides the strip
    tray.on_tray_activated(Reason.MiddleClick)
    assert toggled == [True]
    tray.on_tray_activated(Reason.Context)  # the menu: Qt opens it, nothing else happens
    assert opened == [window, window] and toggled == [True]
    tray.close()


def test_on_macos_every_click_is_the_menu() -> None:
    for reason in (Reason.Trigger, Reason.DoubleClick, Reason.MiddleClick, Reason.Context):
        assert click_action(reason, "cocoa") is None
    assert click_action(Reason.Trigger, "windows") == "main"
    assert click_action(Reason.Trigger, "xcb") == "main"
