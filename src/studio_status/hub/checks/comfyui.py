"""ComfyUI checker: ``GET /system_stats`` on each configured instance.

``/system_stats`` is cheap, needs no model, and tells us the version and the device with its
free VRAM, which is what decides whether the next generation will run. A ComfyUI server
answers 403 to any request whose ``Origin`` host differs from ``Host``, so the probe makes
sure it sends no ``Origin`` at all, even through a shared client with default headers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from studio_status.hub.checks._common import (
    TARGET_SHARE,
    Clock,
    GuardedChecker,
    HttpClientHolder,
    describe_error,
    elapsed_ms,
)
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import ComfyUISpec
from studio_status.protocol import HealthStatus

__all__ = ["ComfyUIChecker", "parse_system_stats"]

_MB = 1024 * 1024


def parse_system_stats(body: Any) -> dict[str, Any]:
    """The fields a monitor needs from a ``/system_stats`` body; ValueError if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("system"), dict):
        raise ValueError("not a ComfyUI /system_stats response")
    system = body["system"]
    devices = body.get("devices")
    info: dict[str, Any] = {
        "version": system.get("comfyui_version"),
        "os": system.get("os"),
        "pytorch_version": system.get("pytorch_version"),
    }
    if isinstance(devices, list) and devices and isinstance(devices[0], dict):
        device = devices[0]
        vram_total = device.get("vram_total")
        vram_free = device.get("vram_free")
        info.update(
            device_name=device.get("name"),
            device_type=device.get("type"),
            vram_total_mb=vram_total // _MB if isinstance(vram_total, int) else None,
            vram_free_mb=vram_free // _MB if isinstance(vram_free, int) else None,
        )
    return info


class ComfyUIChecker(GuardedChecker):
    kind = "comfyui"
    # Each instance is bounded by its share of ``timeout`` (``TARGET_SHARE``), so a hung one is
    # one target down, reported with the others before the service's own timeout fires.

    def __init__(
        self,
        spec: ComfyUISpec,
        timeout: float,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock = time.perf_counter,
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.target_timeout = timeout * TARGET_SHARE
        self.spec = spec
        self.urls = [str(url).rstrip("/") for url in spec.urls]
        self._http = HttpClientHolder(http)

    def base_details(self) -> dict[str, Any]:
        return {"instances": 0, "total": len(self.urls)}

    async def probe(self, start: float) -> CheckResult:
        results = await asyncio.gather(*(self._probe_instance(url) for url in self.urls))
        latency = elapsed_ms(start, self.clock)
        online = [r for r in results if r["online"]]
        details: dict[str, Any] = {
            "instances": len(online),
            "total": len(results),
            "per_instance": results,
        }
        if len(online) == 1:
            # The common single-instance case: surface its facts at the top level too.
            details.update(
                {k: online[0].get(k) for k in ("version", "device_name", "vram_free_mb")}
            )
        statuses = {r["status"] for r in results}
        if not online:
            status = HealthStatus.DOWN
        elif statuses == {HealthStatus.HEALTHY.value}:
            status = HealthStatus.HEALTHY
        else:
            status = HealthStatus.DEGRADED
        problems = [f"{r['url']}: {r['message']}" for r in results if r.get("message")]
        return CheckResult(status, latency, "; ".join(problems) or None, details)

    async def _probe_instance(self, base_url: str) -> dict[str, Any]:
        start = self.clock()
        entry: dict[str, Any] = {"url": base_url, "online": False}
        try:
            async with asyncio.timeout(self.target_timeout):
                client = self._http.client
                request = client.build_request(
                    "GET", f"{base_url}/system_stats", timeout=self.target_timeout
                )
                request.headers.pop("Origin", None)
                response = await client.send(request)
                latency = elapsed_ms(start, self.clock)
        except Exception as exc:
            return self._offline(entry, start, describe_error(exc, timeout=self.target_timeout))
        entry["latency_ms"] = latency
        entry["status_code"] = response.status_code
        if response.status_code != 200:
            hint = " (ComfyUI rejects a foreign Origin)" if response.status_code == 403 else ""
            return self._offline(entry, start, f"HTTP {response.status_code}{hint}")
        try:
            entry.update(parse_system_stats(response.json()))
        except ValueError as exc:
            return self._offline(entry, start, f"unexpected /system_stats response: {exc}")

        entry["online"] = True
        warnings: list[str] = []
        if latency > self.spec.degraded_ms:
            warnings.append(f"slow: {latency} ms (threshold {self.spec.degraded_ms} ms)")
        vram_total = entry.get("vram_total_mb")
        vram_free = entry.get("vram_free_mb")
        # A CPU device reports system RAM as its "VRAM" (and some builds report 0), so the
        # VRAM floor only means something for a real GPU.
        has_vram = entry.get("device_type") != "cpu" and bool(vram_total)
        if has_vram and vram_free is not None and vram_free < self.spec.vram_free_min_mb:
            minimum = self.spec.vram_free_min_mb
            warnings.append(f"low VRAM: {vram_free} MB free (minimum {minimum} MB)")
        entry["status"] = (HealthStatus.DEGRADED if warnings else HealthStatus.HEALTHY).value
        entry["message"] = ", ".join(warnings) or None
        return entry

    def _offline(self, entry: dict[str, Any], start: float, message: str) -> dict[str, Any]:
        entry.setdefault("latency_ms", elapsed_ms(start, self.clock))
        entry.update(online=False, status=HealthStatus.DOWN.value, message=message)
        return entry

    async def aclose(self) -> None:
        await self._http.aclose()
