"""Connection segment: says plainly when the hub cannot be reached, and since when.

Hidden while the stream is live and fresh (except for a plain "Simulated studio" label
when the data comes from the demo simulator); otherwise ``Last update 3 min ago — hub
unreachable since 12:04`` (offline), ``Connecting…``, ``Polling`` with a status shape.
"""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import ConnectionState, StatusState
from studio_status.protocol import HealthStatus
from studio_status.ui import formats

from .segment import Run, RunKind, SegmentWidget

__all__ = ["ConnectionSegment"]

_SHAPE = {
    ConnectionState.CONNECTING: (HealthStatus.UNKNOWN, "unknown"),
    ConnectionState.LIVE: (HealthStatus.DEGRADED, "degraded"),  # live but stale
    ConnectionState.POLLING: (HealthStatus.DEGRADED, "degraded"),
    ConnectionState.OFFLINE: (HealthStatus.DOWN, "down"),
}


class ConnectionSegment(SegmentWidget):
    """The link's state; ``open_requested("connection")`` is not emitted (nothing to open)."""

    def __init__(self, *args: object, hub: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._hub = hub

    def set_hub(self, hub: str | None) -> None:
        """Name another hub in the tooltip (the app switched profile)."""
        self._hub = hub

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        text = formats.connection_text(state, now) or ""
        tooltip = formats.connection_tooltip(state, now, self._hub)
        if not text:
            return "", [], tooltip
        if text == formats.SIMULATED_TEXT:
            tooltip = "Data from the studio simulator (studio-status demo), not a real platform"
            return text, [Run(RunKind.TEXT, text)], tooltip
        status, color = _SHAPE[state.connection]
        runs = [Run(RunKind.STATUS, status=status, color=color, gap_after=5)]
        runs.append(Run(RunKind.TEXT, text))
        return text, runs, tooltip

    def update_state(self, state: StatusState, now: datetime) -> None:
        super().update_state(state, now)
        self.setVisible(bool(self._runs))
        # The connection segment must stay readable when everything else is dimmed.
        self._dim = False

    def mouseReleaseEvent(self, event: object) -> None:
        event.ignore()  # type: ignore[attr-defined]

    def contextMenuEvent(self, event: object) -> None:
        event.ignore()  # type: ignore[attr-defined]
