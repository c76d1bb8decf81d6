"""The hub's database for a test, on each engine: a SQLite file, or a fresh PostgreSQL
database on the session's real server (``tests/pgserver.py``).

The ``database`` fixture (registered in ``tests/conftest.py``) is parametrized over both,
so every store test runs twice; the PostgreSQL run skips, naming the missing package, where
the server binaries are not installed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from studio_status.hub.store import create_store
from studio_status.hub.store.sqlite import SqlStore
from tests.pgserver import PgServer

__all__ = ["ENGINES", "fresh_database", "open_store"]

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def fresh_database(server: PgServer) -> Iterator[str]:
    """A new, empty database on ``server`` for one test; its URL. Dropped afterwards."""
    name = f"hub_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.dsn_with(database=name)
    finally:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "hub.sqlite3"
        return
    server: PgServer = request.getfixturevalue("postgres_server")
    with fresh_database(server) as dsn:
        yield dsn


@contextlib.asynccontextmanager
async def open_store(database: Path | str) -> AsyncIterator[SqlStore]:
    store = create_store(database)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
