"""The app's settings on the Qt side: one :class:`ConfigStore` every view reads and writes.

Why a store and not the file: the settings window, the strip (its edge, collapse, order),
the tray (profile switch) and the app wiring all change settings while each other runs;
one object holds the current :class:`~studio_status.appconfig.AppConfig`, saves every
change at once, and tells everyone what changed by name (qutebrowser's
``config.changed(name)``), so no view re-reads the file or polls.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio_status.appconfig import AppConfig, ConfigFile, LoadResult, Profile, changed_names

__all__ = ["ConfigStore"]

log = logging.getLogger("app.config")


class ConfigStore(QObject):
    """Holds the settings, saves each change, and says which ones changed.

    Signals:
        changed(str): a dotted setting name (``theme``, ``strip.edge``, ``profiles``,
            ``active_profile``), once per name per change, after the file was saved.

    Attributes:
        file: the :class:`ConfigFile` behind the store.
        loaded: what loading found (problems to show the user, the ``.bad`` copy).
    """

    changed = Signal(str)

    def __init__(self, file: ConfigFile | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.file = file if file is not None else ConfigFile()
        self.loaded: LoadResult = self.file.load()
        self._config = self.loaded.config

    @property
    def config(self) -> AppConfig:
        return self._config

    def replace(self, config: AppConfig) -> list[str]:
        """Make ``config`` current; saves and emits ``changed`` per name. Returns the names."""
        names = changed_names(self._config, config)
        if not names:
            return []
        self._config = config
        try:
            self.file.save(config)
        except OSError as exc:  # a read-only home must not stop the app; say so once per save
            log.warning("cannot save settings to %s: %s", self.file.path, exc)
        for name in names:
            self.changed.emit(name)
        return names

    def update(self, **changes: Any) -> list[str]:
        """Change top-level settings or whole sections (``strip=...``), validated."""
        return self.replace(self._config.validated(**changes))

    def update_section(self, section: str, **changes: Any) -> list[str]:
        """Change fields of one section (``update_section("refresh", poll_seconds=10)``)."""
        current = getattr(self._config, section)
        data = {**_as_dict(current), **changes}
        return self.update(**{section: data})

    def set_profile(self, profile: Profile, *, replacing: str | None = None) -> list[str]:
        """Add ``profile`` or put it in place of the profile named ``replacing``."""
        return self.replace(self._config.with_profile(profile, replacing=replacing))

    def remove_profile(self, name: str) -> list[str]:
        return self.replace(self._config.without_profile(name))

    def switch_profile(self, name: str) -> list[str]:
        if self._config.profile(name) is None:
            raise KeyError(name)
        return self.update(active_profile=name)


def _as_dict(section: object) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    from pydantic import BaseModel

    if isinstance(section, BaseModel):
        return dict(section)
    if is_dataclass(section) and not isinstance(section, type):
        return asdict(section)
    raise TypeError(f"not a settings section: {section!r}")
