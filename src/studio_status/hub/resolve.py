"""The hub's config step, one for ``studio-status hub`` and the app's own hub.

The TOML file (or the defaults) with the command line's overrides, and the words that name
where it came from for every later message. Light on purpose (no server stack): ``hub
token`` commands use it too. What the config needs from the machine is checked next, by
:mod:`studio_status.hub.preflight`.
"""

from __future__ import annotations

from pathlib import Path

from .config import HubConfig, default_config_path, default_data_dir, load_config

__all__ = ["configure", "demo_database_path"]


def demo_database_path() -> Path:
    """The demo's (``--simulate``) own database, beside the hub's in the user data folder."""
    return default_data_dir() / "demo.sqlite3"


def configure(
    path: Path | None,
    *,
    host: str | None = None,
    port: int | None = None,
    database: Path | str | None = None,
    simulate: bool = False,
) -> tuple[HubConfig, str]:
    """The config and its origin; raises :class:`~studio_status.hub.config.ConfigError`.

    A simulating hub (the demo) without ``database`` gets a database of its own: a hub
    started later without the simulator must never serve simulated pods and jobs as real.
    """
    config, found = load_config(path)
    given = database
    if simulate and database is None:
        database = demo_database_path()
    overrides = {"host": host, "port": port, "database": database}
    config.hub = config.hub.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    origin = str(path or default_config_path()) if found else "defaults (no config file)"
    if given is not None:
        origin += " with --database"
    return config, origin
