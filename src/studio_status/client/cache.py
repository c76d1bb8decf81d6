"""The last good footer on disk, so the strip paints at once on start, marked stale.

Why a cache at all: the strip is on screen before the hub answers (or when it never does);
an honest "this is what we last knew, at 10:42" beats an empty bar. Writes are atomic (a
temp file in the same folder, then :func:`os.replace`) so a crash never leaves half a
file, and throttled to one every ``min_interval`` seconds so a burst of events does not
turn into a burst of disk writes. A file that cannot be read is moved aside as ``.bad``
(kept for a bug report) and ignored.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field

from studio_status.protocol import FooterData, ProtocolError, Role, WireModel, parse_model

__all__ = ["CACHE_VERSION", "CachedFooter", "SnapshotCache", "default_cache_path"]

log = logging.getLogger("client.cache")

CACHE_VERSION = 1


def default_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir("studio-status")) / "footer.json"


@dataclass(frozen=True)
class CachedFooter:
    """What the cache holds: the footer, the role it was seen with, when, and from which
    hub (its ``hub_id``; a hub with another id replaces it at its first answer)."""

    footer: FooterData
    role: Role | None
    at: datetime | None
    hub_id: str | None = None


class _CacheFile(WireModel):
    version: int = Field(default=CACHE_VERSION)
    footer: FooterData
    role: Role | None = None
    at: datetime | None = None
    hub_id: str | None = None


class SnapshotCache:
    """Reads and writes the cached footer at :attr:`path`.

    ``save`` may be called on every store change: it only remembers the newest footer and
    writes when ``min_interval`` has passed since the last write; :meth:`flush` writes what
    is pending once due (or at once with ``force``), e.g. from a periodic tick and at exit.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        min_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.min_interval = min_interval
        self._monotonic = monotonic
        self._last_write: float | None = None
        self._pending: CachedFooter | None = None
        self.writes = 0

    @property
    def bad_path(self) -> Path:
        return self.path.with_name(self.path.name + ".bad")

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def load(self) -> CachedFooter | None:
        """The cached footer, or None when there is none or it cannot be trusted."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read footer cache %s: %s", self.path, exc)
            return None
        try:
            obj: Any = json.loads(raw)
            if isinstance(obj, dict) and obj.get("version") != CACHE_VERSION:
                raise ProtocolError("footer cache", f"version {obj.get('version')!r}")
            data = parse_model(_CacheFile, obj, "footer cache")
        except (ValueError, ProtocolError) as exc:  # JSONDecodeError is a ValueError
            log.warning(
                "ignoring corrupt footer cache %s (kept as %s): %s",
                self.path,
                self.bad_path.name,
                exc,
            )
            self._quarantine()
            return None
        return CachedFooter(data.footer, data.role, data.at, data.hub_id)

    def save(
        self,
        footer: FooterData,
        role: Role | None,
        at: datetime | None,
        hub_id: str | None = None,
    ) -> bool:
        """Remember ``footer``; write now if the last write is old enough. True if written."""
        self._pending = CachedFooter(footer, role, at, hub_id)
        return self.flush()

    def flush(self, *, force: bool = False) -> bool:
        """Write the pending footer if due (or ``force``); True if a file was written."""
        if self._pending is None:
            return False
        now = self._monotonic()
        if (
            not force
            and self._last_write is not None
            and now - self._last_write < self.min_interval
        ):
            return False
        pending, self._pending = self._pending, None
        try:
            self._write(pending)
        except OSError as exc:  # a full or read-only disk must not stop the client
            log.warning("cannot write footer cache %s: %s", self.path, exc)
            return False
        finally:
            self._last_write = now
        self.writes += 1
        return True

    def _write(self, entry: CachedFooter) -> None:
        body = _CacheFile(
            footer=entry.footer, role=entry.role, at=entry.at, hub_id=entry.hub_id
        ).model_dump_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _quarantine(self) -> None:
        try:
            os.replace(self.path, self.bad_path)
        except OSError as exc:
            log.warning("cannot move corrupt footer cache aside: %s", exc)
