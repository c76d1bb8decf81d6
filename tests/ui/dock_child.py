"""Child process for ``test_dock_xvfb.py``: the real strip docked on a real X server.

Prints JSON lines: ``geometry`` (the strip's rectangle and the strut it reserves) whenever
its place changes, after saving a screenshot of the desktop to ``ARTIFACTS/NAME-<n>.png``.
Run as ``python -m tests.ui.dock_child ARTIFACTS SETTINGS EDGE NAME``; it runs until killed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio_status.client.state import StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import Edge, SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT

from .factories import footer, services, snapshot


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def main() -> int:
    artifacts, settings, edge, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    artifacts.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    store = StatusStore()
    data = footer(svc=services(workers=HealthStatus.DEGRADED), progress=None)
    store.apply_snapshot(snapshot(Role.ADMIN, data=data))
    strip = StatusStrip(StateFeed(store), SettingsStore(settings), theme=LIGHT, hub_label="xvfb")
    strip.set_edge(Edge(edge))
    strip.show()
    last: list[object] = []
    shots = 0

    def poll() -> None:
        nonlocal shots
        g = strip.geometry()
        now = [[g.x(), g.y(), g.width(), g.height()], strip.strut_values()]
        if now != last:
            last[:] = now
            QTimer.singleShot(300, lambda: report(now))

    def report(seen: list[object]) -> None:
        nonlocal shots
        if seen != last:
            return  # still moving
        shots += 1
        path = artifacts / f"{name}-{shots}.png"
        screen = QGuiApplication.primaryScreen()
        screen.grabWindow(0).save(str(path))
        # the edge the strip shares with the panel, for the README
        g = strip.geometry()
        top = max(0, g.y() - 60) if strip.settings.edge is Edge.BOTTOM else 0
        bottom = (
            screen.geometry().height() if strip.settings.edge is Edge.BOTTOM else g.bottom() + 60
        )
        edge = artifacts / f"{name}-{shots}-edge.png"
        screen.grabWindow(0, 0, top, screen.geometry().width(), bottom - top).save(str(edge))
        say(event="geometry", geometry=seen[0], struts=seen[1], shot=str(path), edge=str(edge))

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(poll)
    QTimer.singleShot(500, timer.start)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
