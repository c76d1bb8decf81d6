"""The Settings window over a real config file and a real (file) keyring; tray quick switch
and notification preferences."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from studio_status.appconfig import ConfigFile, Edge, NotificationSettings, Transition
from studio_status.client.state import Segment, StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.tokens import TokenStore
from studio_status.ui.config import ConfigStore
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_window import SettingsWindow
from studio_status.ui.theme import LIGHT
from studio_status.ui.tray import TrayIcon

from .factories import health_event, snapshot

keyrings_file = pytest.importorskip("keyrings.alt.file", reason="needs keyrings.alt (test extra)")


@pytest.fixture
def config(tmp_path: Path) -> ConfigStore:
    return ConfigStore(ConfigFile(tmp_path / "app.toml"))


@pytest.fixture
def tokens(tmp_path: Path) -> TokenStore:
    backend = keyrings_file.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    return TokenStore(backend, config_dir=tmp_path)


@pytest.fixture
def window(qtbot: Any, config: ConfigStore, tokens: TokenStore) -> SettingsWindow:
    w = SettingsWindow(config, tokens)
    qtbot.addWidget(w)
    w.show()
    return w


def test_window_is_not_modal(window: SettingsWindow) -> None:
    assert not window.isModal() and window.isVisible()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Profiles",
        "Strip",
        "Notifications",
        "General",
    ]


def test_add_edit_switch_and_remove_a_profile(
    window: SettingsWindow, config: ConfigStore, tokens: TokenStore, tmp_path: Path
) -> None:
    saved: list[str] = []
    window.token_changed.connect(saved.append)
    window.add_button.click()
    assert window.selected_name() == "Profile 1"
    window.name_edit.setText("Studio")
    window.hub_edit.setText("https://hub.example:8765/")
    window.web_edit.setText("https://studio.example")
    window.token_edit.setText("ss_tok_verysecret")
    window.save_profile_button.click()
    studio = config.config.profile("Studio")
    assert studio is not None and studio.hub_url == "https://hub.example:8765"
    assert config.config.profile("Profile 1") is None
    assert tokens.get("Studio") == "ss_tok_verysecret" and saved == ["Studio"]
    assert window.token_edit.text() == "" and "stored" in window.token_state.text()
    assert "ss_tok_verysecret" not in (tmp_path / "app.toml").read_text()

    window.activate_button.click()
    assert config.config.active_profile == "Studio"

    window.hub_edit.setText("not a url")
    window.save_profile_button.click()
    assert window.message.startswith("Not saved: hub_url")
    assert config.config.profile("Studio").hub_url == "https://hub.example:8765"  # type: ignore[union-attr]

    window.remove_button.click()
    box = window.confirm
    assert isinstance(box, QMessageBox) and box.isVisible()
    box.done(QMessageBox.StandardButton.Yes.value)
    assert config.config.profile("Studio") is None and config.config.active_profile == "Local"
    assert tokens.get("Studio") is None
    assert not window.remove_button.isEnabled()  # the last profile stays


def test_controls_write_the_store_and_follow_it(
    window: SettingsWindow, config: ConfigStore
) -> None:
    window.edge_combo.setCurrentIndex(window.edge_combo.findData("top"))
    assert config.config.strip.edge is Edge.TOP
    window.order_list.setCurrentRow(3)
    window.move_segment(-1)
    assert config.config.strip.order[2] is Segment.JOBS
    window.transition_checks[Transition.SERVICE_RECOVERED].setChecked(False)
    window.quiet_check.setChecked(True)
    n = config.config.notifications
    assert Transition.SERVICE_RECOVERED not in n.transitions and n.quiet_hours
    window.autostart_check.setChecked(True)
    assert config.config.start_at_login
    # a change made elsewhere (the strip's own menu) shows here
    config.update_section("strip", edge="bottom", collapsed=True)
    assert window.edge_combo.currentData() == "bottom" and window.collapsed_check.isChecked()


@pytest.mark.expect_warnings
def test_problems_with_the_file_are_shown(qtbot: Any, tmp_path: Path, tokens: TokenStore) -> None:
    (tmp_path / "bad.toml").write_text('theme = "purple"\n')
    config = ConfigStore(ConfigFile(tmp_path / "bad.toml"))
    w = SettingsWindow(config, tokens)
    qtbot.addWidget(w)
    assert not w.problems.isHidden() and "theme" in w.problems.text()
    assert "bad.toml.bad" in w.problems.text()


@pytest.fixture
def tray(qtbot: Any, store: StatusStore) -> Any:
    feed = StateFeed(store)
    clock = {"now": time(12, 0)}
    wall = {"now": datetime.now(UTC)}
    t = TrayIcon(feed, theme=LIGHT, local_time=lambda: clock["now"], clock=lambda: wall["now"])
    t.clock = clock  # type: ignore[attr-defined]
    t.wall = wall  # type: ignore[attr-defined]
    yield t
    t.close()
    feed.close()


def test_tray_quick_switch(tray: TrayIcon, qtbot: Any) -> None:
    tray.set_profiles(["Local"], "Local")
    assert not tray.profile_menu.menuAction().isVisible()
    tray.set_profiles(["Local", "Studio"], "Local")
    assert tray.profile_menu.menuAction().isVisible()
    assert tray.profile_actions["Local"].isChecked()
    with qtbot.waitSignal(tray.profile_requested) as blocker:
        tray.profile_actions["Studio"].trigger()
    assert blocker.args == ["Studio"]


def _advance(tray: TrayIcon, seconds: float) -> None:
    """Move the tray's clock on and let the notification policy's timer fire."""
    tray.wall["now"] += timedelta(seconds=seconds)  # type: ignore[attr-defined]
    tray.on_due_timeout()


def test_notification_preferences(tray: TrayIcon, store: StatusStore, qtbot: Any) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    tray.set_notification_settings(
        NotificationSettings(transitions=(Transition.SERVICE_DOWN,), quiet_hours=True)
    )
    store.apply_event(health_event(2, "database", HealthStatus.DEGRADED, HealthStatus.HEALTHY))
    _advance(tray, 30)
    assert tray.shown == [] and tray.held == []  # not a chosen kind: never merged in
    store.apply_event(health_event(3, "database", HealthStatus.DOWN, HealthStatus.DEGRADED))
    _advance(tray, 5)
    assert [n.title for n in tray.shown] == ["DB is down"]
    assert tray.shown[0].key == "services:database"
    with qtbot.waitSignal(tray.open_requested) as blocker:
        tray.tray.messageClicked.emit()  # a click on the notice opens its window
    assert blocker.args == ["services"]
    tray.clock["now"] = time(23, 30)  # type: ignore[attr-defined]
    store.apply_event(health_event(4, "comfyui", HealthStatus.DOWN, HealthStatus.HEALTHY))
    _advance(tray, 5)
    assert [n.title for n in tray.shown] == ["DB is down"]  # quiet hours hold it
    assert tray.held[-1].title.endswith("is down")


def test_escape_and_the_close_button_close_it(
    qtbot: Any, config: ConfigStore, tokens: TokenStore
) -> None:
    from PySide6.QtCore import Qt

    for close in ("escape", "button"):
        w = SettingsWindow(config, tokens)
        qtbot.addWidget(w)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)
        if close == "escape":
            qtbot.keyClick(w.tabs, Qt.Key.Key_Escape)
        else:
            assert w.close_button.text() == "Close"
            w.close_button.click()
        assert not w.isVisible(), close


def test_theme_choice_applies_at_once(
    qtbot: Any, window: SettingsWindow, config: ConfigStore, tmp_path: Path
) -> None:
    """The window offers the theme without "at next start", and every view repaints in it
    at once: the strip, the tray icon, and open windows (built again where they were)."""
    from studio_status.ui.formats import Overall
    from studio_status.ui.settings_store import SettingsStore
    from studio_status.ui.strip import StatusStrip
    from studio_status.ui.theme import DARK
    from studio_status.ui.windows import WindowContext, WindowOpener
    from studio_status.ui.windows.geometry import GeometryStore

    form_texts = [lab.text() for lab in window.tabs.widget(3).findChildren(type(window.status))]
    assert "Theme" in form_texts and not any("next start" in t for t in form_texts)

    store = StatusStore()
    store.apply_snapshot(snapshot(Role.ADMIN))
    feed = StateFeed(store)
    strip = StatusStrip(feed, SettingsStore(tmp_path / "strip.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.show()
    tray = TrayIcon(feed, theme=LIGHT)
    opener = WindowOpener(
        context=WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    )
    before = opener.open("jobs")
    assert before is not None
    light_bg = strip.grab().toImage().pixelColor(strip.width() // 2, 2)

    strip.set_theme(DARK)
    tray.set_theme(DARK)
    opener.set_theme(DARK)

    assert strip.grab().toImage().pixelColor(strip.width() // 2, 2) != light_bg
    assert strip.grab().toImage().pixelColor(strip.width() - 3, 2) == DARK.color("surface")
    assert tray.overall is Overall.HEALTHY
    after = opener.windows["jobs"]
    assert after is not before and after.isVisible()
    assert after.palette().window().color().name() == "#16191e"  # the dark window colour
    opener.close_all()
    tray.close()


def test_seconds_read_naturally(window: SettingsWindow, config: ConfigStore) -> None:
    """ "30 s", not "30.00 s"."""
    poll = config.config.refresh.poll_seconds
    assert window.poll_spin.text() == f"{poll:.0f} s"
    assert "." not in window.stale_spin.text()


def test_certificate_check_is_edited_with_the_profile(
    window: SettingsWindow, config: ConfigStore, tmp_path: Path
) -> None:
    from tests.hub.checks.tls import ca_and_leaf

    window.add_button.click()
    window.hub_edit.setText("https://hub.example:8765")
    assert window.verify_combo.currentText() == "System certificates"
    assert window.ca_row.isHidden() and window.verify_warning.isHidden()

    # a CA file: the path field appears; a missing or non-PEM file is refused, nothing saved
    window.verify_combo.setCurrentIndex(window.verify_combo.findText("This CA file…"))
    assert not window.ca_row.isHidden() and window.verify_warning.isHidden()
    window.save_profile_button.click()
    assert "Not saved" in window.message and "choose the CA file" in window.message
    window.ca_edit.setText(str(tmp_path / "nowhere.pem"))
    window.save_profile_button.click()
    assert "Not saved" in window.message and "there is no file" in window.message
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    window.ca_edit.setText(str(junk))
    window.save_profile_button.click()
    assert "not a PEM certificate bundle" in window.message
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    window.ca_edit.setText(str(broken))
    window.save_profile_button.click()
    assert "no usable certificate" in window.message
    profile = config.config.profile("Profile 1")
    assert profile is not None and profile.verify is True  # nothing of it was applied

    # only Save applies it; a real CA bundle is kept and shown again
    ca, _leaf = ca_and_leaf(tmp_path)
    window.ca_edit.setText(str(ca))
    profile = config.config.profile("Profile 1")
    assert profile is not None and profile.verify is True
    window.save_profile_button.click()
    assert window.message.startswith("Saved profile")
    profile = config.config.profile("Profile 1")
    assert profile is not None and profile.verify == str(ca)
    assert f'verify = "{ca}"' in (tmp_path / "app.toml").read_text()
    window.select(config.config.profiles[0].name)
    window.select("Profile 1")
    assert window.verify_combo.currentText() == "This CA file…"
    assert window.ca_edit.text() == str(ca)

    # off: a visible warning, saved as false
    window.verify_combo.setCurrentIndex(window.verify_combo.findText("Don't verify (unsafe)"))
    assert not window.verify_warning.isHidden() and window.ca_row.isHidden()
    assert "pose as" in window.verify_warning.text()
    window.save_profile_button.click()
    profile = config.config.profile("Profile 1")
    assert profile is not None and profile.verify is False

    # back to the system store
    window.verify_combo.setCurrentIndex(window.verify_combo.findText("System certificates"))
    window.save_profile_button.click()
    profile = config.config.profile("Profile 1")
    assert profile is not None and profile.verify is True


def test_ca_file_picker_fills_the_path(window: SettingsWindow, qtbot: Any, tmp_path: Path) -> None:
    window.add_button.click()
    window.verify_combo.setCurrentIndex(window.verify_combo.findText("This CA file…"))
    window.ca_browse_button.click()
    dialog = window.ca_dialog
    assert dialog is not None and dialog.isVisible() and not window.isModal()
    chosen = tmp_path / "ca.pem"
    chosen.write_text("")
    dialog.fileSelected.emit(str(chosen))
    dialog.reject()
    assert window.ca_edit.text() == str(chosen)
    qtbot.waitUntil(lambda: window.ca_dialog is None)
