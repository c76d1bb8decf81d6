from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Iterator

import pytest

from studio_status.hub.checks.specs import TcpSpec
from studio_status.hub.checks.tcp import TcpChecker
from studio_status.protocol import HealthStatus
from tests.hub.checks.helpers import BOUND, TIMEOUT, SteppingClock
from tests.hub.checks.servers import free_port, tcp_listener


async def test_listening_port_is_healthy() -> None:
    async with tcp_listener() as port:
        result = await TcpChecker(TcpSpec(host="127.0.0.1", port=port), TIMEOUT).check()

    assert result.status is HealthStatus.HEALTHY
    assert result.details == {"host": "127.0.0.1", "port": port, "address": "127.0.0.1"}
    assert isinstance(result.latency_ms, int)


async def test_slow_connect_is_degraded() -> None:
    async with tcp_listener() as port:
        spec = TcpSpec(host="127.0.0.1", port=port, degraded_ms=500)
        result = await TcpChecker(spec, TIMEOUT, clock=SteppingClock(0.6)).check()

    assert result.status is HealthStatus.DEGRADED
    assert result.latency_ms == 600
    assert result.error_message == "slow connect: 600 ms (threshold 500 ms)"


async def test_closed_port_is_down() -> None:
    port = free_port()
    result = await TcpChecker(TcpSpec(host="127.0.0.1", port=port), TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert result.error_message == "connection refused"
    assert result.details == {"host": "127.0.0.1", "port": port}


async def test_unresolvable_host_is_down() -> None:
    result = await TcpChecker(TcpSpec(host="nonexistent.invalid", port=80), TIMEOUT).check()

    assert result.status is HealthStatus.DOWN
    assert (result.error_message or "").startswith("DNS lookup failed")


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A listener that never accepts, its backlog filled: further connects hang (on Linux)."""
    held: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        try:
            for _ in range(16):
                sock = socket.socket()
                held.append(sock)
                sock.settimeout(0.2)
                try:
                    sock.connect(("127.0.0.1", port))
                except TimeoutError:
                    break
            else:
                pytest.skip("could not fill the listen backlog on this system")
            yield port
        finally:
            for sock in held:
                sock.close()


@pytest.mark.skipif(
    sys.platform != "linux", reason="relies on Linux dropping SYNs to a full backlog"
)
async def test_unanswered_connect_times_out_in_bounded_time() -> None:
    with full_backlog() as port:
        started = time.monotonic()
        result = await TcpChecker(TcpSpec(host="127.0.0.1", port=port), TIMEOUT).check()
        elapsed = time.monotonic() - started

    assert result.status is HealthStatus.DOWN
    assert result.error_message == f"no answer within {TIMEOUT:g} s"
    assert elapsed < BOUND


async def test_cancellation_is_not_swallowed() -> None:
    """The scheduler must be able to stop a check: cancellation is not a target failure."""
    with full_backlog() as port:
        task = asyncio.ensure_future(TcpChecker(TcpSpec(host="127.0.0.1", port=port), 30.0).check())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
