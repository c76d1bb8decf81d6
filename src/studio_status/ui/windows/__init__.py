"""Detail windows, opened from strip segments and the tray menu, imported on first use.

Until the real detail windows land, :mod:`.placeholder` names what each will show.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

__all__ = ["WindowOpener"]


class WindowOpener(QObject):
    """Opens (or raises) one window per segment; the window module loads on the first click.

    Attributes:
        windows: the open windows by segment name.
    """

    def __init__(self, web_url: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._web_url = web_url
        self.windows: dict[str, QWidget] = {}

    def on_open_requested(self, name: str) -> None:
        self.open(name)

    def open(self, name: str) -> QWidget:
        window = self.windows.get(name)
        if window is None:
            from .placeholder import PlaceholderWindow

            window = PlaceholderWindow(name, self._web_url)
            window.destroyed.connect(lambda *_a, n=name: self.windows.pop(n, None))
            self.windows[name] = window
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def close_all(self) -> None:
        for window in list(self.windows.values()):
            window.close()
        self.windows.clear()
