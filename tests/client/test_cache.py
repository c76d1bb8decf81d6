"""The on-disk footer cache: round trip, atomic throttled writes, corrupt files set aside."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from studio_status.client import SnapshotCache
from studio_status.client.cache import default_cache_path
from studio_status.protocol import FooterData, Role

from .helpers import footer_dict

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def footer(running: int = 1) -> FooterData:
    return FooterData.model_validate(footer_dict(running=running))


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "footer.json"
    cache = SnapshotCache(path)
    assert cache.load() is None
    assert cache.save(footer(4), Role.ADMIN, T0)
    loaded = SnapshotCache(path).load()
    assert loaded is not None
    assert loaded.footer == footer(4)
    assert loaded.role is Role.ADMIN
    assert loaded.at == T0
    assert [p.name for p in path.parent.iterdir()] == ["footer.json"]  # no temp files left


def test_writes_are_throttled_and_flushed(tmp_path: Path) -> None:
    ticker = Ticker()
    cache = SnapshotCache(tmp_path / "f.json", min_interval=5.0, monotonic=ticker)
    assert cache.save(footer(1), None, T0)
    ticker.now = 1.0
    assert not cache.save(footer(2), None, T0)
    assert not cache.save(footer(3), None, T0)
    assert cache.pending and cache.writes == 1
    assert not cache.flush()  # not due yet
    ticker.now = 5.0
    assert cache.flush()
    assert not cache.pending and cache.writes == 2
    loaded = cache.load()
    assert loaded is not None and loaded.footer.jobs.running == 3
    assert not cache.flush()  # nothing pending
    cache.save(footer(5), None, T0)
    assert cache.flush(force=True)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\x00\xff",
        b"[]",
        json.dumps({"version": 1, "footer": {"jobs": {"running": "x"}}}).encode(),
        json.dumps({"version": 99, "footer": {}}).encode(),
    ],
)
def test_corrupt_cache_is_ignored_and_kept_as_bad(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "footer.json"
    path.write_bytes(content)
    cache = SnapshotCache(path)
    with caplog.at_level(logging.WARNING, logger="client.cache"):
        assert cache.load() is None
    assert "corrupt footer cache" in caplog.text
    assert not path.exists()
    assert cache.bad_path.read_bytes() == content
    assert cache.save(footer(), None, None)  # and the next good footer replaces it
    assert cache.load() is not None


def test_unwritable_location_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = SnapshotCache(blocker / "footer.json")  # parent is a file
    with caplog.at_level(logging.WARNING, logger="client.cache"):
        assert not cache.save(footer(), None, None)
    assert "cannot write footer cache" in caplog.text


def test_default_path_is_under_the_user_cache_dir() -> None:
    path = default_cache_path()
    assert path.name == "footer.json"
    assert "studio-status" in str(path)
