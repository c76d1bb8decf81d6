"""Shared plumbing for the concrete checkers.

Every checker must bound itself in time and turn any failure of its target into a ``down``
result with a message an operator can act on. Doing that once here keeps the per-kind
modules about their protocol and keeps the messages consistent across kinds.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from studio_status.hub.checks.base import Checker, CheckResult
from studio_status.protocol import HealthStatus
from studio_status.tlsdefault import verified_context

__all__ = [
    "TARGET_SHARE",
    "Clock",
    "GuardedChecker",
    "HttpClientHolder",
    "describe_error",
    "elapsed_ms",
    "format_seconds",
    "logger",
]

logger = logging.getLogger("hub.checks")

#: A monotonic clock in seconds; injectable so that latency rules can be tested without
#: depending on how fast the test machine happens to be.
Clock = Callable[[], float]


#: of a multi-target check's timeout (workers, ComfyUI instances), the share each target
#: gets: a hung target then answers "no answer" while the check still has time to report
#: the others, instead of the whole service timing out with its counts lost
TARGET_SHARE = 0.8


def elapsed_ms(start: float, clock: Clock = time.perf_counter) -> int:
    return max(0, round((clock() - start) * 1000))


def format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Walk ``__cause__`` / ``__context__``: httpx and asyncpg wrap the OS error we want."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def describe_error(exc: BaseException, *, timeout: float | None = None) -> str:
    """One line saying what went wrong, in the operator's terms rather than the library's."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or str(cause)
            return f"TLS certificate verification failed: {reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause}"
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed: {cause.strerror or cause}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        if timeout is not None:
            return f"no answer within {format_seconds(timeout)}"
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"invalid HTTP response: {exc}"
    if isinstance(exc, httpx.HTTPError):
        text = str(exc) or type(exc).__name__
        return f"HTTP request failed: {text}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.filename is None else f"{exc.strerror}: {exc.filename}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class GuardedChecker(Checker):
    """A checker whose ``check()`` is bounded by its timeout and cannot raise.

    Subclasses implement ``probe()`` and may raise freely; the guard turns a timeout or an
    exception into a ``down`` result. ``outer_grace`` lets multi-target checkers, which
    bound each target themselves, report per-target timeouts before the guard fires.
    """

    def __init__(self, timeout: float, *, clock: Clock = time.perf_counter) -> None:
        super().__init__(timeout)
        self.clock = clock

    @abstractmethod
    async def probe(self, start: float) -> CheckResult:
        """Probe the target; ``start`` is the clock reading when the check began."""

    def base_details(self) -> dict[str, Any]:
        """What identifies the target, reported even when the probe fails."""
        return {}

    async def check(self) -> CheckResult:
        start = self.clock()
        try:
            async with asyncio.timeout(self.timeout + self.outer_grace):
                return await self.probe(start)
        except Exception as exc:  # the contract: failures are results, never exceptions
            message = describe_error(exc, timeout=self.timeout)
            logger.debug("%s check failed: %s", self.kind, message, exc_info=True)
            return CheckResult(
                status=HealthStatus.DOWN,
                latency_ms=elapsed_ms(start, self.clock),
                error_message=message,
                details=self.base_details(),
            )


class HttpClientHolder:
    """Uses the hub's shared client when given one, else owns a private one.

    Sharing one pool keeps connection counts low when dozens of services are polled; a
    private client is still needed when TLS verification must be turned off, because httpx
    fixes ``verify`` per client, not per request.
    """

    def __init__(self, client: httpx.AsyncClient | None, *, verify: bool = True) -> None:
        self._own: httpx.AsyncClient | None = None
        if client is not None and verify:
            self.client = client
        else:
            # Made now rather than on first use: loading the CA bundle takes tens of
            # milliseconds, which would otherwise show up as the first check's latency.
            # Redirects are followed like a browser would; the final status is what counts.
            self._own = self.client = httpx.AsyncClient(
                verify=verified_context() if verify else False, follow_redirects=True
            )

    async def aclose(self) -> None:
        if self._own is not None:
            await self._own.aclose()
