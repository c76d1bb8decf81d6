"""A small typed REST client for the hub, over an injected :class:`httpx.AsyncClient`.

The ``httpx.AsyncClient`` is the transport seam: the app hands in a real one, tests hand in
one built on :class:`httpx.MockTransport` or pointed at a real server on loopback. Every
httpx error and every off-contract body is translated here into the
:mod:`studio_status.client.errors` tree, so callers handle three cases, not thirty.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from studio_status.protocol import (
    FooterData,
    FooterEnvelope,
    ProtocolError,
    decode_json,
    parse_model,
)
from studio_status.protocol.contract import CONTRACT_HEADER, HUB_ID_HEADER, contract_mismatch

from .errors import (
    BadResponse,
    HubUnavailable,
    Incompatible,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthorized,
)
from .link import roles_text, transport_error

__all__ = ["FOOTER_PATH", "RestClient", "join_url"]

log = logging.getLogger("client.rest")

FOOTER_PATH = "/api/v1/status/footer"


def join_url(base_url: str, path: str) -> str:
    """``base_url`` may carry a path prefix (a platform mounted under ``/x121``); keep it."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


class RestClient:
    """Typed calls to the hub's REST routes.

    Attributes:
        base_url: the hub's root, e.g. ``https://platform.example``.
        token: bearer token sent on every request; may be changed (a new token from the
            keyring) without rebuilding the client.
        hub_id: the identity the hub gave with its last footer (None until one came, or
            from a hub too old to say); the cache is keyed by it.
    """

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self._http = http
        self._timeout = timeout
        self.hub_id: str | None = None

    async def fetch_footer(self) -> FooterData:
        """``GET /api/v1/status/footer``; the body as the token's role may see it.

        Raises :class:`Incompatible` for a hub outside the contracts this app speaks."""
        return (await self.fetch_footer_body())[0]

    async def fetch_footer_body(self) -> tuple[FooterData, bytes]:
        """:meth:`fetch_footer`, and the body as the hub sent it (``status --json``)."""
        response = await self._send("GET", FOOTER_PATH)
        contract = _contract(response.headers.get(CONTRACT_HEADER))
        mismatch = contract_mismatch(contract)
        if mismatch is not None:
            raise Incompatible(contract or 0, too_new=mismatch)
        self.hub_id = response.headers.get(HUB_ID_HEADER) or None
        raw = response.content
        try:
            return parse_model(FooterEnvelope, decode_json(raw, "footer"), "footer").data, raw
        except ProtocolError as exc:
            raise BadResponse(f"GET {FOOTER_PATH}: {exc}", exc) from exc

    async def get_json(self, path: str, params: dict[str, str | int | float] | None = None) -> Any:
        """``GET path`` and the decoded JSON body (detail windows' data; see ``details``)."""
        return _json(await self._request("GET", path, params=params), path)

    async def post_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """``POST path`` with an optional JSON body; the decoded JSON answer (or None)."""
        raw = await self._request("POST", path, json=body)
        return _json(raw, path) if raw.strip() else None

    async def put_json(self, path: str, body: dict[str, Any]) -> Any:
        raw = await self._request("PUT", path, json=body)
        return _json(raw, path) if raw.strip() else None

    async def delete(self, path: str, params: dict[str, str | int | float] | None = None) -> None:
        await self._request("DELETE", path, params=params)

    async def _get(self, path: str) -> bytes:
        return await self._request("GET", path)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int | float] | None = None,
        json: dict[str, Any] | None = None,
    ) -> bytes:
        return (await self._send(method, path, params=params, json=json)).content

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int | float] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = join_url(self.base_url, path)
        what = f"{method} {path}"
        try:
            response = await self._http.request(
                method, url, headers=headers, params=params, json=json, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise HubUnavailable(
                f"{what}: timed out ({type(exc).__name__})", "no answer in time"
            ) from exc
        except httpx.TransportError as exc:  # connect refused, DNS, reset, TLS, proxy...
            raise transport_error(exc, what) from exc
        except httpx.InvalidURL as exc:
            raise HubUnavailable(
                f"{what}: invalid hub address {url!r}", "the hub address is not valid"
            ) from exc
        status = response.status_code
        if status == 401:
            raise Unauthorized(f"{what}: HTTP 401 — the hub refused the token")
        if status == 403:
            raise NotAllowed(roles_text(_detail(response)))
        if status == 404:
            detail = _detail(response)
            raise NotFound(
                f"{what}: HTTP 404{detail}", detail.strip(" ()") or "not available on this hub"
            )
        if status == 429 and method == "GET":
            # reads are limited only for callers without a valid token (per address)
            raise RateLimited(
                f"{what}: HTTP 429 — the hub refused the token and asks to wait",
                _retry_after(response),
            )
        if status >= 500 or status in (408, 429):
            # 404 here usually means "not a hub" (a proxy page, a wrong port): keep retrying.
            cause = "the hub is busy" if status == 429 else "the hub answered with an error"
            raise HubUnavailable(f"{what}: HTTP {status}{_detail(response)}", cause)
        if not 200 <= status < 300:
            detail = _detail(response)
            raise BadResponse(
                f"{what}: unexpected HTTP {status}{detail}", cause=detail.strip(" ()") or None
            )
        log.debug("%s -> %s (%d bytes)", what, status, len(response.content))
        return response


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds of a ``Retry-After`` header (the hub sends seconds, never a date)."""
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return RateLimited.wait_in(_detail(response))


def _json(raw: bytes, path: str) -> Any:
    try:
        return decode_json(raw, path)
    except ProtocolError as exc:
        raise BadResponse(f"{path}: {exc}", exc) from exc


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of a FastAPI error body, if any, for the person reading the error."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return f" ({detail})" if isinstance(detail, str) and detail else ""


def _contract(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
