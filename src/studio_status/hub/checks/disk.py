"""Disk checker: space thresholds and an optional write test.

Space alone misses the failures that hurt most (a read-only remount after I/O errors, a
full inode table, a dead NFS server), so by default a tiny file is also written, synced
and removed. All of it runs in a worker thread: a dead network mount blocks ``statvfs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import DiskSpec
from studio_status.protocol import HealthStatus

__all__ = ["DiskChecker", "DiskUsage", "StatvfsResult", "disk_usage"]

_PROBE_PREFIX = ".studio-status-probe-"


class StatvfsResult(Protocol):
    """The fields of ``os.statvfs_result`` we read; lets tests hand in other figures."""

    @property
    def f_frsize(self) -> int: ...
    @property
    def f_blocks(self) -> int: ...
    @property
    def f_bfree(self) -> int: ...
    @property
    def f_bavail(self) -> int: ...


Statvfs = Callable[[str], StatvfsResult]


@dataclass(frozen=True)
class DiskUsage:
    total_bytes: int
    free_bytes: int
    used_bytes: int
    used_percent: float


def disk_usage(st: StatvfsResult) -> DiskUsage:
    """Usage as ``df`` reports it.

    Blocks reserved for root count neither as used nor as available, so a disk that
    ordinary processes can no longer write to shows 100 %, which is what matters to them.
    """
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    usable = used + avail
    percent = used * 100.0 / usable if usable > 0 else 0.0
    return DiskUsage(
        total_bytes=st.f_blocks * st.f_frsize,
        free_bytes=avail,
        used_bytes=used,
        used_percent=percent,
    )


def _write_test(directory: str) -> None:
    fd, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=directory)
    try:
        os.write(fd, b"studio-status write test\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Marks a measurement's error as seen when no check is awaiting it any more."""
    if not future.cancelled():
        future.exception()


class DiskChecker(GuardedChecker):
    kind = "disk"

    def __init__(
        self,
        spec: DiskSpec,
        timeout: float,
        *,
        statvfs: Statvfs = os.statvfs,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec
        self._statvfs = statvfs
        self._in_flight: asyncio.Future[tuple[DiskUsage, str | None]] | None = None

    def base_details(self) -> dict[str, Any]:
        return {"path": self.spec.path}

    def _measure(self) -> tuple[DiskUsage, str | None]:
        usage = disk_usage(self._statvfs(self.spec.path))
        write_error: str | None = None
        if self.spec.write_test:
            try:
                _write_test(self.spec.path)
            except OSError as exc:
                write_error = exc.strerror or str(exc)
        return usage, write_error

    async def probe(self, start: float) -> CheckResult:
        if self._in_flight is not None and not self._in_flight.done():
            # A thread blocked in the kernel cannot be cancelled. Starting another each time
            # would drain the default executor, which DNS lookups of other checks need too.
            return CheckResult(
                HealthStatus.DOWN,
                elapsed_ms(start, self.clock),
                f"previous check of {self.spec.path} is still blocked (hung mount?)",
                self.base_details(),
            )
        measure = asyncio.ensure_future(asyncio.to_thread(self._measure))
        measure.add_done_callback(_consume_exception)
        self._in_flight = measure
        try:
            # Shielded: a timeout must not mark the still-running thread as finished.
            usage, write_error = await asyncio.shield(measure)
        except FileNotFoundError:
            return CheckResult(
                HealthStatus.DOWN,
                elapsed_ms(start, self.clock),
                f"path does not exist: {self.spec.path}",
                self.base_details(),
            )
        latency = elapsed_ms(start, self.clock)
        details: dict[str, Any] = {
            "path": self.spec.path,
            "total_bytes": usage.total_bytes,
            "free_bytes": usage.free_bytes,
            "used_bytes": usage.used_bytes,
            "used_percent": round(usage.used_percent, 1),
        }
        if self.spec.write_test:
            details["write_test"] = "failed" if write_error else "ok"
        if write_error is not None:
            message = f"write test failed in {self.spec.path}: {write_error}"
            return CheckResult(HealthStatus.DOWN, latency, message, details)

        used = usage.used_percent
        if used >= self.spec.critical_percent:
            message = f"disk {used:.1f}% full (critical at {self.spec.critical_percent:g}%)"
            return CheckResult(HealthStatus.DOWN, latency, message, details)
        if used >= self.spec.warning_percent:
            message = f"disk {used:.1f}% full (warning at {self.spec.warning_percent:g}%)"
            return CheckResult(HealthStatus.DEGRADED, latency, message, details)
        return CheckResult(HealthStatus.HEALTHY, latency, None, details)
