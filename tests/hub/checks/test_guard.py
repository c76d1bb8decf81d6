"""What every checker promises: bounded in time, never raising, latency as an int."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from studio_status.hub.checks import CheckResult
from studio_status.hub.checks._common import GuardedChecker
from studio_status.hub.checks.disk import DiskChecker
from studio_status.hub.checks.http import HttpChecker
from studio_status.hub.checks.specs import DiskSpec, HttpSpec, TcpSpec
from studio_status.hub.checks.tcp import TcpChecker
from studio_status.protocol import HealthStatus
from tests.hub.checks.conftest import StartServer
from tests.hub.checks.helpers import BOUND, TIMEOUT
from tests.hub.checks.servers import Behaviour, tcp_listener


class Buggy(GuardedChecker):
    kind = "buggy"

    async def probe(self, start: float) -> CheckResult:
        return {}["missing"]  # type: ignore[no-any-return]


async def test_a_bug_in_a_probe_becomes_a_down_result() -> None:
    result = await Buggy(TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "KeyError: 'missing'"
    assert isinstance(result.latency_ms, int)


async def test_hung_target_times_out_while_others_finish_on_time(
    start_server: StartServer, tmp_path: Path
) -> None:
    hung = await start_server(behaviour=Behaviour.HANG)
    healthy_http = await start_server()
    hung_check = HttpChecker(HttpSpec(url=hung.url), TIMEOUT)  # type: ignore[arg-type]
    http_check = HttpChecker(HttpSpec(url=healthy_http.url), TIMEOUT)  # type: ignore[arg-type]
    disk_check = DiskChecker(DiskSpec(path=str(tmp_path), warning_percent=100), TIMEOUT)
    finished: dict[str, float] = {}
    started = time.monotonic()

    async def timed(name: str, check: GuardedChecker) -> CheckResult:
        result = await check.check()
        finished[name] = time.monotonic() - started
        return result

    async with tcp_listener() as port:
        tcp_check = TcpChecker(TcpSpec(host="127.0.0.1", port=port), TIMEOUT)
        results = await asyncio.gather(
            timed("hung", hung_check),
            timed("http", http_check),
            timed("tcp", tcp_check),
            timed("disk", disk_check),
        )
    await hung_check.aclose()
    await http_check.aclose()

    assert [r.status for r in results] == [HealthStatus.DOWN] + [HealthStatus.HEALTHY] * 3
    assert TIMEOUT * 0.9 <= finished["hung"] < BOUND
    # The others did not wait for the hung one: each was done well before its timeout.
    for name in ("http", "tcp", "disk"):
        assert finished[name] < TIMEOUT * 0.8, (name, finished)
