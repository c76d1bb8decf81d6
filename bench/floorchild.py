"""The floor: a bare PySide6 window, to measure what any PySide6 app pays before its code.

``python -m bench.floorchild PROBE``: imports QtWidgets, makes a QApplication and one
strip-sized top-level QWidget, shows it, and appends ``{"probe": "paint", "t"}``
(``time.monotonic()``) to PROBE at its first Paint event; then idles in Qt's loop until
SIGTERM. No asyncio, no qasync, no pydantic, nothing of Studio Status.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from PySide6.QtGui import QPainter, QPaintEvent
    from PySide6.QtWidgets import QApplication, QWidget

    probe = sys.argv[1]
    app = QApplication(sys.argv[:1])

    class Bare(QWidget):
        painted = False

        def paintEvent(self, event: QPaintEvent) -> None:
            QPainter(self).fillRect(event.rect(), self.palette().window())
            if not self.painted:
                self.painted = True
                with open(probe, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"probe": "paint", "t": time.monotonic()}) + "\n")

    window = Bare()
    window.resize(1280, 28)
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
