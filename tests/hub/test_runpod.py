"""The RunPod client against RunPod's recorded shapes, replayed through httpx's transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from studio_status.hub.sources.runpod import (
    RunPodClient,
    RunPodError,
    parse_graphql_pods,
    parse_rest_pods,
    parse_retry_after,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "runpod"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    api: Literal["graphql", "rest"] = "graphql",
) -> tuple[httpx.AsyncClient, RunPodClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return http, RunPodClient(http, "rp_secret", api=api)


def test_graphql_fixture_parses_to_pods() -> None:
    [pod] = parse_graphql_pods(fixture("graphql-myself-pods.json"))
    assert pod.id == "ldl1dxirsim64n" and pod.name == "Runpod Pytorch"
    assert pod.status == "RUNNING" and pod.cost_per_hour_cents == 74
    assert (pod.gpu_type, pod.gpu_count) == ("RTX A6000", 1)
    assert pod.uptime_seconds == 3931 and pod.gpu_util_percent == 0.0
    assert pod.provider == "runpod"


def test_graphql_stopped_pod_has_null_runtime() -> None:
    body = fixture("graphql-myself-pods.json")
    raw = body["data"]["myself"]["pods"][0]
    raw.update(desiredStatus="EXITED", runtime=None)
    [pod] = parse_graphql_pods(body)
    assert pod.status == "EXITED" and pod.uptime_seconds is None and pod.gpu_util_percent is None


def test_rest_v2_fixture_and_v1_bare_array_with_string_cost() -> None:
    [v2] = parse_rest_pods(fixture("rest-v2-pods.json"))
    assert (v2.id, v2.status, v2.cost_per_hour_cents) == ("7h9k2m4n6p", "RUNNING", 44)
    assert (v2.gpu_type, v2.gpu_count, v2.uptime_seconds) == ("NVIDIA GeForce RTX 4090", 1, 3600)
    v1 = [
        {
            "id": "p1",
            "name": "train",
            "desiredStatus": "RUNNING",
            "costPerHr": "0.74",
            "adjustedCostPerHr": 0.69,
            "gpu": {"count": 2, "displayName": "A100 80GB"},
            "machine": {"gpuDisplayName": "A100 80GB PCIe"},
        },
        {"id": "p2", "desiredStatus": "EXITED", "costPerHr": "0.5"},
    ]
    first, second = parse_rest_pods(v1)
    assert (first.cost_per_hour_cents, first.gpu_type, first.gpu_count) == (69, "A100 80GB", 2)
    assert (second.status, second.cost_per_hour_cents) == ("EXITED", 50)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"data": {"myself": {"pods": [{"id": "x", "costPerHr": "lots"}]}}}, "not a number"),
        ({"data": {"myself": {"pods": [{"id": "x", "costPerHr": -1}]}}}, "not a rate"),
        ({"data": {"myself": {"pods": [{"name": "no id"}]}}}, "has no id"),
        ({"data": {"myself": None}}, "no data.myself"),
        ({"data": {"myself": {"pods": "nope"}}}, "not a list"),
        ([], "not an object"),
    ],
)
def test_bad_shapes_are_errors_not_empty_lists(body: Any, message: str) -> None:
    with pytest.raises(RunPodError, match=message) as caught:
        parse_graphql_pods(body)
    assert caught.value.kind == "shape"


async def test_graphql_request_carries_bearer_key_and_the_pods_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture("graphql-myself-pods.json"))

    http, client = client_for(handler)
    async with http:
        pods = await client.list_pods()
    assert [p.id for p in pods] == ["ldl1dxirsim64n"]
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://api.runpod.io/graphql"
    assert request.headers["Authorization"] == "Bearer rp_secret"
    query = json.loads(request.content)["query"]
    for name in (
        "myself",
        "pods",
        "desiredStatus",
        "costPerHr",
        "gpuDisplayName",
        "gpuUtilPercent",
    ):
        assert name in query


async def test_rest_request_lists_pods() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/v1/pods"
        return httpx.Response(200, json=fixture("rest-v2-pods.json"))

    http, client = client_for(handler, api="rest")
    async with http:
        assert [p.cost_per_hour_cents for p in await client.list_pods()] == [44]


@pytest.mark.parametrize(
    ("response", "kind", "text"),
    [
        (
            httpx.Response(200, json={"errors": [{"message": "Something went wrong"}]}),
            "api",
            "Something went wrong",
        ),
        (httpx.Response(401, text="Unauthorized"), "auth", "refused"),
        (httpx.Response(500, text="boom"), "api", "HTTP 500"),
        (httpx.Response(200, text="<html>maintenance</html>"), "shape", "not JSON"),
    ],
)
async def test_provider_errors(response: httpx.Response, kind: str, text: str) -> None:
    http, client = client_for(lambda _: response)
    async with http:
        with pytest.raises(RunPodError, match=text) as caught:
            await client.list_pods()
    assert caught.value.kind == kind


async def test_rate_limit_carries_retry_after() -> None:
    http, client = client_for(lambda _: httpx.Response(429, headers={"Retry-After": "45"}))
    async with http:
        with pytest.raises(RunPodError) as caught:
            await client.list_pods()
    assert caught.value.kind == "rate_limited" and caught.value.retry_after == 45.0
    assert client.last_retry_after == 45.0


async def test_network_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http, client = client_for(handler)
    async with http:
        with pytest.raises(RunPodError) as caught:
            await client.list_pods()
    assert caught.value.kind == "network"


def test_retry_after_forms() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
