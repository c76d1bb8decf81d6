"""The app's asyncio client of the hub: REST, the event stream with resume, the state store.

No Qt here: views subscribe to :class:`StatusStore` and the app runs :class:`StatusClient`
on the qasync loop, so every rule is testable on a plain asyncio loop.
"""

from .backoff import Backoff
from .cache import CachedFooter, SnapshotCache
from .clock import Clock, SystemClock
from .coalesce import Coalescer
from .errors import BadResponse, ClientError, HubUnavailable, NotFound, Unauthorized
from .rest import RestClient
from .state import ConnectionState, DetailEntry, Notice, Segment, StatusState, StatusStore
from .stream import DEFAULT_TOPICS, StatusClient

__all__ = [
    "DEFAULT_TOPICS",
    "Backoff",
    "BadResponse",
    "CachedFooter",
    "ClientError",
    "Clock",
    "Coalescer",
    "ConnectionState",
    "DetailEntry",
    "HubUnavailable",
    "NotFound",
    "Notice",
    "RestClient",
    "Segment",
    "SnapshotCache",
    "StatusClient",
    "StatusState",
    "StatusStore",
    "SystemClock",
    "Unauthorized",
]
