"""``studio-status demo --speed N``: a bad value is one line and exit 2; a sped-up demo keeps
nothing (its rows are dated in the paced future): no demo database, no cache, no setting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.userenv import fresh_user_env


@pytest.mark.parametrize("value", ["0.5", "61", "fast", "nan", "inf", "-2"])
def test_a_bad_speed_is_one_clear_line_and_exit_2(tmp_path: Path, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio_status", "demo", "--speed", value],
        env=fresh_user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"studio-status demo: --speed {value!r}: the speed must be a number from 1 to 60"
    ]


def test_a_sped_up_demo_keeps_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio_status", "demo", "--speed", "30", "--smoke-exit", "60"],
        env=fresh_user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"], report
    said = re.search(r"demo pace: 30 times real time from \S+ \(.* data in (\S+)\)", done.stderr)
    assert said is not None, done.stderr[-2000:]
    scratch = Path(said.group(1))
    # the live snapshot was cached, in the demo's own folder, and that folder is gone
    assert Path(report["cache"]).parent == scratch
    assert not scratch.exists()
    # nothing of it in the user's folders: no demo database, no cache, no setting
    assert not (tmp_path / "data" / "studio-status" / "demo.sqlite3").exists()
    assert list((tmp_path / "cache").rglob("*.json")) == []
    settings = list((tmp_path / "config").rglob("*.toml"))
    assert all("speed" not in p.read_text() for p in settings), settings
