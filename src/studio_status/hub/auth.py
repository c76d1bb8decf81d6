"""Bearer tokens with roles.

A token reads ``ss_<id>_<secret>``. Only a SHA-256 of the secret is stored; lookups go by
``id`` and the hash is compared in constant time. A bootstrap token (the embedded hub's
fresh admin token, passed by its parent through the environment) lives only in memory.
Tokens are looked up on every request (one primary-key read) rather than cached, so a
revocation made by ``studio-status hub token revoke`` in another process holds at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from studio_status.protocol import Role

from .store.sqlite import SqlStore

__all__ = ["TokenAuth", "hash_secret", "new_token", "split_token"]

_PREFIX = "ss"


def new_token() -> tuple[str, str, str]:
    """Returns (token id, secret, the full token string to hand out once)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return token_id, secret, f"{_PREFIX}_{token_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenAuth:
    def __init__(self, store: SqlStore, *, bootstrap_token: str | None = None) -> None:
        self._store = store
        self._bootstrap = hash_secret(bootstrap_token) if bootstrap_token else None

    async def create(self, role: Role, name: str) -> str:
        token_id, secret, token = new_token()
        await self._store.add_token(token_id, name, role, hash_secret(secret))
        return token

    async def authenticate(self, token: str | None) -> Role | None:
        """The role a token carries, or None for a missing, unknown or revoked token."""
        if not token:
            return None
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if self._bootstrap is not None and hmac.compare_digest(hash_secret(token), self._bootstrap):
            return Role.ADMIN
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        row = await self._store.find_token(token_id)
        if row is None or row.revoked:
            return None
        if not hmac.compare_digest(hash_secret(secret), row.secret_hash):
            return None
        return row.role
