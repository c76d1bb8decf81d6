"""Every colour and size the views use, in one place, for a light and a dark desktop.

Views never spell a colour: they ask the theme for a role (``status_color``, ``surface``,
``text`` ...). State is never told by colour alone: :mod:`studio_status.ui.formats` pairs
each status with a glyph (● healthy, ▲ degraded, ■ down, ? unknown) and the painters draw
that shape, so the strip and the tray read the same to colour-blind users.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication

from studio_status.protocol import BudgetStatus, HealthStatus

from .formats import Overall

__all__ = ["DARK", "LIGHT", "Metrics", "Theme", "current_theme"]


@dataclass(frozen=True)
class Metrics:
    """Sizes in device-independent pixels (seed 000, section 7)."""

    strip_height: int = 30  # 28–32 px, like an IDE status bar
    collapsed_height: int = 4
    font_px: int = 11  # --font-size-xs
    icon_px: int = 14
    padding_x: int = 8  # inside a segment
    padding_y: int = 4  # no vertical padding beyond 4 px
    gap: int = 6  # between a service's dot and its label, and between runs
    separator_inset: int = 8  # separators stop short of the edges
    progress_width: int = 60  # the jobs segment's mini bar
    progress_height: int = 4
    chevron_width: int = 22
    flash_ms: int = 200  # seed 000, 2.1
    radius: int = 3


@dataclass(frozen=True)
class Theme:
    """A palette of named colours (``#rrggbb`` / ``#aarrggbb``) plus :class:`Metrics`."""

    name: str
    surface: str  # --color-surface-secondary, one step off the desktop
    surface_hover: str
    border: str  # --color-border-default (the strip's edge line)
    separator: str  # --color-border-subtle
    text: str
    text_dim: str  # stale data, idle texts
    healthy: str
    degraded: str
    down: str
    unknown: str
    processing: str  # job activity (seed 003 "Processing Data")
    flash_degraded: str
    flash_down: str
    progress_track: str
    progress_fill: str
    badge: str
    badge_text: str
    on_status: str  # glyphs drawn on a status-coloured disc
    metrics: Metrics = Metrics()

    def color(self, name: str) -> QColor:
        return QColor(getattr(self, name))

    def status_color(self, status: HealthStatus) -> QColor:
        return QColor(
            {
                HealthStatus.HEALTHY: self.healthy,
                HealthStatus.DEGRADED: self.degraded,
                HealthStatus.DOWN: self.down,
                HealthStatus.UNKNOWN: self.unknown,
            }[status]
        )

    def budget_color(self, budget: BudgetStatus) -> QColor:
        return QColor(
            {
                BudgetStatus.WITHIN_BUDGET: self.healthy,
                BudgetStatus.APPROACHING: self.degraded,
                BudgetStatus.EXCEEDED: self.down,
                BudgetStatus.ERROR: self.down,
            }[budget]
        )

    def overall_color(self, overall: Overall) -> QColor:
        return QColor(
            {
                Overall.HEALTHY: self.healthy,
                Overall.DEGRADED: self.degraded,
                Overall.DOWN: self.down,
                Overall.UNKNOWN: self.unknown,
                Overall.PROCESSING: self.processing,
            }[overall]
        )

    def flash_color(self, status: HealthStatus) -> QColor:
        return QColor(self.flash_down if status is HealthStatus.DOWN else self.flash_degraded)


LIGHT = Theme(
    name="light",
    surface="#eef0f3",
    surface_hover="#dfe3e8",
    border="#c9ced6",
    separator="#d5d9df",
    text="#1f2328",
    text_dim="#6b7480",
    healthy="#1a7f37",
    degraded="#b58100",
    down="#cf222e",
    unknown="#8c959f",
    processing="#0969da",
    flash_degraded="#f5d77a",
    flash_down="#f4a3a8",
    progress_track="#d0d7de",
    progress_fill="#0969da",
    badge="#cf222e",
    badge_text="#ffffff",
    on_status="#ffffff",
)

DARK = Theme(
    name="dark",
    surface="#1f2329",
    surface_hover="#2c323a",
    border="#3a414b",
    separator="#363c45",
    text="#d7dce2",
    text_dim="#8b949e",
    healthy="#3fb950",
    degraded="#d29922",
    down="#f85149",
    unknown="#8b949e",
    processing="#58a6ff",
    flash_degraded="#6b5314",
    flash_down="#7a2a2a",
    progress_track="#3a414b",
    progress_fill="#58a6ff",
    badge="#f85149",
    badge_text="#ffffff",
    on_status="#0d1117",
)


def current_theme() -> Theme:
    """Light or dark after the desktop's colour scheme (or its window colour as a fallback)."""
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        scheme = app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return DARK
        if scheme == Qt.ColorScheme.Light:
            return LIGHT
        if app.palette().window().color().lightnessF() < 0.5:
            return DARK
    return LIGHT
