"""What every route does before FastAPI reads its body: who calls, how often, and is the JSON sane.

FastAPI parses and validates a body before it solves a route's dependencies, so with the
token checked in a dependency an anonymous caller with a malformed body learnt about the
body (400/422) instead of being told to authenticate (401). :class:`GatedRoute` runs the
:class:`Gate` first, on every route that needs a token:

1. authenticate (401) and check the role the route's dependency asks for (403); the result
   is kept on the request so the dependency does not look the token up again;
2. the write rate of ``/api/`` per valid token (429). A caller whose token is missing or
   wrong takes from one bucket per client address instead, for every route: a stream of
   made-up tokens neither gets a bucket each nor costs more than its address's allowance;
3. the JSON body: a number that is not finite (``NaN``, ``Infinity``, ``1e400``) or a
   string that is not valid Unicode is a 422 naming the field, like any validation error.
   An integer written beyond 64 bits is read as the number it is (a float), as JSON means
   it: where the schema wants an integer, the model's 64-bit bound refuses it by name
   (:class:`~studio_status.protocol.common.JsonTyped`); elsewhere it is a number like any
   other. The parsed document is what the route validates, so every route's body goes
   through here and none can store, echo or fail on such a value.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from studio_status.protocol import Role
from studio_status.protocol.common import INT64_MAX, INT64_MIN

from .auth import TokenAuth
from .limits import RateLimiter

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "Gate",
    "GatedRoute",
    "requires",
    "role_of_request",
    "route_roles",
]


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_RATED_PREFIX = "/api/"
_ROLE_KEY = "studio_status.role"


_F = TypeVar("_F", bound=Callable[..., Any])


def requires(roles: frozenset[Role]) -> Callable[[_F], _F]:
    """Mark an auth dependency with the roles it admits, so the gate can check them first."""

    def mark(fn: _F) -> _F:
        fn.studio_status_roles = roles  # type: ignore[attr-defined]
        return fn

    return mark


def role_of_request(request: Request) -> Role | None:
    """The role the gate found for this request (None if the gate did not run)."""
    role: Role | None = request.scope.get(_ROLE_KEY)
    return role


class Gate:
    def __init__(self, auth: TokenAuth, rates: RateLimiter) -> None:
        self._auth = auth
        self._rates = rates

    async def admit(self, request: Request, roles: frozenset[Role]) -> None:
        credential = _bearer(request)
        role = await self._auth.authenticate(credential) if credential else None
        if role is None:
            self.refuse_anonymous(request)
            raise HTTPException(
                401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        request.scope[_ROLE_KEY] = role
        if role not in roles:
            raise HTTPException(403, f"requires role {' or '.join(sorted(r.value for r in roles))}")
        if request.method in _WRITES and request.url.path.startswith(_RATED_PREFIX):
            assert credential is not None
            self._take("t:" + hashlib.sha256(credential.encode()).hexdigest())

    def refuse_anonymous(self, request: Request) -> None:
        """Charge a caller without a valid token to its address's one bucket (429 when spent).

        Routes with an access rule of their own (``/metrics``) call it too, so no route lets
        a stream of made-up tokens cost the hub more than one address's allowance.
        """
        client = request.client.host if request.client else "?"
        self._take(f"a:{client}")

    def _take(self, key: str) -> None:
        wait = self._rates.take(key)
        if wait > 0:
            seconds = str(math.ceil(wait))
            raise HTTPException(
                429,
                f"too many requests; retry in {seconds} s",
                headers={"Retry-After": seconds},
            )

    @staticmethod
    async def check_body(request: Request) -> None:
        """422 for a JSON body holding what no route accepts (see the module docstring)."""
        if request.method not in _WRITES or not _is_json(request.headers.get("content-type")):
            return
        body = await request.body()
        if not body:
            return
        try:
            doc = json.loads(body, parse_int=_int_or_float)
        except json.JSONDecodeError as exc:
            raise _invalid(
                ("body", exc.pos), "json_invalid", f"JSON decode error: {exc.msg}"
            ) from None
        except ValueError as exc:  # e.g. an integer with more digits than Python converts
            raise _invalid(("body",), "json_invalid", f"JSON decode error: {exc}") from None
        for loc, problem in _problems(doc, ("body",)):
            raise _invalid(loc, *problem)
        # FastAPI reads the body through Request.json(), which returns this once it is set:
        # the route validates the document checked here, not a second parse of the bytes
        request._json = doc


def _int_or_float(text: str) -> int | float:
    """A JSON integer beyond what SQLite's integers hold is the number it names, a float
    (and ``int()`` of thousands of digits is what Python refuses to do at all)."""
    if len(text.lstrip("-")) <= 19:
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value
    return float(text)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


Loc = tuple[str | int, ...]


def _problems(value: Any, loc: Loc) -> Iterator[tuple[Loc, tuple[str, str]]]:
    if isinstance(value, float):
        if not math.isfinite(value):
            yield loc, ("finite_number", "Input should be a finite number")
    elif isinstance(value, str):
        if not _valid_unicode(value):
            yield loc, ("string_unicode", "Input should be valid Unicode (no lone surrogates)")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _problems(item, (*loc, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _valid_unicode(key):
                yield loc, ("string_unicode", "Keys should be valid Unicode (no lone surrogates)")
            yield from _problems(item, (*loc, key))


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _invalid(loc: Loc, kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message, "input": None}])


def _roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles every auth dependency of the route admits; None for a public route."""
    found: frozenset[Role] | None = None
    for dep in dependant.dependencies:
        for roles in (getattr(dep.call, "studio_status_roles", None), _roles(dep)):
            if roles is not None:
                found = roles if found is None else found & roles
    return found


def route_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles ``route`` admits (None: public), as the gate checks them."""
    return _roles(route.dependant)


class GatedRoute(APIRoute):
    """An API route that runs the app's :class:`Gate` (``app.state.gate``) before the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        roles = _roles(self.dependant)
        if roles is None:
            return handler

        async def gated(request: Request) -> Response:
            gate: Gate = request.app.state.gate
            await gate.admit(request, roles)
            await gate.check_body(request)
            return await handler(request)

        return gated
