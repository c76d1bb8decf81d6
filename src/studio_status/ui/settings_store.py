"""The strip's preferences on disk: edge, screen, collapsed, segment order, shortcut.

One JSON file, ``strip.json`` under ``platformdirs.user_config_dir("studio-status")``
(the seed kept ``x121:footer-collapsed`` in localStorage; this is the desktop's equivalent).
A file that cannot be read is reported, kept beside as ``strip.json.bad`` and replaced by
defaults, so a broken file never stops the strip from starting. Unknown keys are ignored and
bad values fall back to their default one by one.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from studio_status.client.state import Segment

__all__ = [
    "DEFAULT_ORDER",
    "DEFAULT_SHORTCUT",
    "Edge",
    "SettingsStore",
    "StripSettings",
    "normalize_order",
]

log = logging.getLogger("ui.strip")

#: Seed 000, 2.3: services → cloud GPU → workflows → jobs.
DEFAULT_ORDER: tuple[Segment, ...] = (
    Segment.SERVICES,
    Segment.CLOUD_GPU,
    Segment.WORKFLOWS,
    Segment.JOBS,
)
DEFAULT_SHORTCUT = "Ctrl+Alt+S"


class Edge(StrEnum):
    TOP = "top"
    BOTTOM = "bottom"


def normalize_order(order: list[str] | tuple[str, ...]) -> tuple[Segment, ...]:
    """Known segments in the given order, each once, missing ones appended in default order."""
    seen: list[Segment] = []
    for name in order:
        try:
            seg = Segment(name)
        except ValueError:
            continue
        if seg not in seen:
            seen.append(seg)
    return (*seen, *(s for s in DEFAULT_ORDER if s not in seen))


@dataclass(frozen=True)
class StripSettings:
    """Typed strip preferences; ``screen`` None means the primary screen."""

    edge: Edge = Edge.BOTTOM
    screen: str | None = None
    collapsed: bool = False
    order: tuple[Segment, ...] = field(default=DEFAULT_ORDER)
    shortcut: str = DEFAULT_SHORTCUT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["edge"] = self.edge.value
        data["order"] = [s.value for s in self.order]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StripSettings:
        out = cls()
        if data.get("edge") in {e.value for e in Edge}:
            out = replace(out, edge=Edge(data["edge"]))
        if isinstance(data.get("screen"), str) or data.get("screen") is None:
            out = replace(out, screen=data.get("screen"))
        if isinstance(data.get("collapsed"), bool):
            out = replace(out, collapsed=data["collapsed"])
        order = data.get("order")
        if isinstance(order, list) and all(isinstance(s, str) for s in order):
            out = replace(out, order=normalize_order(order))
        if isinstance(data.get("shortcut"), str) and data["shortcut"].strip():
            out = replace(out, shortcut=data["shortcut"])
        return out


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("studio-status")) / "strip.json"


class SettingsStore:
    """Loads and saves :class:`StripSettings` at ``path`` (injectable for tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_path()

    def load(self) -> StripSettings:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return StripSettings()
        except OSError as exc:
            log.warning("cannot read strip settings %s: %s; using defaults", self.path, exc)
            return StripSettings()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            bad = self.path.with_name(self.path.name + ".bad")
            log.warning(
                "strip settings %s are corrupt (%s); kept as %s, using defaults",
                self.path,
                exc,
                bad,
            )
            try:
                os.replace(self.path, bad)
            except OSError:
                log.exception("could not move %s aside", self.path)
            settings = StripSettings()
            self.save(settings)
            return settings
        return StripSettings.from_json(data)

    def save(self, settings: StripSettings) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(settings.to_json(), indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot save strip settings to %s: %s", self.path, exc)
