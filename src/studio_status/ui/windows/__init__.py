"""Detail windows, opened from strip segments, the tray menu and each other, imported on use.

Window names (what ``open_requested`` carries):

=================  ==========================================  ==============
name               window                                      module
=================  ==========================================  ==============
``services``       health grid                                 ``health``
``service:<n>``    one service: history, actions, logs         ``service``
``jobs``           job progress                                ``jobs``
``workflows``      workflows first, then the jobs              ``jobs``
``uptime``         uptime timeline                             ``uptime``
``checklist``      startup checklist                           ``checklist``
``cloud_gpu``      cloud GPU: pods and costs                   ``costs``
``activity``       activity feed                               ``activity``
``pulse``          studio pulse: projects, disk                ``pulse``
``systems``        external systems (seed 004)                 ``systems``
=================  ==========================================  ==============

Titles, menu entries and tooltips take each window's one name from
:data:`studio_status.ui.formats.WINDOW_TITLES`. An unknown name is logged and opens nothing.
Each window offers "Open in browser" at its platform page when a web URL is configured
(:mod:`.weblink`).
"""

from __future__ import annotations

import importlib
import logging
import time

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from studio_status.ui.theme import Theme

from .context import WindowContext

__all__ = ["WINDOWS", "WindowContext", "WindowOpener"]

log = logging.getLogger("ui.windows")

#: name (or the part before ``:``) → (module, class)
WINDOWS: dict[str, tuple[str, str]] = {
    "services": ("health", "HealthWindow"),
    "service": ("service", "ServiceWindow"),
    "jobs": ("jobs", "JobsWindow"),
    "workflows": ("jobs", "WorkflowsWindow"),
    "uptime": ("uptime", "UptimeWindow"),
    "checklist": ("checklist", "ChecklistWindow"),
    "cloud_gpu": ("costs", "CostsWindow"),
    "activity": ("activity", "ActivityWindow"),
    "pulse": ("pulse", "PulseWindow"),
    "systems": ("systems", "SystemsWindow"),
}
#: names that open another window
ALIASES: dict[str, str] = {"health": "services"}


class WindowOpener(QObject):
    """Opens (or raises) one window per name; a window's module loads on its first open.

    Attributes:
        windows: the open windows by name.
        open_ms: how long the last open took, in milliseconds (tests hold it under 200).
    """

    def __init__(self, parent: QObject | None = None, *, context: WindowContext) -> None:
        super().__init__(parent)
        self._ctx = context
        self.windows: dict[str, QWidget] = {}
        self.open_ms = 0.0

    def on_open_requested(self, name: str) -> None:
        self.open(name)

    def open(self, name: str) -> QWidget | None:
        name = ALIASES.get(name, name)
        started = time.perf_counter()
        window = self.windows.get(name)
        if window is None:
            window = self._create(name)
            if window is None:
                log.warning("no window named %r", name)
                return None
            window.destroyed.connect(lambda *_a, n=name, w=window: self._forget(n, w))
            self.windows[name] = window
        window.show()
        window.raise_()
        window.activateWindow()
        self.open_ms = (time.perf_counter() - started) * 1000
        log.debug("opened %s in %.0f ms", name, self.open_ms)
        return window

    def _forget(self, name: str, window: QWidget) -> None:
        if self.windows.get(name) is window:  # not a newer window under the same name
            del self.windows[name]

    def _create(self, name: str) -> QWidget | None:
        spec = WINDOWS.get(name.partition(":")[0])
        if spec is None:
            return None
        # imported on first use: the strip starts without any window code loaded
        module = importlib.import_module(f"{__name__}.{spec[0]}")
        window: QWidget = getattr(module, spec[1])(self._ctx, name)
        window.open_requested.connect(self.on_open_requested)  # type: ignore[attr-defined]
        return window

    def set_theme(self, theme: Theme) -> None:
        """New windows take ``theme``; open ones are built again in it, where they were (a
        window's colours are set as it is built, so a rebuild is the one honest repaint)."""
        self._ctx.theme = theme
        for name, window in list(self.windows.items()):
            window.close()
            self.windows.pop(name, None)
            self.open(name)

    def close_all(self) -> None:
        for window in list(self.windows.values()):
            window.close()
        self.windows.clear()
