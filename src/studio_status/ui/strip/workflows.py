"""Workflows segment (all roles): ``⟳ 2 workflows · generating`` / ``⟳ No active workflows``."""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import Segment, StatusState
from studio_status.ui import formats

from .segment import Run, RunKind, SegmentWidget

__all__ = ["WorkflowsSegment"]


class WorkflowsSegment(SegmentWidget):
    segment = Segment.WORKFLOWS

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        icon = formats.WORKFLOWS_ICON
        if state.footer is None:
            return (
                f"{icon} …",
                [Run(RunKind.GLYPH, icon, gap_after=5), Run(RunKind.TEXT, "…")],
                ("No workflow data yet"),
            )
        wf = state.footer.workflows
        text = formats.workflows_text(wf)
        active = wf.active > 0 and not state.stale
        runs = [
            Run(RunKind.GLYPH, icon, color="processing" if active else "text_dim", gap_after=5),
            Run(RunKind.TEXT, text.removeprefix(icon).strip()),
        ]
        return text, runs, formats.workflows_tooltip(wf, state)
