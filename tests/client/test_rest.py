"""The REST client over httpx.MockTransport: every failure lands in the client error tree."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from studio_status.client import (
    BadResponse,
    ClientError,
    HubUnavailable,
    NotAllowed,
    RestClient,
    Unauthorized,
)
from studio_status.protocol import HealthStatus, ProtocolError

from .helpers import footer_dict

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def rest_for() -> AsyncIterator[Callable[..., RestClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler, token: str | None = "tok", base: str = "http://hub") -> RestClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients.append(http)
        return RestClient(base, http, token=token)

    yield make
    for http in clients:
        await http.aclose()


async def test_fetch_footer_sends_the_token_and_parses(rest_for: Callable[..., RestClient]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": footer_dict()})

    footer = await rest_for(handler, base="https://platform.example/x121/").fetch_footer()
    assert footer.jobs.running == 1
    assert footer.services is not None
    assert footer.services["database"].status is HealthStatus.HEALTHY
    assert footer.cloud_gpu is not None and footer.cloud_gpu.cost_per_hour_cents == 124
    (request,) = seen
    assert str(request.url) == "https://platform.example/x121/api/v1/status/footer"
    assert request.headers["Authorization"] == "Bearer tok"


async def test_no_token_no_header(rest_for: Callable[..., RestClient]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "Authorization" not in request.headers
        return httpx.Response(200, json={"data": footer_dict(admin=False)})

    footer = await rest_for(handler, token=None).fetch_footer()
    assert footer.services is None and footer.cloud_gpu is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, Unauthorized),
        (500, HubUnavailable),
        (503, HubUnavailable),
        (404, HubUnavailable),
        (400, BadResponse),
        (302, BadResponse),
    ],
)
async def test_http_status_translation(
    rest_for: Callable[..., RestClient], status: int, error: type[ClientError]
) -> None:
    rest = rest_for(lambda _: httpx.Response(status, text="nope"))
    with pytest.raises(error, match=str(status)):
        await rest.fetch_footer()


async def test_403_is_not_allowed_in_words(rest_for: Callable[..., RestClient]) -> None:
    """A 403 says which roles may, from the hub's own detail; no code, no path."""
    rest = rest_for(lambda _: httpx.Response(403, json={"detail": "requires role admin"}))
    with pytest.raises(NotAllowed) as raised:
        await rest.fetch_footer()
    assert str(raised.value) == "admins only"
    assert isinstance(raised.value, Unauthorized)  # retrying does not help either


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b"[]",
        json.dumps({"footer": {}}).encode(),
        json.dumps({"data": {"jobs": {"running": "many"}}}).encode(),
    ],
)
async def test_off_contract_bodies_are_bad_responses(
    rest_for: Callable[..., RestClient], body: bytes
) -> None:
    rest = rest_for(lambda _: httpx.Response(200, content=body))
    with pytest.raises(BadResponse) as info:
        await rest.fetch_footer()
    assert isinstance(info.value.protocol_error, ProtocolError)
    assert isinstance(info.value, ClientError)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
async def test_transport_errors_are_hub_unavailable(
    rest_for: Callable[..., RestClient], exc: httpx.TransportError
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(HubUnavailable) as info:
        await rest_for(handler).fetch_footer()
    assert info.value.__cause__ is exc


async def test_token_can_change(rest_for: Callable[..., RestClient]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != "Bearer new":
            return httpx.Response(401)
        return httpx.Response(200, json={"data": footer_dict()})

    rest = rest_for(handler, token="old")
    with pytest.raises(Unauthorized):
        await rest.fetch_footer()
    rest.token = "new"
    assert (await rest.fetch_footer()).jobs.running == 1
