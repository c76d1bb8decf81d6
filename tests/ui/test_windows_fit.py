"""Every detail window fits its screen's free area: default sizes, remembered geometry, scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio_status.client.state import StatusStore
from studio_status.protocol import Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import LIGHT
from studio_status.ui.windows import WINDOWS, WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore
from studio_status.ui.windows.health import HealthWindow
from studio_status.ui.workarea import fit_rect

from .factories import snapshot


def test_fit_rect_shrinks_and_moves_into_the_area() -> None:
    area = QRect(0, 0, 960, 510)
    assert fit_rect(QRect(100, 50, 900, 620), area) == QRect(60, 0, 900, 510)
    assert fit_rect(QRect(-300, 900, 400, 300), area) == QRect(0, 210, 400, 300)
    # decorations count: the frame must fit as well
    assert fit_rect(QRect(0, 0, 2000, 2000), area, QSize(10, 30)) == QRect(0, 0, 950, 480)
    assert fit_rect(QRect(5, 5, 100, 100), area) == QRect(5, 5, 100, 100)


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_every_window_opens_inside_the_screen(
    qtbot: Any, store: StatusStore, tmp_path: Path, name: str
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    ctx = WindowContext(StateFeed(store), geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    opener = WindowOpener(context=ctx)
    key = "service:comfyui" if name == "service" else name
    window = opener.open(key)
    assert window is not None
    area = QGuiApplication.primaryScreen().availableGeometry()  # offscreen: 800×600
    assert area.contains(window.geometry()), (name, window.geometry(), area)
    opener.close_all()


def test_remembered_geometry_that_no_longer_fits_is_clamped(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN))
    geometry = GeometryStore(tmp_path / "w.json")
    ctx = WindowContext(StateFeed(store), geometry=geometry, theme=LIGHT)
    opener = WindowOpener(context=ctx)
    window = opener.open("uptime")
    assert window is not None
    window.setMinimumSize(0, 0)
    window.setGeometry(QRect(-500, 400, 1900, 1200))  # as saved on a bigger screen
    geometry.save("uptime", window.saveGeometry())
    opener.close_all()
    window = opener.open("uptime")
    assert window is not None
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert area.contains(window.geometry()), window.geometry()
    assert window.width() >= area.width() - 10  # all of it but the frame
    opener.close_all()


def test_a_window_at_its_default_size_shrinks_to_few_cards(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    """Three service cards do not sit above a half-empty panel; a size the user chose
    (remembered) is kept."""
    store.apply_snapshot(snapshot(Role.ADMIN))
    geometry = GeometryStore(tmp_path / "w.json")
    opener = WindowOpener(context=WindowContext(StateFeed(store), geometry=geometry, theme=LIGHT))
    grid = opener.open("services")
    assert isinstance(grid, HealthWindow) and len(grid.cards) == 3
    qtbot.waitUntil(lambda: grid._trimmed)
    scroll = grid.trim
    assert scroll is not None
    inner = scroll.widget()
    assert inner is not None
    QApplication.processEvents()
    empty = scroll.viewport().height() - inner.minimumSizeHint().height()
    assert 0 <= empty <= 40, empty
    assert grid.height() < HealthWindow.default_size[1]
    # the user makes it taller: that size is kept next time
    grid.resize(grid.width(), 460)
    opener.close_all()
    again = opener.open("services")
    assert again is not None
    QApplication.processEvents()
    assert again.height() == 460
    opener.close_all()
