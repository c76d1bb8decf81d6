"""Opt-in paint probe for the benchmarks (``python -m bench``); off unless asked for.

With ``STUDIO_STATUS_PAINT_PROBE`` set (a file path, or ``-`` for stderr) the strip writes
one JSON line each time a Paint event reaches it or one of its widgets after it rendered a
new state: ``{"probe": "paint", "t": <time.monotonic()>, "seq": <last applied seq>,
"version": <store version>, "data": <has a footer>, "none_refs": ..., "shown": {segment:
text}}``. ``time.monotonic`` is
``CLOCK_MONOTONIC``, comparable across processes on one Linux machine. When the variable is
unset :func:`install` returns at once and nothing else runs.

A state that changes nothing on screen (the counts of a burst's last events can be what is
already shown) is painted by no one, so each render of a state also writes ``{"probe":
"render", "t", "seq", "version", "shown"}``: with the same ``shown`` as the last paint, the
screen showed that state from then on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from studio_status.client.state import StatusState

__all__ = ["PROBE_ENV", "install"]

PROBE_ENV = "STUDIO_STATUS_PAINT_PROBE"


class _PaintProbe(QObject):
    def __init__(self, strip: QWidget, target: str) -> None:
        super().__init__(strip)
        self._strip = strip
        self._target = target
        self._logged: int | None = None
        for widget in [strip, *strip.findChildren(QWidget)]:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            state: StatusState | None = getattr(self._strip, "_state", None)
            version = state.version if state is not None else -1
            if version != self._logged:
                self._logged = version
                line = self._line("paint", state)
                line["data"] = state is not None and state.footer is not None
                line["none_refs"] = sys.getrefcount(None)  # a binding leaking None shows here
                self._write(json.dumps(line) + "\n")
        return False

    def rendered(self) -> None:
        self._write(json.dumps(self._line("render", getattr(self._strip, "_state", None))) + "\n")

    def _line(self, kind: str, state: StatusState | None) -> dict[str, Any]:
        return {
            "probe": kind,
            "t": time.monotonic(),
            "seq": state.last_seq if state is not None else None,
            "version": state.version if state is not None else -1,
            # what the strip shows: a change can reach the screen through a footer poll
            # before its event's seq does (the socket was down meanwhile)
            "shown": {
                str(name): seg.text() for name, seg in getattr(self._strip, "segments", {}).items()
            },
        }

    def _write(self, text: str) -> None:
        # opened per line (a few dozen a second at most): nothing is left open when the
        # strip goes, and the bench reads each line as soon as it is written
        if self._target == "-":
            sys.stderr.write(text)
            sys.stderr.flush()
            return
        with open(self._target, "a", encoding="utf-8") as out:
            out.write(text)


def install(strip: QWidget) -> _PaintProbe | None:
    """Watch ``strip``'s paints when :data:`PROBE_ENV` is set; otherwise do nothing. The
    strip tells the returned probe of each state it renders (:meth:`_PaintProbe.rendered`)."""
    target = os.environ.get(PROBE_ENV)
    if not target:
        return None
    return _PaintProbe(strip, target)
