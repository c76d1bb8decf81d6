"""RunPod's pod listing, in RunPod's real shapes: GraphQL ``myself { pods }`` or REST.

The client does one thing: list pods as :class:`CloudPod`, or raise :class:`RunPodError`
saying what went wrong in a way the poller can act on (``kind``: ``auth``, ``rate_limited``
with ``retry_after``, ``api``, ``network``, ``shape``). GraphQL reports errors as HTTP 200
with ``errors[]``; that is an error here too, never an empty list, so a broken query cannot
look like "no GPUs running".

Rates come in USD per hour; they become integer cents (the footer's unit). The REST shapes
differ by version (v2 ``{"pods": [...]}`` with ``cost``/``status``/``gpu``; v1 a bare array
with ``costPerHr`` that may be a string), so the REST parser reads either.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from studio_status.protocol import CloudPod

__all__ = [
    "PODS_QUERY",
    "RunPodClient",
    "RunPodError",
    "parse_graphql_pods",
    "parse_rest_pods",
    "parse_retry_after",
]

log = logging.getLogger("hub.cloud")

PODS_QUERY = """
query Pods {
  myself {
    pods {
      id name desiredStatus costPerHr gpuCount
      machine { gpuDisplayName }
      runtime {
        uptimeInSeconds
        gpus { id gpuUtilPercent memoryUtilPercent }
        container { cpuPercent memoryPercent }
      }
    }
  }
}
"""

ErrorKind = Literal["auth", "rate_limited", "api", "network", "shape"]


class RunPodError(Exception):
    def __init__(self, message: str, *, kind: ErrorKind, retry_after: float | None = None):
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _usd_cents(value: Any, where: str) -> int:
    if value is None or value == "":
        return 0
    try:
        usd = float(value)
    except (TypeError, ValueError):
        raise RunPodError(f"{where}: cost {value!r} is not a number", kind="shape") from None
    if not math.isfinite(usd) or usd < 0:
        raise RunPodError(f"{where}: cost {value!r} is not a rate", kind="shape")
    return round(usd * 100)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value)
    return None


def _mean_util(gpus: Any) -> float | None:
    if not isinstance(gpus, list):
        return None
    values = [
        float(g["gpuUtilPercent"])
        for g in gpus
        if isinstance(g, Mapping) and isinstance(g.get("gpuUtilPercent"), int | float)
    ]
    return round(sum(values) / len(values), 1) if values else None


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a null ``runtime`` is normal)."""
    return value if isinstance(value, Mapping) else {}


def _pods_list(items: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(p, Mapping) for p in items):
        raise RunPodError(f"{where} is not a list of pods", kind="shape")
    for i, pod in enumerate(items):
        if not isinstance(pod.get("id"), str) or not pod["id"]:
            raise RunPodError(f"{where}[{i}] has no id", kind="shape")
    return items


def parse_graphql_pods(body: Any) -> list[CloudPod]:
    """``{"data": {"myself": {"pods": [...]}}}`` → pods; ``errors[]`` → RunPodError."""
    if not isinstance(body, Mapping):
        raise RunPodError("GraphQL answer is not an object", kind="shape")
    errors = body.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, Mapping) else str(first)
        raise RunPodError(f"GraphQL error: {message}", kind="api")
    myself = _obj(body.get("data")).get("myself")
    if not isinstance(myself, Mapping):
        raise RunPodError("GraphQL answer has no data.myself", kind="shape")
    out = []
    for pod in _pods_list(myself.get("pods"), "data.myself.pods"):
        runtime = _obj(pod.get("runtime"))
        machine = _obj(pod.get("machine"))
        out.append(
            CloudPod(
                id=pod["id"],
                name=pod.get("name"),
                status=str(pod.get("desiredStatus") or "UNKNOWN").upper(),
                cost_per_hour_cents=_usd_cents(pod.get("costPerHr"), f"pod {pod['id']}"),
                gpu_type=machine.get("gpuDisplayName"),
                gpu_count=_int(pod.get("gpuCount")),
                uptime_seconds=_int(runtime.get("uptimeInSeconds")),
                gpu_util_percent=_mean_util(runtime.get("gpus")),
                provider="runpod",
            )
        )
    return out


def parse_rest_pods(body: Any) -> list[CloudPod]:
    """REST v2 (``{"pods": [...]}``) or v1 (a bare array) → pods.

    The rate is ``adjustedCostPerHr`` (what is billed after discounts) when present, then
    ``costPerHr``, then v2's ``cost``.
    """
    items = body.get("pods") if isinstance(body, Mapping) else body
    out = []
    for pod in _pods_list(items, "pods"):
        gpu = _obj(pod.get("gpu"))
        machine = _obj(pod.get("machine"))
        runtime = _obj(pod.get("runtime"))
        rate = next(
            (pod[k] for k in ("adjustedCostPerHr", "costPerHr", "cost") if pod.get(k) is not None),
            None,
        )
        out.append(
            CloudPod(
                id=pod["id"],
                name=pod.get("name"),
                status=str(pod.get("status") or pod.get("desiredStatus") or "UNKNOWN").upper(),
                cost_per_hour_cents=_usd_cents(rate, f"pod {pod['id']}"),
                gpu_type=gpu.get("displayName") or machine.get("gpuDisplayName") or gpu.get("id"),
                gpu_count=_int(gpu.get("count", pod.get("gpuCount"))),
                uptime_seconds=_int(runtime.get("uptime", runtime.get("uptimeInSeconds"))),
                gpu_util_percent=_mean_util(runtime.get("gpus")),
                provider="runpod",
            )
        )
    return out


class RunPodClient:
    """Lists pods over an injected :class:`httpx.AsyncClient` (tests pass a mock transport)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        *,
        api: Literal["graphql", "rest"] = "graphql",
        graphql_url: str = "https://api.runpod.io/graphql",
        rest_url: str = "https://rest.runpod.io/v1",
    ) -> None:
        self._http = http
        self._key = api_key
        self.api = api
        self.graphql_url = graphql_url
        self.rest_url = rest_url.rstrip("/")
        self.last_retry_after: float | None = None

    async def list_pods(self) -> list[CloudPod]:
        self.last_retry_after = None
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        try:
            if self.api == "graphql":
                response = await self._http.post(
                    self.graphql_url, json={"query": PODS_QUERY}, headers=headers
                )
            else:
                response = await self._http.get(f"{self.rest_url}/pods", headers=headers)
        except httpx.TimeoutException:
            raise RunPodError("request timed out", kind="network") from None
        except httpx.TransportError as exc:
            raise RunPodError(f"cannot reach RunPod: {exc}", kind="network") from None
        body = self._check(response)
        return parse_graphql_pods(body) if self.api == "graphql" else parse_rest_pods(body)

    def _check(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise RunPodError(f"HTTP {status}: the API key was refused", kind="auth")
        if status == 429:
            self.last_retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RunPodError(
                "HTTP 429: rate limited", kind="rate_limited", retry_after=self.last_retry_after
            )
        if status >= 400:
            raise RunPodError(f"HTTP {status}: {response.text[:200]}", kind="api")
        try:
            return response.json()
        except ValueError:
            raise RunPodError("answer is not JSON", kind="shape") from None
