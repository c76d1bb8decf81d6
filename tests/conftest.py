"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.hub.checks.servers import Target


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    """A switchable HTTP target on loopback (``target.status = 503`` breaks it)."""
    t = Target()
    await t.server.start()
    yield t
    await t.server.close()
