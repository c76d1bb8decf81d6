"""HTTP(S) endpoint checker."""

from __future__ import annotations

import time
from typing import Any

import httpx

from studio_status.hub.checks._common import Clock, GuardedChecker, HttpClientHolder, elapsed_ms
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import HttpSpec
from studio_status.protocol import HealthStatus

__all__ = ["BODY_LIMIT", "HttpChecker"]

#: How much of a body is searched for ``body_contains``: a health check must not download a
#: large page, and a marker sits near the top of any page worth checking.
BODY_LIMIT = 1024 * 1024
#: without a marker, a body up to this size is read to its end to keep the connection
DRAIN_LIMIT = 64 * 1024


class HttpChecker(GuardedChecker):
    kind = "http"

    def __init__(
        self,
        spec: HttpSpec,
        timeout: float,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec
        self.url = str(spec.url)
        self._http = HttpClientHolder(http, verify=spec.verify_tls)

    def base_details(self) -> dict[str, Any]:
        return {"url": self.url}

    async def probe(self, start: float) -> CheckResult:
        spec = self.spec
        client = self._http.client
        body = b""
        wanted = spec.body_contains is not None and spec.method == "GET"
        # The body is read to its end when it is small, marker or not: a response closed
        # half read costs its keep-alive connection, and a hub checking hundreds of
        # services would open a new one for every check. A large body stops at the cap
        # (that connection is dropped instead).
        async with client.stream(
            spec.method, self.url, headers=spec.headers, timeout=self.timeout
        ) as response:
            latency = elapsed_ms(start, self.clock)  # to the response, not the download
            read = 0
            async for chunk in response.aiter_bytes():
                read += len(chunk)
                if wanted:
                    body += chunk
                if read >= (BODY_LIMIT if wanted else DRAIN_LIMIT):
                    break
            if wanted:
                latency = elapsed_ms(start, self.clock)  # the marker needed the body
        details = {
            "url": self.url,
            "status_code": response.status_code,
            "http_version": response.http_version,
        }
        if str(response.url) != self.url:
            details["final_url"] = str(response.url)

        if response.status_code not in spec.expect_status:
            expected = ", ".join(str(code) for code in spec.expect_status)
            status_line = f"{response.status_code} {response.reason_phrase}".strip()
            message = f"HTTP {status_line} (expected {expected})"
            return CheckResult(HealthStatus.DOWN, latency, message, details)
        if spec.body_contains is not None and spec.method == "GET":
            text = body.decode(response.encoding or "utf-8", errors="replace")
            if spec.body_contains not in text:
                message = f"response body does not contain {spec.body_contains!r}"
                return CheckResult(HealthStatus.DOWN, latency, message, details)
        if latency > spec.degraded_ms:
            message = f"slow response: {latency} ms (threshold {spec.degraded_ms} ms)"
            return CheckResult(HealthStatus.DEGRADED, latency, message, details)
        return CheckResult(HealthStatus.HEALTHY, latency, None, details)

    async def aclose(self) -> None:
        await self._http.aclose()
