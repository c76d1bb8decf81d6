"""Strip preferences on disk: defaults, round trip, bad values, corrupt file kept as .bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio_status.client.state import Segment
from studio_status.ui.settings_store import (
    DEFAULT_ORDER,
    Edge,
    SettingsStore,
    StripSettings,
    normalize_order,
)


def test_defaults_when_missing(tmp_path: Path) -> None:
    settings = SettingsStore(tmp_path / "strip.json").load()
    assert settings == StripSettings()
    assert settings.order == (Segment.SERVICES, Segment.CLOUD_GPU, Segment.WORKFLOWS, Segment.JOBS)
    assert settings.edge is Edge.BOTTOM and not settings.collapsed


def test_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "sub" / "strip.json")
    wanted = StripSettings(
        edge=Edge.TOP,
        screen="HDMI-1",
        collapsed=True,
        order=(Segment.JOBS, Segment.WORKFLOWS, Segment.SERVICES, Segment.CLOUD_GPU),
        shortcut="Ctrl+Shift+F12",
    )
    store.save(wanted)
    assert SettingsStore(store.path).load() == wanted
    assert json.loads(store.path.read_text())["order"][0] == "jobs"


@pytest.mark.expect_warnings
def test_corrupt_file_is_kept_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "strip.json"
    path.write_text("{not json")
    settings = SettingsStore(path).load()
    assert settings == StripSettings()
    assert (tmp_path / "strip.json.bad").read_text() == "{not json"
    assert json.loads(path.read_text())["edge"] == "bottom"
    assert any("corrupt" in r.getMessage() for r in caplog.records)


def test_bad_values_fall_back_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "strip.json"
    path.write_text(
        json.dumps(
            {"edge": "left", "collapsed": "yes", "order": ["jobs", "nope", "jobs"], "shortcut": ""}
        )
    )
    settings = SettingsStore(path).load()
    assert settings.edge is Edge.BOTTOM
    assert settings.collapsed is False
    assert settings.order[0] is Segment.JOBS and len(settings.order) == 4
    assert settings.shortcut == StripSettings().shortcut


def test_normalize_order() -> None:
    assert normalize_order([]) == DEFAULT_ORDER
    assert normalize_order(["workflows"])[0] is Segment.WORKFLOWS
    assert sorted(normalize_order(["jobs", "jobs", "x"])) == sorted(DEFAULT_ORDER)
