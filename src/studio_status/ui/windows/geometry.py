"""Where each detail window was: ``windows.json`` beside the strip's settings.

One entry per window kind (``services``, ``service``, ``uptime`` ...), the value Qt's own
``saveGeometry()`` in base64, which restores size, position and screen, and falls back to
a visible place when that screen is gone. A broken file is ignored (windows open at their
default size), never fatal.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QByteArray

__all__ = ["GeometryStore"]

log = logging.getLogger("ui.windows")


def _default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("studio-status")) / "windows.json"


class GeometryStore:
    """Attributes:
    path: the JSON file (injectable for tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else _default_path()
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = {k: v for k, v in raw.items() if isinstance(v, str)}
            except FileNotFoundError:
                self._data = {}
            except (OSError, ValueError, AttributeError) as exc:
                log.info("ignoring window geometry in %s: %s", self.path, exc)
                self._data = {}
        return self._data

    def load(self, name: str) -> QByteArray | None:
        value = self._load().get(name)
        if not value:
            return None
        return QByteArray.fromBase64(QByteArray(value.encode("ascii")))

    def save(self, name: str, geometry: QByteArray) -> None:
        data = self._load()
        data[name] = bytes(geometry.toBase64().data()).decode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.info("cannot save window geometry to %s: %s", self.path, exc)
