"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.hub.checks.servers import LoopbackServer, Request, Response


class Target:
    """A real HTTP service whose answer the test switches."""

    def __init__(self) -> None:
        self.status = 200
        self.server = LoopbackServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    async def handle(self, _request: Request) -> Response:
        return Response(self.status, b"ok" if self.status == 200 else b"broken")


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    t = Target()
    await t.server.start()
    yield t
    await t.server.close()
