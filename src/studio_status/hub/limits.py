"""Request limits: body size for every request, and the token buckets the gate rates with.

:class:`RequestLimits` is a pure ASGI middleware, so it runs before FastAPI reads anything:
an oversized body is refused with 413 without being held in memory (its declared length is
checked first; a body sent without one is counted as it arrives and cut off at the limit).

:class:`RateLimiter` holds token buckets (``burst`` at once, refilled at
``rate_per_second``), bounded in number; :mod:`studio_status.hub.gate` takes from them after
it has authenticated the caller: one bucket per valid token for writes to ``/api/``, one per
client address for callers without a valid token. Admin actions under ``/admin`` are people
clicking, not machines pushing, and reads are never limited for a valid token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LimitSettings", "RateLimiter", "RequestLimits"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class LimitSettings:
    max_body_bytes: int = 1024 * 1024
    rate_per_second: float = 50.0
    burst: int = 500


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at


class _TooLarge(Exception):
    pass


class RateLimiter:
    """Token buckets by key, at most ``_MAX_BUCKETS`` of them (full ones are forgotten first)."""

    def __init__(
        self, settings: LimitSettings = LimitSettings(), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one request from ``key``'s bucket; 0 if allowed, else seconds until it is."""
        now = self._clock()
        rate, burst = self.settings.rate_per_second, float(self.settings.burst)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _forget_full(self, now: float) -> None:
        rate, burst = self.settings.rate_per_second, self.settings.burst
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * rate >= burst:
                del self._buckets[key]
        if len(self._buckets) >= _MAX_BUCKETS:  # all busy: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].at)[
                : _MAX_BUCKETS // 2
            ]:
                del self._buckets[key]


class RequestLimits:
    def __init__(self, app: ASGIApp, settings: LimitSettings = LimitSettings()) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server answers a malformed length itself
            if too_big:
                await _answer(send, 413, f"request body larger than {limit} bytes")
                return
            await self.app(scope, receive, send)
            return
        if method not in _WRITES:
            await self.app(scope, receive, send)
            return
        try:
            messages = await _read_body(receive, limit)
        except _TooLarge:
            await _answer(send, 413, f"request body larger than {limit} bytes")
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _read_body(receive: Receive, limit: int) -> list[Message]:
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            raise _TooLarge
        if not message.get("more_body", False):
            return messages


async def _answer(
    send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
