"""Fixtures for client tests; the helpers they build on live in :mod:`tests.client.helpers`."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from studio_status.client import StatusClient, StatusStore

from .helpers import TIMEOUT, FakeClock, MakeClient, RecordingStore, ScriptedHub


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def hub() -> AsyncIterator[ScriptedHub]:
    server = ScriptedHub()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def make_client(clock: FakeClock) -> AsyncIterator[MakeClient]:
    """Build and start clients on the fake clock; all are closed after the test."""
    clients: list[StatusClient] = []

    def make(base_url: str, store: StatusStore | None = None, **kwargs: Any) -> StatusClient:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("rng", random.Random(7))
        kwargs.setdefault("open_timeout", TIMEOUT)
        client = StatusClient(base_url, store if store is not None else RecordingStore(), **kwargs)
        clients.append(client)
        client.start()
        return client

    yield make
    for client in clients:
        await client.aclose()
