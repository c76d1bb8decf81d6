"""Child process for ``test_hotplug.py``: the real strip while monitors come and go.

The strip is told to live on the monitor ``SCREEN`` (which need not exist yet). Every time
its placement changes — screen, geometry, struts — a JSON line ``docked`` is printed; the
test adds and removes RandR monitors with ``xrandr`` and waits for the lines it expects.
It exits when its stdin closes. Run as ``python -m tests.ui.hotplug_child SETTINGS SCREEN``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

from studio_status.client.state import StatusStore
from studio_status.protocol import Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT

from .factories import snapshot

POLL_MS = 50


def main() -> int:
    settings, name = Path(sys.argv[1]), sys.argv[2]
    app = QApplication([sys.argv[0]])
    store = StatusStore()
    store.apply_snapshot(snapshot(Role.ADMIN))
    strip = StatusStrip(StateFeed(store), SettingsStore(settings), theme=LIGHT)
    strip.set_screen(name)
    strip.show()
    last: dict[str, object] = {}

    def report() -> None:
        screen = strip.current_screen()
        g = strip.geometry()
        now: dict[str, object] = {
            "event": "docked",
            "screen": screen.name() if screen is not None else None,
            "dpr": screen.devicePixelRatio() if screen is not None else None,
            "geometry": [g.x(), g.y(), g.width(), g.height()],
            "struts": strip.strut_values(),
            "wanted": strip.settings.screen,
            "visible": strip.isVisible(),
        }
        if now != last:
            last.clear()
            last.update(now)
            print(json.dumps(now), flush=True)

    poll = QTimer()
    poll.setInterval(POLL_MS)
    poll.timeout.connect(report)
    poll.start()
    stdin = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)

    def on_stdin() -> None:
        if not sys.stdin.readline():  # the test is done with us
            stdin.setEnabled(False)
            strip.close()
            app.quit()

    stdin.activated.connect(on_stdin)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
