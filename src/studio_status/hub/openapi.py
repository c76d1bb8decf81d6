"""The OpenAPI document says what the hub really does, status by status and bound by bound.

FastAPI documents a route's declared responses and its validation error. What every route
also answers, from layers the route does not see, is added here from what those layers
know about it (:class:`~studio_status.hub.gate.GatedRoute`):

- 401 and 429 on every route that needs a token (the gate authenticates first and rates
  callers without a valid token per address, writes to ``/api/`` per token); 403 where the
  route admits only some roles;
- 413 (the body size limit) and 422 on every route that takes a body;
- 503 on every write (the database may refuse it: disk full, read-only);
- the 422 ``detail`` may be a plain message (a rule across fields, e.g. "end: must be
  after start") as well as pydantic's list;
- every integer is a signed 64-bit one (what the gate admits in a body, what SQLite
  stores): a bound is added where the model gives none.

Route-specific statuses (404 for an unknown name, 409, 400) are declared on the routes with
:func:`errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from studio_status.protocol import Role

from .gate import INT64_MAX, INT64_MIN, GatedRoute, route_roles

__all__ = ["REQUEST_SCHEMA", "ErrorBody", "allowed_methods", "errors", "exact_openapi"]

#: ``openapi_extra`` key: the body a route accepts, when its model takes more so that the
#: route can refuse it itself (e.g. a restart without confirmation: 400, audited)
REQUEST_SCHEMA = "x-request-schema"


class ErrorBody(BaseModel):
    detail: str


_DESCRIPTIONS = {
    400: "The request cannot be carried out as sent",
    401: "No token, or an unknown or revoked one",
    403: "The token's role may not do this",
    404: "No such thing (the message names it)",
    409: "Conflicts with the hub's state (the message says how)",
    413: "The request body is larger than the hub takes",
    429: "Too many requests: from this address without a valid token, or writes to /api/"
    " for this token; see Retry-After",
    503: "The hub cannot do this now (its database refuses writes, or it is not ready);"
    " see Retry-After",
}

_WRITES = frozenset({"post", "put", "patch", "delete"})


def errors(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with the error body and a description
    (``described`` overrides one by ``s<code>``, e.g. ``s409="..."``)."""
    return {
        code: {
            "model": ErrorBody,
            "description": described.get(f"s{code}", _DESCRIPTIONS.get(code, "Error")),
        }
        for code in codes
    }


def exact_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the document it builds (once) is completed as above."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _complete(app, schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    validation = components.get("HTTPValidationError")
    if validation is not None:
        listed = validation["properties"]["detail"]
        validation["properties"]["detail"] = {
            "anyOf": [listed, {"type": "string"}],
            "title": "Detail",
        }
    for route in _gated(app.routes):
        if not route.include_in_schema:
            continue
        roles = route_roles(route)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            accepted = operation.pop(REQUEST_SCHEMA, None)
            if accepted is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": accepted}},
                }
            codes: set[int] = set()
            if roles is not None:
                codes |= {401, 429}
                if roles != frozenset(Role):
                    codes.add(403)
            if "requestBody" in operation:
                codes.add(413)
            if method.lower() in _WRITES:
                codes.add(503)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    str(code),
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
            if "requestBody" in operation and "422" not in responses:
                responses["422"] = {
                    "description": "Validation Error",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                        }
                    },
                }
    for node in _nodes(schema):
        if node.get("type") == "integer":
            if "maximum" not in node and "exclusiveMaximum" not in node:
                node["maximum"] = INT64_MAX
            if "minimum" not in node and "exclusiveMinimum" not in node:
                node["minimum"] = INT64_MIN


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document lists for ``path``: a fixed path (``/api/v1/status/footer``)
    is its own resource, not an instance of a templated one that also matches it
    (``/api/v1/status/{system}``), as in the document. For the ``Allow`` of a 405."""
    matching = [r for r in _gated(app.routes) if r.path_regex.match(path)]
    fixed = [r for r in matching if "{" not in r.path_format]
    return sorted({m for r in (fixed or matching) for m in r.methods or ()})


def _gated(routes: Iterable[Any]) -> Iterator[GatedRoute]:
    """Every gated route, also inside included routers (included without a prefix)."""
    for route in routes:
        if isinstance(route, GatedRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _gated(inner.routes)


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)
