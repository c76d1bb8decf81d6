"""Health grid (seed 001, 4.1): a card per service, coloured by state, live from the store.

Each card: name, status, time in the current state, latency, last check, the error; a
tooltip with the rest. Click or Enter opens the service's detail window. Nothing here
polls: the cards change when the store does (every check reaches it as an event).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QScrollArea, QWidget

from studio_status.client.state import StatusState
from studio_status.protocol import HealthStatus, ServiceHealth, worst_status
from studio_status.ui import formats
from studio_status.ui.widgets import ServiceCard, StatePane

from .base import DetailWindow, WindowContext
from .texts import live_services, service_lines, service_title, service_tooltip

__all__ = ["HealthWindow"]

CARD_MIN_WIDTH = 230


class HealthWindow(DetailWindow):
    """Attributes:
    cards: the service cards by service name, in the hub's order.
    """

    kind = "services"
    title = formats.WINDOW_TITLES["services"]
    default_size = (820, 480)
    admin_only = True

    def __init__(self, ctx: WindowContext, key: str | None = None) -> None:
        super().__init__(ctx, key)
        self.cards: dict[str, ServiceCard] = {}
        self._columns = 0
        self.add_link("uptime")
        self.add_link("checklist")
        self.add_link("activity")
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(10)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self._grid_host)
        self.trim = scroll
        self.pane = StatePane(scroll, theme=self.theme)
        self.pane.retry_requested.connect(self.on_pane_retry_requested)
        self.root.addWidget(self.pane, 1)

    def show_state(self, state: StatusState) -> None:
        services = live_services(state)
        if not self.is_admin and state.role is not None:
            self.subtitle.setText("")
            self.pane.show_empty("Service health is visible to admins only.")
            return
        if not services:
            self.subtitle.setText("")
            if state.role is None and state.footer is None:
                if state.connection.value == "offline":
                    self.pane.show_error("The hub cannot be reached, and nothing is known yet.")
                else:
                    self.pane.show_loading("Waiting for the hub…")
            else:
                self.pane.show_empty(
                    "This hub watches no services yet. An admin adds them to the hub's "
                    "configuration; they appear here at its next start."
                )
            return
        now = self.now()
        names = list(services)
        if names != list(self.cards):
            self._rebuild(names)
        for name, svc in services.items():
            self.cards[name].set_content(
                service_title(svc), svc.status, service_lines(svc, now), service_tooltip(svc, now)
            )
        self.subtitle.setText(_summary(list(services.values())))
        self.pane.show_content()

    def _rebuild(self, names: list[str]) -> None:
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        for name in names:
            card = ServiceCard(name, theme=self.theme)
            card.open_requested.connect(self.on_card_open_requested)
            self.cards[name] = card
        self._columns = 0
        self._relayout()

    def _relayout(self) -> None:
        columns = max(1, min(4, (self.width() - 28) // CARD_MIN_WIDTH))
        if columns == self._columns:
            return
        self._columns = columns
        for card in self.cards.values():
            self._grid.removeWidget(card)
        for i, card in enumerate(self.cards.values()):
            self._grid.addWidget(card, i // columns, i % columns)
        previous: QWidget = self
        for card in self.cards.values():  # Tab walks the cards in reading order
            QWidget.setTabOrder(previous, card)
            previous = card

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def on_card_open_requested(self, name: str) -> None:
        self.open_requested.emit(f"service:{name}")


def _summary(services: list[ServiceHealth]) -> str:
    counts = {s: sum(1 for x in services if x.status is s) for s in HealthStatus}
    parts = [f"{len(services)} services"]
    for status in (HealthStatus.DOWN, HealthStatus.DEGRADED, HealthStatus.UNKNOWN):
        if counts[status]:
            parts.append(f"{counts[status]} {status.value}")
    worst = worst_status([s.status for s in services])
    if worst is HealthStatus.HEALTHY:
        parts.append("all healthy")
    return " · ".join(parts)
