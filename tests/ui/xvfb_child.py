"""Child process for ``test_xvfb.py``: the real strip and tray on a real X server.

Prints JSON lines on stdout: ``ready`` (strip geometry, window id, tray availability, after
saving a screenshot), then ``tray`` once the tray icon is shown (or a timeout), then exits.
Run as ``python -m tests.ui.xvfb_child ARTIFACTS_DIR SETTINGS_PATH``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from studio_status.client.state import StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui import tray as tray_module
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT

from .factories import footer, services, snapshot

TRAY_WAIT_MS = 15_000


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def main() -> int:
    artifacts, settings = Path(sys.argv[1]), Path(sys.argv[2])
    artifacts.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    store = StatusStore()
    data = footer(svc=services(workers=HealthStatus.DEGRADED), progress=None)
    store.apply_snapshot(snapshot(Role.ADMIN, data=data))
    feed = StateFeed(store)
    strip = StatusStrip(feed, SettingsStore(settings), theme=LIGHT, hub_label="xvfb")
    tray_module.AVAILABILITY_CHECK_MS = 300  # notice the tray quickly in this test
    tray = tray_module.TrayIcon(feed, theme=LIGHT)
    strip.show()
    waited = 0

    def shoot(name: str) -> None:
        screen = QGuiApplication.primaryScreen()
        screen.grabWindow(0).save(str(artifacts / f"{name}.png"))

    def ready() -> None:
        shoot("desktop")
        strip.grab().save(str(artifacts / "strip.png"))
        g = strip.geometry()
        screen = QGuiApplication.primaryScreen().geometry()
        say(
            event="ready",
            platform=app.platformName(),
            geometry=[g.x(), g.y(), g.width(), g.height()],
            screen=[screen.x(), screen.y(), screen.width(), screen.height()],
            wid=int(strip.winId()),
            struts=strip.strut_values(),
            tray_available=QSystemTrayIcon.isSystemTrayAvailable(),
            texts=[s.text() for s in strip.segments.values()],
            global_shortcut=strip.global_shortcut is not None and strip.global_shortcut.active,
        )
        if strip.global_shortcut is not None:
            strip.global_shortcut.activated.connect(
                lambda: QTimer.singleShot(
                    0, lambda: say(event="toggled", collapsed=strip.collapsed)
                )
            )
        QTimer.singleShot(100, wait_tray)

    def wait_tray() -> None:
        nonlocal waited
        if tray.tray.isVisible() and tray.tray.geometry().width() > 0:
            QTimer.singleShot(500, lambda: finish(True))
        elif waited >= TRAY_WAIT_MS:
            finish(False)
        else:
            waited += 100
            QTimer.singleShot(100, wait_tray)

    def finish(shown: bool) -> None:
        shoot("desktop-with-tray" if shown else "desktop-no-tray")
        g = tray.tray.geometry()
        say(
            event="tray",
            shown=shown,
            available=QSystemTrayIcon.isSystemTrayAvailable(),
            geometry=[g.x(), g.y(), g.width(), g.height()],
        )
        tray.close()
        strip.close()
        app.quit()

    QTimer.singleShot(800, ready)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
