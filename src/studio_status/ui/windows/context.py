"""What the opener hands every window, apart from the windows themselves.

Its own module so the app can make it at start without the window classes: those (and
their widgets) load with the first window opened, not with every running strip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from studio_status.protocol import utcnow
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import Theme, current_theme

from .geometry import GeometryStore

if TYPE_CHECKING:
    # the network side (httpx, websockets) loads with the client, after the strip's first
    # paint, not with the window classes the app sets up at start
    from studio_status.client.details import Details
    from studio_status.client.state import StatusStore
    from studio_status.client.stream import StatusClient

__all__ = ["WindowContext"]


@dataclass
class WindowContext:
    """What the opener hands every window (no global registry, STYLE.md 12).

    Attributes:
        feed: the coalesced store feed every view reads.
        details: fetches detail resources on the windows' intents; None runs the windows on
            the live state alone (a hub without REST, or tests of live-only views).
        geometry: remembered window geometry.
        theme: light or dark.
        reconnect: asks the client to reconnect now (the Retry of a live-only window).
        clock: "now", for "for 12 min" and "3 s ago" texts.
        web_url: the platform's web UI, for "Open in browser".
    """

    feed: StateFeed
    details: Details | None = None
    geometry: GeometryStore = field(default_factory=GeometryStore)
    theme: Theme = field(default_factory=current_theme)
    reconnect: Callable[[], None] | None = None
    clock: Callable[[], datetime] = utcnow
    web_url: str | None = None

    async def attach(self, client: StatusClient | None, store: StatusStore) -> None:
        """Bind the windows to a (new) client: details over its REST client and token, Retry
        to its reconnect. ``None`` detaches (a profile switch, quitting)."""
        old, self.details, self.reconnect = self.details, None, None
        if old is not None:
            await old.aclose()
        if client is not None:
            from studio_status.client.details import Details

            self.details = Details(client.rest, store, client)
            self.reconnect = client.kick
