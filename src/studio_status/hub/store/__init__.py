"""The hub's storage: one interface (:class:`~.sqlite.SqlStore`), two engines.

SQLite (:class:`~.sqlite.SqliteStore`, one file) is the embedded default; PostgreSQL
(:class:`~.postgres.PostgresStore`) is chosen by a ``postgresql://`` database URL.
"""

from __future__ import annotations

from pathlib import Path

from .sqlite import SqliteStore, SqlStore

__all__ = ["create_store"]


def create_store(database: Path | str) -> SqlStore:
    """The store for ``database``: a ``postgresql://`` URL or a SQLite file path."""
    from .postgres import PostgresStore, is_postgres_url

    if isinstance(database, str) and is_postgres_url(database):
        return PostgresStore(database)
    return SqliteStore(Path(database))
