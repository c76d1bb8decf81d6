"""Cloud GPU segment (admin only): ``☁ 2 pods · $1.24/hr`` / ``☁ No GPUs``, by budget.

The cloud glyph takes the budget colour (green within budget, yellow approaching the cap,
red exceeded or a pod error); outside the budget a ▲ / ■ shape follows, so the warning is
not told by colour alone.
"""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import Segment, StatusState, budget_severity
from studio_status.protocol import BudgetStatus, HealthStatus
from studio_status.ui import formats

from .segment import Run, RunKind, SegmentWidget

__all__ = ["CloudSegment"]

_COLOR = {
    HealthStatus.HEALTHY: "healthy",
    HealthStatus.DEGRADED: "degraded",
    HealthStatus.DOWN: "down",
    HealthStatus.UNKNOWN: "unknown",
}


class CloudSegment(SegmentWidget):
    segment = Segment.CLOUD_GPU

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        cloud = state.footer.cloud_gpu if state.footer else None
        tooltip = formats.cloud_tooltip(cloud)
        text = formats.cloud_text(cloud)
        if state.footer is None:
            text = f"{formats.CLOUD_ICON} …"
        body = text.removeprefix(formats.CLOUD_ICON).strip()
        severity = budget_severity(cloud.budget_status) if cloud else HealthStatus.UNKNOWN
        color = None if state.stale or cloud is None else _COLOR[severity]
        runs = [Run(RunKind.GLYPH, formats.CLOUD_ICON, color=color, gap_after=5)]
        if cloud is not None and cloud.budget_status is not BudgetStatus.WITHIN_BUDGET:
            runs.append(Run(RunKind.TEXT, body, gap_after=5))
            runs.append(Run(RunKind.STATUS, status=severity, color=_COLOR[severity]))
        else:
            runs.append(Run(RunKind.TEXT, body))
        return text, runs, tooltip
