"""The app settings schema and its TOML file: defaults, round trip, bad values, bad files."""

from __future__ import annotations

import json
import tomllib
from datetime import time
from pathlib import Path

import pytest

from studio_status.appconfig import (
    DEFAULT_ORDER,
    AppConfig,
    ConfigFile,
    Edge,
    NotificationSettings,
    Profile,
    StripSettings,
    ThemeChoice,
    Transition,
    changed_names,
    normalize_order,
    reference,
)
from studio_status.client.state import Segment
from studio_status.protocol import Role


def test_defaults_when_missing(tmp_path: Path) -> None:
    loaded = ConfigFile(tmp_path / "app.toml").load()
    c = loaded.config
    assert loaded.problems == () and loaded.bad_copy is None
    assert c == AppConfig()
    assert [p.name for p in c.profiles] == ["Local"] and c.active.hub_url is None
    assert c.strip.order == DEFAULT_ORDER and c.strip.edge is Edge.BOTTOM
    assert c.theme is ThemeChoice.SYSTEM and not c.start_at_login
    assert set(c.notifications.transitions) == set(Transition)
    assert c.refresh.poll_seconds == 30 and c.refresh.stale_after_seconds == 30
    assert not (tmp_path / "app.toml").exists()  # nothing written until something changes


def test_round_trip_is_exact_and_readable(tmp_path: Path) -> None:
    file = ConfigFile(tmp_path / "sub" / "app.toml")
    wanted = AppConfig(
        active_profile="Studio",
        theme=ThemeChoice.DARK,
        start_at_login=True,
        profiles=(
            Profile(name="Local"),
            Profile(
                name="Studio",
                hub_url="https://status.example/",
                web_url="https://studio.example",
                role=Role.CREATOR,
            ),
        ),
        strip=StripSettings(
            edge=Edge.TOP,
            screen="HDMI-1",
            collapsed=True,
            order=(Segment.JOBS, Segment.WORKFLOWS, Segment.SERVICES, Segment.CLOUD_GPU),
        ),
        notifications=NotificationSettings(
            transitions=(Transition.SERVICE_DOWN,),
            quiet_hours=True,
            quiet_start=time(23, 30),
            sound=True,
        ),
    )
    file.save(wanted)
    assert file.load().config == wanted
    raw = tomllib.loads(file.path.read_text())
    assert raw["profiles"][1]["hub_url"] == "https://status.example"  # normalised
    assert raw["notifications"]["quiet_start"] == time(23, 30)  # a real TOML time
    assert raw["strip"]["order"][0] == "jobs"


@pytest.mark.parametrize(
    ("toml", "name", "fallback"),
    [
        ('[strip]\nedge = "left"', "strip.edge", Edge.BOTTOM),
        ('[strip]\norder = ["jobs", "nope"]', "strip.order", DEFAULT_ORDER),
        ("[refresh]\npoll_seconds = 1", "refresh.poll_seconds", 30.0),
        ('[notifications]\nquiet_start = "25:00"', "notifications.quiet_start", time(22)),
        ('theme = "purple"', "theme", ThemeChoice.SYSTEM),
        ("start_at_login = 3", "start_at_login", False),
    ],
)
def test_bad_values_fall_back_one_by_one(
    tmp_path: Path, toml: str, name: str, fallback: object
) -> None:
    path = tmp_path / "app.toml"
    text = toml
    path.write_text(text + '\n[[profiles]]\nname = "Local"\n[[profiles]]\nname = "Keep"\n')
    loaded = ConfigFile(path).load()
    section, _, field = name.rpartition(".")
    obj = getattr(loaded.config, section) if section else loaded.config
    assert getattr(obj, field) == fallback
    assert [p.name for p in loaded.config.profiles] == ["Local", "Keep"]  # the rest is kept
    assert any(p.startswith(f"{path}: {name}:") for p in loaded.problems), loaded.problems
    assert loaded.bad_copy == tmp_path / "app.toml.bad"
    assert loaded.bad_copy.read_text().startswith(text)  # the original, untouched
    assert ConfigFile(path).load().problems == ()  # the repaired file is clean


def test_unknown_keys_and_bad_profiles_are_named(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text(
        "colour = 1\n"
        '[[profiles]]\nname = "A"\nhub_url = "ftp://x"\n'
        '[[profiles]]\nname = ""\n'
        '[[profiles]]\nname = "a"\n'
    )
    loaded = ConfigFile(path).load()
    assert [p.name for p in loaded.config.profiles] == ["A"]
    assert loaded.config.profiles[0].hub_url is None
    text = "\n".join(loaded.problems)
    assert "colour: unknown setting, ignored" in text
    assert "profiles[0].hub_url: must be an http:// or https:// URL" in text
    assert "profiles[1]" in text and "dropped" in text
    assert "a second profile named 'a'" in text


def test_not_toml_is_kept_as_bad_and_replaced_by_defaults(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text("[strip\nedge = top")
    loaded = ConfigFile(path).load()
    assert loaded.config == AppConfig()
    assert (tmp_path / "app.toml.bad").read_text() == "[strip\nedge = top"
    assert tomllib.loads(path.read_text())["strip"]["edge"] == "bottom"
    assert len(loaded.problems) == 1 and "is not valid TOML" in loaded.problems[0]
    assert "app.toml.bad" in loaded.problems[0]


def test_strip_json_is_migrated_once(tmp_path: Path) -> None:
    legacy = tmp_path / "strip.json"
    legacy.write_text(
        json.dumps({"edge": "top", "collapsed": True, "order": ["jobs"], "screen": "DP-2"})
    )
    loaded = ConfigFile(tmp_path / "app.toml").load()
    assert loaded.migrated
    strip = loaded.config.strip
    assert strip.edge is Edge.TOP and strip.collapsed and strip.screen == "DP-2"
    assert strip.order[0] is Segment.JOBS and len(strip.order) == 4
    assert not legacy.exists() and (tmp_path / "strip.json.migrated").exists()
    assert ConfigFile(tmp_path / "app.toml").load().config.strip == strip


def test_strip_json_with_bad_values_migrates_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "strip.json").write_text(json.dumps({"edge": "left", "collapsed": True}))
    strip = ConfigFile(tmp_path / "app.toml").load().config.strip
    assert strip.edge is Edge.BOTTOM and strip.collapsed


def test_profiles_add_rename_remove() -> None:
    c = AppConfig()
    c = c.with_profile(Profile(name="Studio", hub_url="http://hub:8765"))
    c = c.validated(active_profile="Studio")
    c = c.with_profile(Profile(name="Prod", hub_url="http://hub:8765"), replacing="Studio")
    assert [p.name for p in c.profiles] == ["Local", "Prod"] and c.active.name == "Prod"
    c = c.without_profile("Prod")
    assert c.active.name == "Local"
    with pytest.raises(ValueError, match="last profile"):
        c.without_profile("Local")
    with pytest.raises(ValueError, match="unique"):
        c.with_profile(Profile(name="local"))


def test_active_falls_back_to_first() -> None:
    assert AppConfig(active_profile="gone").active.name == "Local"


def test_changed_names() -> None:
    a = AppConfig()
    b = a.validated(theme="dark", strip={"edge": "top", "collapsed": True})
    assert changed_names(a, b) == ["theme", "strip.edge", "strip.collapsed"]
    c = b.with_profile(Profile(name="X"))
    assert changed_names(b, c) == ["profiles"]
    assert changed_names(c, c) == []


@pytest.mark.parametrize(
    ("start", "end", "now", "quiet"),
    [
        (time(22), time(7), time(23), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7), False),
        (time(22), time(7), time(12), False),
        (time(12), time(14), time(13), True),
        (time(12), time(14), time(15), False),
        (time(12), time(12), time(12), False),
    ],
)
def test_quiet_hours(start: time, end: time, now: time, quiet: bool) -> None:
    n = NotificationSettings(quiet_hours=True, quiet_start=start, quiet_end=end)
    assert n.is_quiet(now) is quiet
    assert not n.model_copy(update={"quiet_hours": False}).is_quiet(now)


def test_normalize_order() -> None:
    assert normalize_order([]) == DEFAULT_ORDER
    assert normalize_order(["workflows"])[0] is Segment.WORKFLOWS
    assert sorted(normalize_order(["jobs", "jobs", "x"])) == sorted(DEFAULT_ORDER)


def test_reference_names_every_option() -> None:
    doc = reference()
    for name in AppConfig.model_fields:
        assert f"`{name}" in doc
    assert '`strip.edge` | Edge | `"bottom"`' in doc
    assert "`notifications.quiet_start` | time | `22:00:00`" in doc


def test_docs_settings_md_is_current() -> None:
    path = Path(__file__).parents[2] / "docs" / "settings.md"
    assert path.read_text() == reference(), (
        "run: studio-status config --reference > docs/settings.md"
    )


def test_a_file_that_is_not_utf8_is_kept_as_bad_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    original = 'theme = "dark"\n# caf\xe9 in Latin-1\n'.encode("latin-1")
    path.write_bytes(original)
    loaded = ConfigFile(path).load()
    assert loaded.bad_copy == tmp_path / "app.toml.bad"
    assert loaded.bad_copy.read_bytes() == original  # the user's bytes, untouched
    assert loaded.problems and "UTF-8" in loaded.problems[0]
    assert "app.toml.bad" in loaded.problems[0]
    assert ConfigFile(path).load().problems == ()  # a clean file with the defaults now
