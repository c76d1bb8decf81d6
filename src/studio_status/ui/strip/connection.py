"""Connection segment, the strip's right end: whose data this is, and what is wrong.

Live and fresh, it names the profile and role in dim text (``Local · admin``), so two
studios or two roles on one desktop are never confused; the demo says "Simulated studio".
Otherwise it says the link's state in the same words as the tray and the windows:
``Last update 3 min ago — hub unreachable since 12:04 (connection refused)``, ``Token
refused — check the token for profile “Local” in Settings``, ``Connecting…``, ``Polling``,
with a status shape. Problems of the app itself (a repaired settings file) add a ⚠ mark
until dealt with; the tooltip lists them.
"""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import ConnectionState, StatusState
from studio_status.protocol import HealthStatus
from studio_status.ui import formats

from .segment import Run, RunKind, SegmentWidget

__all__ = ["APP_PROBLEM_MARK", "ConnectionSegment"]

#: Drawn on the strip while the app itself has a problem the user should deal with.
APP_PROBLEM_MARK = "⚠"

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
        text, runs, tooltip = self._build(state, now)
        if not state.app_problems:
            return text, runs, tooltip
        tooltip += "\n" + "\n".join(f"⚠ {p}" for p in state.app_problems.values())
        mark = Run(RunKind.TEXT, APP_PROBLEM_MARK, color="degraded", gap_after=6)
        return f"{APP_PROBLEM_MARK} {text}".rstrip(), [mark, *runs], tooltip

    def _build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        text = formats.connection_text(state, now) or ""
        hub = state.source.hub if state.source is not None else self._hub
        tooltip = formats.connection_tooltip(state, now, hub)
        source = formats.source_text(state)
        if not text:
            if source is None:
                return "", [], tooltip
            return source, [Run(RunKind.TEXT, source, color="text_dim")], tooltip
        if text == formats.SIMULATED_TEXT:
            tooltip = "Data from the studio simulator (studio-status demo), not a real platform"
            if source is not None:
                tooltip += f"\n{formats.connection_tooltip(state, now, hub)}"
            return text, [Run(RunKind.TEXT, text)], tooltip
        status, color = _SHAPE[state.connection]
        if state.problem is not None and state.problem.needs_user:
            status, color = HealthStatus.DOWN, "down"
        runs = [Run(RunKind.STATUS, status=status, color=color, gap_after=5)]
        runs.append(Run(RunKind.TEXT, text))
        if source is not None:
            runs.append(Run(RunKind.TEXT, f"{formats.SEP}{source}", color="text_dim"))
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
