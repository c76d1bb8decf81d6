"""The benchmarks' paint probe: off unless asked for; when on, one line per new state painted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio_status.client.state import StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui import probe
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT

from .factories import health_event, snapshot


def _strip(qtbot: Any, store: StatusStore, tmp_path: Path) -> StatusStrip:
    strip = StatusStrip(StateFeed(store), SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    return strip


def _probed(
    qtbot: Any, store: StatusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[StatusStrip, Path]:
    """A strip shown with the probe on, after its first paint; and the probe's file."""
    out = tmp_path / "probe.jsonl"
    monkeypatch.setenv(probe.PROBE_ENV, str(out))
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = _strip(qtbot, store, tmp_path)
    strip.show()
    qtbot.waitUntil(lambda: out.exists() and '"paint"' in out.read_text())
    return strip, out


def test_off_unless_asked_for(
    qtbot: Any, store: StatusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(probe.PROBE_ENV, raising=False)
    strip = _strip(qtbot, store, tmp_path)  # the strip installs it itself
    assert strip.findChildren(probe._PaintProbe) == []


def test_a_line_per_new_state_painted_with_what_it_shows(
    qtbot: Any, store: StatusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strip, out = _probed(qtbot, store, tmp_path, monkeypatch)
    assert len(strip.findChildren(probe._PaintProbe)) == 1
    store.apply_event(health_event(2, "database", HealthStatus.DOWN, HealthStatus.HEALTHY))

    def lines(kind: str) -> list[dict[str, Any]]:
        every = [json.loads(line) for line in out.read_text().splitlines()]
        return [x for x in every if x["probe"] == kind]

    qtbot.waitUntil(lambda: any(x["seq"] == 2 for x in lines("paint")))
    paints = lines("paint")
    last = paints[-1]
    assert last["data"] is True
    assert "■ DB" in last["shown"]["services"]  # the text as painted, state by shape
    assert [x["version"] for x in paints] == sorted({x["version"] for x in paints})  # no repeats
    # each state rendered says so too, with what it shows (the same as its paint)
    [rendered] = [x for x in lines("render") if x["seq"] == 2]
    assert rendered["shown"] == last["shown"] and rendered["t"] <= last["t"]


def test_a_state_that_changes_nothing_on_screen_is_rendered_not_painted(
    qtbot: Any, store: StatusStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the bench's burst reads when a burst ends as the screen already was."""
    _, out = _probed(qtbot, store, tmp_path, monkeypatch)
    store.apply_heartbeat(9)  # current to seq 9: nothing new to show
    qtbot.waitUntil(lambda: '"seq": 9' in out.read_text())
    every = [json.loads(line) for line in out.read_text().splitlines()]
    paints = [x for x in every if x["probe"] == "paint"]
    [rendered] = [x for x in every if x["probe"] == "render" and x["seq"] == 9]
    assert rendered["shown"] == paints[-1]["shown"]
    qtbot.wait(50)
    assert all(x["seq"] != 9 for x in paints)
