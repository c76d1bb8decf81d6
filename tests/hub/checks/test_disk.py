from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NamedTuple

import pytest

from studio_status.hub.checks.disk import DiskChecker, disk_usage
from studio_status.hub.checks.specs import DiskSpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.helpers import TIMEOUT


class FakeStatvfs(NamedTuple):
    f_frsize: int
    f_blocks: int
    f_bfree: int
    f_bavail: int


def statvfs_at(used_percent: float, blocks: int = 1000) -> FakeStatvfs:
    free = round(blocks * (100 - used_percent) / 100)
    return FakeStatvfs(4096, blocks, free, free)


async def test_real_directory_reports_space_and_passes_write_test(tmp_path: Path) -> None:
    real = os.statvfs(tmp_path)
    spec = DiskSpec(path=str(tmp_path), warning_percent=100, critical_percent=100)
    result = await DiskChecker(spec, TIMEOUT).check()

    assert result.status is HealthStatus.HEALTHY, result.error_message
    assert result.details["total_bytes"] == real.f_blocks * real.f_frsize
    assert result.details["free_bytes"] > 0
    assert 0 <= result.details["used_percent"] < 100
    assert result.details["write_test"] == "ok"
    assert os.listdir(tmp_path) == []  # the probe file is gone


async def test_thresholds_relative_to_real_usage(tmp_path: Path) -> None:
    used = disk_usage(os.statvfs(tmp_path)).used_percent
    if used < 1:
        pytest.skip(f"{tmp_path} is on an empty file system; no threshold below its usage")
    spec = DiskSpec(path=str(tmp_path), warning_percent=used / 2, critical_percent=100)
    result = await DiskChecker(spec, TIMEOUT).check()

    assert result.status is HealthStatus.DEGRADED
    assert "full (warning at" in (result.error_message or "")


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (10.0, HealthStatus.HEALTHY),
        (79.9, HealthStatus.HEALTHY),
        (80.0, HealthStatus.DEGRADED),
        (89.9, HealthStatus.DEGRADED),
        (90.0, HealthStatus.DOWN),
        (100.0, HealthStatus.DOWN),
    ],
)
async def test_thresholds(tmp_path: Path, used: float, expected: HealthStatus) -> None:
    spec = DiskSpec(path=str(tmp_path), warning_percent=80, critical_percent=90, write_test=False)
    checker = DiskChecker(spec, TIMEOUT, statvfs=lambda _path: statvfs_at(used))
    result = await checker.check()

    assert result.status is expected
    assert result.details["used_percent"] == pytest.approx(used, abs=0.1)
    assert "write_test" not in result.details


def test_usage_counts_root_reserved_blocks_as_unavailable() -> None:
    # 1000 blocks, 100 free of which 50 are reserved for root: 900 used of 950 usable.
    usage = disk_usage(FakeStatvfs(4096, 1000, 100, 50))

    assert usage.used_percent == pytest.approx(900 / 950 * 100)
    assert usage.free_bytes == 50 * 4096
    assert usage.total_bytes == 1000 * 4096


def test_pseudo_file_system_without_blocks_is_empty() -> None:
    assert disk_usage(FakeStatvfs(4096, 0, 0, 0)).used_percent == 0.0


async def test_missing_path_is_down(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    result = await DiskChecker(DiskSpec(path=str(missing)), TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"path does not exist: {missing}"


async def test_failing_write_test_is_down(tmp_path: Path) -> None:
    # A regular file: statvfs works on it, creating a file inside it cannot (even as root).
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    spec = DiskSpec(path=str(not_a_dir), warning_percent=100, critical_percent=100)
    result = await DiskChecker(spec, TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"write test failed in {not_a_dir}: Not a directory"
    assert result.details["write_test"] == "failed"
    assert "used_percent" in result.details


async def test_statvfs_error_is_reported(tmp_path: Path) -> None:
    def broken(_path: str) -> FakeStatvfs:
        raise OSError(5, "Input/output error")

    result = await DiskChecker(DiskSpec(path=str(tmp_path)), TIMEOUT, statvfs=broken).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "Input/output error"
    assert result.details == {"path": str(tmp_path)}


async def test_blocked_statvfs_times_out_and_is_not_stacked(tmp_path: Path) -> None:
    """A hung mount blocks statvfs in a thread; later checks must not pile up more threads."""
    release = threading.Event()
    calls: list[str] = []

    def hung(path: str) -> FakeStatvfs:
        calls.append(path)
        release.wait(30)
        return statvfs_at(10)

    checker = DiskChecker(DiskSpec(path=str(tmp_path), write_test=False), TIMEOUT, statvfs=hung)
    try:
        first = await checker.check()
        second = await checker.check()
    finally:
        release.set()

    assert first.status is HealthStatus.DOWN
    assert first.error_message == f"no answer within {TIMEOUT:g} s"
    assert second.status is HealthStatus.DOWN
    assert second.error_message == f"previous check of {tmp_path} is still blocked (hung mount?)"
    assert calls == [str(tmp_path)]
    assert checker._in_flight is not None
    await checker._in_flight  # the released thread finishes
    third = await checker.check()
    assert third.status is HealthStatus.HEALTHY
    assert len(calls) == 2
