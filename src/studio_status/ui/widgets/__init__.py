"""Widgets shared by the detail windows: the one chart, cards, badges, honest states."""

from .badges import Bar, Gauge, Pill, Spinner, status_pill
from .cards import MetricCard, ServiceCard
from .chart import Band, Chart, ChartData, Line, Span
from .states import Banner, PaneState, StatePane

__all__ = [
    "Band",
    "Banner",
    "Bar",
    "Chart",
    "ChartData",
    "Gauge",
    "Line",
    "MetricCard",
    "PaneState",
    "Pill",
    "ServiceCard",
    "Span",
    "Spinner",
    "StatePane",
    "status_pill",
]
