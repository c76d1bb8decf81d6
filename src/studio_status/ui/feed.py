"""The one bridge from the store to Qt: coalesced ``changed(StatusState)`` signals.

The store calls its listeners synchronously on every event; a burst of 10 000 events must
not mean 10 000 repaints, so :class:`StateFeed` pokes a
:class:`~studio_status.client.coalesce.Coalescer` and emits at most ~40 times a second,
always with the latest state. Outside a running asyncio loop (a view built before the loop
starts) it emits at once, so nothing is ever lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio_status.client.coalesce import Coalescer
from studio_status.client.state import StatusState, StatusStore

__all__ = ["REPAINT_INTERVAL", "StateFeed"]

log = logging.getLogger("ui.strip")

#: Seconds between repaints at most (40 per second).
REPAINT_INTERVAL = 1 / 40


class StateFeed(QObject):
    """Coalesces store changes into ``changed`` signals.

    Signals:
        changed(StatusState): the latest state, at most once per ``interval``.

    Attributes:
        emitted: how many times ``changed`` fired (the repaint count, for tests and bench).
    """

    changed = Signal(object)

    def __init__(
        self,
        store: StatusStore,
        interval: float = REPAINT_INTERVAL,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._coalescer = Coalescer(self._flush, interval)
        self._unsubscribe: Callable[[], None] | None = store.subscribe(self._on_store_changed)
        self.emitted = 0

    @property
    def state(self) -> StatusState:
        return self._store.state

    def _on_store_changed(self, _state: StatusState) -> None:
        try:
            self._coalescer.poke()
        except RuntimeError:  # no running loop: nothing to coalesce against, emit now
            self._flush()

    def _flush(self) -> None:
        self.emitted += 1
        self.changed.emit(self._store.state)

    def close(self) -> None:
        """Stop listening (the store outlives the views in tests)."""
        self._coalescer.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
