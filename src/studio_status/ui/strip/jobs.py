"""Jobs segment (all roles): ``⚡ 3 running · 5 queued · 72%`` with a ~60 px mini bar.

The bar sits before the percentage (seed 000, 1.4); when no running job reports progress
(``overall_progress`` None) it runs indeterminate, animated at a calm 15 frames a second and
only while visible, so an idle desktop stays quiet on CPU.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from studio_status.client.state import Segment, StatusState
from studio_status.protocol import StabilityState
from studio_status.ui import formats
from studio_status.ui.theme import Theme

from .segment import Run, RunKind, SegmentWidget

__all__ = ["JobsSegment"]

_FRAME_MS = 66
_CYCLE_S = 1.6


class JobsSegment(SegmentWidget):
    segment = Segment.JOBS

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._anim = QTimer(self)
        self._anim.setInterval(_FRAME_MS)
        self._anim.timeout.connect(self.update)

    @property
    def indeterminate(self) -> bool:
        return any(r.kind is RunKind.BAR and r.value is None for r in self._runs)

    @property
    def progress(self) -> int | None:
        """The bar's value; None when there is no bar or it is indeterminate."""
        return next((r.value for r in self._runs if r.kind is RunKind.BAR), None)

    def has_bar(self) -> bool:
        return any(r.kind is RunKind.BAR for r in self._runs)

    def build(self, state: StatusState, now: datetime) -> tuple[str, list[Run], str]:
        icon = formats.JOBS_ICON
        if state.footer is None:
            return (
                f"{icon} …",
                [Run(RunKind.GLYPH, icon, gap_after=5), Run(RunKind.TEXT, "…")],
                ("No job data yet"),
            )
        jobs = state.footer.jobs
        counts, pct = formats.jobs_parts(jobs)
        running = jobs.running > 0
        # the platform's own word (seed 003) counts too: imports and analytics it runs are
        # not all jobs this hub tracks
        busy = running or state.stability is StabilityState.PROCESSING
        color = "processing" if busy and not state.stale else "text_dim"
        runs = [Run(RunKind.GLYPH, icon, color=color, gap_after=5)]
        if running:
            # "3 running · 5 queued · ▬▬ 72%"; without a percentage the bar follows the counts
            lead = f"{counts}{formats.SEP}" if pct else counts
            runs.append(Run(RunKind.TEXT, lead, gap_after=2 if pct else 8))
            runs.append(Run(RunKind.BAR, value=jobs.overall_progress, gap_after=6 if pct else 0))
            if pct:
                runs.append(Run(RunKind.TEXT, pct))
        else:
            runs.append(Run(RunKind.TEXT, counts))
        tooltip = formats.jobs_tooltip(jobs)
        if state.stability is not None:
            tooltip += "\n" + formats.stability_text(state.stability)
        return formats.jobs_text(jobs), runs, tooltip

    def update_state(self, state: StatusState, now: datetime) -> None:
        super().update_state(state, now)
        self._sync_animation()

    def _sync_animation(self) -> None:
        want = self.indeterminate and self.isVisible() and not self._dim
        if want and not self._anim.isActive():
            self._anim.start()
        elif not want and self._anim.isActive():
            self._anim.stop()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self._sync_animation()

    def hideEvent(self, event: object) -> None:
        super().hideEvent(event)  # type: ignore[arg-type]
        self._anim.stop()

    def _indeterminate_phase(self) -> float:
        return (time.monotonic() % _CYCLE_S) / _CYCLE_S
