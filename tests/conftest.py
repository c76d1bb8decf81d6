"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.hub.checks.servers import Target
from tests.pgserver import postgres_server_fixture
from tests.storedb import ENGINES, database_for


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    """A switchable HTTP target on loopback (``target.status = 503`` breaks it)."""
    t = Target()
    await t.server.start()
    yield t
    await t.server.close()


postgres_server = postgres_server_fixture()


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """The hub's database on each engine: a SQLite file, then a fresh PostgreSQL database."""
    yield from database_for(request, tmp_path)
