"""Services segment (admin only): ``● ComfyUI  ● DB  ● Workers 3/4``, a shape per state."""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import Segment, StatusState
from studio_status.protocol import HealthStatus
from studio_status.ui import formats

from .segment import Run, RunKind, SegmentWidget

__all__ = ["ServicesSegment"]

_COLOR = {
    HealthStatus.HEALTHY: "healthy",
    HealthStatus.DEGRADED: "degraded",
    HealthStatus.DOWN: "down",
    HealthStatus.UNKNOWN: "unknown",
}


class ServicesSegment(SegmentWidget):
    segment = Segment.SERVICES

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        services = state.footer.services if state.footer else None
        tooltip = formats.services_tooltip(services, now)
        if not services:
            return "? …", [Run(RunKind.STATUS, gap_after=4), Run(RunKind.TEXT, "…")], tooltip
        runs: list[Run] = []
        parts = formats.service_parts(services)
        muted = {name for name in services if state.muted(name, now)}
        for i, (name, (status, _glyph, label)) in enumerate(zip(services, parts, strict=True)):
            # a muted service keeps its shape but goes grey and says so in words
            color = "unknown" if state.stale or name in muted else _COLOR[status]
            text = f"{label} {formats.MUTED_MARK}" if name in muted else label
            target = f"service:{name}"  # a click on a service opens that service
            runs.append(Run(RunKind.STATUS, status=status, color=color, gap_after=4, target=target))
            runs.append(
                Run(RunKind.TEXT, text, gap_after=10 if i < len(parts) - 1 else 0, target=target)
            )
        if muted:
            tooltip += "\nMuted (no notices): " + ", ".join(sorted(muted))
        return formats.services_text(services, muted), runs, tooltip
