"""FastAPI dependencies shared by every route module: who is calling, and may they.

No ``from __future__ import annotations`` here or in route modules: FastAPI resolves the
annotations of dependencies at runtime, and string annotations of local names fail.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from studio_status.protocol import Role

from .gate import requires, role_of_request
from .service import Hub

__all__ = ["Access", "access"]

_bearer = HTTPBearer(auto_error=False, description="A hub token: `studio-status hub token create`")

RoleDep = Callable[..., Coroutine[Any, Any, Role]]


class Access:
    """The dependencies for one hub: ``any_role`` (401 without a valid token) and
    ``only(*roles)`` (403 for other roles). Each is marked with the roles it admits, so
    :class:`~studio_status.hub.gate.GatedRoute` checks them before the body is read; the
    dependency then reuses the gate's answer."""

    def __init__(self, hub: Hub) -> None:
        @requires(frozenset(Role))
        async def role_of(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> Role:
            role = role_of_request(request)  # the gate authenticated it already
            if role is None:
                role = await hub.auth.authenticate(credentials.credentials if credentials else None)
            if role is None:
                raise HTTPException(
                    401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
                )
            return role

        self.any_role: RoleDep = role_of

    def only(self, *roles: Role) -> RoleDep:
        role_of = self.any_role

        @requires(frozenset(roles))
        async def check(role: Annotated[Role, Depends(role_of)]) -> Role:
            if role not in roles:
                raise HTTPException(403, f"requires role {' or '.join(r.value for r in roles)}")
            return role

        return check


def access(hub: Hub) -> Access:
    return Access(hub)
