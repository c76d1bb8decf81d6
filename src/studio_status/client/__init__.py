"""The app's asyncio client of the hub: REST, the event stream with resume, the state store.

No Qt here: views subscribe to :class:`StatusStore` and the app runs :class:`StatusClient`
on the qasync loop, so every rule is testable on a plain asyncio loop.

The names below load on first use (PEP 562): the strip paints the cached snapshot from
``state`` and ``cache`` alone, and httpx and websockets (a fifth of a second to import)
come in only when the client connects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cache import CachedFooter, SnapshotCache
    from .clock import Clock, SystemClock
    from .coalesce import Coalescer
    from .errors import (
        BadResponse,
        ClientError,
        HubUnavailable,
        Incompatible,
        NotAllowed,
        NotFound,
        TlsFailure,
        Unauthorized,
    )
    from .link import LinkProblem, ProblemKind
    from .rest import RestClient
    from .state import ConnectionState, DetailEntry, Notice, Segment, StatusState, StatusStore
    from .stream import DEFAULT_TOPICS, StatusClient

_HOME = {
    "CachedFooter": "cache",
    "SnapshotCache": "cache",
    "Clock": "clock",
    "SystemClock": "clock",
    "Coalescer": "coalesce",
    "BadResponse": "errors",
    "ClientError": "errors",
    "HubUnavailable": "errors",
    "NotFound": "errors",
    "Unauthorized": "errors",
    "Incompatible": "errors",
    "NotAllowed": "errors",
    "TlsFailure": "errors",
    "LinkProblem": "link",
    "ProblemKind": "link",
    "RestClient": "rest",
    "ConnectionState": "state",
    "DetailEntry": "state",
    "Notice": "state",
    "Segment": "state",
    "StatusState": "state",
    "StatusStore": "state",
    "DEFAULT_TOPICS": "stream",
    "StatusClient": "stream",
}

__all__ = [
    "DEFAULT_TOPICS",
    "BadResponse",
    "CachedFooter",
    "ClientError",
    "Clock",
    "Coalescer",
    "ConnectionState",
    "DetailEntry",
    "HubUnavailable",
    "Incompatible",
    "LinkProblem",
    "NotAllowed",
    "NotFound",
    "Notice",
    "ProblemKind",
    "RestClient",
    "Segment",
    "SnapshotCache",
    "StatusClient",
    "StatusState",
    "StatusStore",
    "SystemClock",
    "TlsFailure",
    "Unauthorized",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once: later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
