"""The shared settings store: the strip's adapter, changed(name), one file for everything."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from studio_status.appconfig import ConfigFile, Profile
from studio_status.client.state import Segment
from studio_status.ui.config import ConfigStore
from studio_status.ui.settings_store import Edge, SettingsStore, StripSettings


def test_strip_adapter_round_trip_through_the_app_file(tmp_path: Path) -> None:
    config = ConfigStore(ConfigFile(tmp_path / "app.toml"))
    strip_store = SettingsStore(config)
    assert strip_store.load() == StripSettings()
    wanted = StripSettings(
        edge=Edge.TOP,
        screen="HDMI-1",
        collapsed=True,
        order=(Segment.JOBS, Segment.WORKFLOWS, Segment.SERVICES, Segment.CLOUD_GPU),
        shortcut="Ctrl+Shift+F12",
    )
    strip_store.save(wanted)
    assert config.config.strip == wanted
    assert SettingsStore(tmp_path / "app.toml").load() == wanted
    raw = tomllib.loads((tmp_path / "app.toml").read_text())
    assert raw["strip"]["order"][0] == "jobs" and raw["profiles"][0]["name"] == "Local"
    assert not (tmp_path / "strip.json").exists()


def test_changed_names_are_emitted_after_saving(qtbot: Any, tmp_path: Path) -> None:
    config = ConfigStore(ConfigFile(tmp_path / "app.toml"))
    seen: list[tuple[str, bool]] = []
    config.changed.connect(lambda n: seen.append((n, (tmp_path / "app.toml").exists())))
    config.update(theme="dark")
    config.update_section("strip", edge="top")
    config.update_section("refresh", poll_seconds=10)
    config.set_profile(Profile(name="Studio", hub_url="http://127.0.0.1:1"))
    config.switch_profile("Studio")
    config.update(theme="dark")  # no change, no signal
    assert seen == [
        ("theme", True),
        ("strip.edge", True),
        ("refresh.poll_seconds", True),
        ("profiles", True),
        ("active_profile", True),
    ]
    with pytest.raises(KeyError):
        config.switch_profile("nope")
    with pytest.raises(ValueError):
        config.update_section("refresh", poll_seconds=0)
    assert config.config.refresh.poll_seconds == 10  # a refused change changes nothing


@pytest.mark.expect_warnings
def test_bad_file_problems_are_kept_for_the_window(tmp_path: Path) -> None:
    (tmp_path / "app.toml").write_text('[strip]\nedge = "left"\n')
    config = ConfigStore(ConfigFile(tmp_path / "app.toml"))
    assert config.config.strip.edge is Edge.BOTTOM
    assert config.loaded.bad_copy == tmp_path / "app.toml.bad"
    assert any("strip.edge" in p for p in config.loaded.problems)
