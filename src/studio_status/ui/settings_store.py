"""The strip's view of the app settings: load and save just the ``[strip]`` table.

The strip's preferences (edge, screen, collapsed, segment order, shortcut) used to be their
own ``strip.json``; they are now the ``strip`` section of the one app schema
(:mod:`studio_status.appconfig`, migrated on first start). This adapter keeps the strip's
small load/save interface and sends every change through the shared
:class:`~studio_status.ui.config.ConfigStore`, so the settings window and the strip never
hold two copies.
"""

from __future__ import annotations

from pathlib import Path

from studio_status.appconfig import (
    DEFAULT_ORDER,
    DEFAULT_SHORTCUT,
    ConfigFile,
    Edge,
    StripSettings,
    normalize_order,
)

from .config import ConfigStore

__all__ = [
    "DEFAULT_ORDER",
    "DEFAULT_SHORTCUT",
    "Edge",
    "SettingsStore",
    "StripSettings",
    "normalize_order",
]


class SettingsStore:
    """Loads and saves :class:`StripSettings` through a :class:`ConfigStore`.

    A :class:`~pathlib.Path` stands for an ``app.toml`` of its own (tests, tools).
    """

    def __init__(self, config: ConfigStore | Path) -> None:
        self.config = config if isinstance(config, ConfigStore) else ConfigStore(ConfigFile(config))

    @property
    def path(self) -> Path:
        return self.config.file.path

    def load(self) -> StripSettings:
        return self.config.config.strip

    def save(self, settings: StripSettings) -> None:
        self.config.update(strip=settings)
