"""Tokens never reach a log: a whole hub + client session at DEBUG, every record searched.

The session covers what touches tokens: REST with a bearer header, the event socket's
upgrade header and hello, a bad hello, a refused token, a revoked one, a reconnect.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from studio_status.client import ConnectionState, StatusClient, StatusStore
from studio_status.hub.auth import split_token
from studio_status.protocol import Role
from tests.hub.checks.servers import Target
from tests.hubrunner import http_service, run_hub

from .tape import wait_state


def secrets_of(token: str) -> list[str]:
    """The token, and enough of its secret that a truncated log line would still leak."""
    parts = split_token(token)
    secret = parts[1] if parts else token
    return [token, secret[:10]]


async def test_no_token_in_any_log_line(
    tmp_path: Path, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        admin = await running.token(Role.ADMIN)
        creator = await running.token(Role.CREATOR)
        revoked = await running.token(Role.REVIEWER)
        tokens = [admin, creator, revoked, running.admin_token]
        store = StatusStore()
        client = StatusClient(running.url, store, token=admin, backoff_initial=0.05)
        client.start()
        try:
            await wait_state(store, lambda s: s.connection is ConnectionState.LIVE)
            client.kick()  # drop and resume
            await wait_state(store, lambda s: s.connection is ConnectionState.LIVE)
            async with running.http(creator) as http:
                assert (await http.get("/api/v1/status/footer")).status_code == 200
            split = split_token(revoked)
            assert split is not None
            await running.hub.store.revoke_token(split[0])
            async with running.http(revoked) as http:
                assert (await http.get("/api/v1/status/footer")).status_code == 401
            async with running.http(running.admin_token) as http:
                assert (await http.get("/admin/health")).status_code == 200
            async with connect(running.ws_url) as ws:  # refused in the hello
                await ws.send(json.dumps({"type": "hello", "token": revoked}))
                await ws.recv()
            async with connect(running.ws_url) as ws:  # a malformed hello that names a token
                await ws.send(json.dumps({"type": "hello", "token": creator, "topics": 5}))
                await ws.recv()
        finally:
            await client.aclose()
    assert len(caplog.records) > 20  # DEBUG really was on
    leaks = []
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for token in tokens:
            if any(secret in text for secret in secrets_of(token)):
                leaks.append(f"{record.name}: {text[:200]}")
    assert leaks == [], "\n".join(leaks)
