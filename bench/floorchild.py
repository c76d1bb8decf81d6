"""The floors: a bare PySide6 window, to measure what any PySide6 app pays before its code,
and the same window with the libraries Studio Status is built on.

``python -m bench.floorchild PROBE``: imports QtWidgets, makes a QApplication and one
strip-sized top-level QWidget, shows it, and appends ``{"probe": "paint", "t"}``
(``time.monotonic()``) to PROBE at its first Paint event; then idles in Qt's loop until
SIGTERM. No asyncio, no qasync, no pydantic, nothing of Studio Status.

``python -m bench.floorchild PROBE --libraries``: the same window run by a qasync loop, with
what every running app holds before any of its own code: asyncio, qasync, pydantic with one
model validated, an httpx client, the websockets client, a tray icon (the imports the app
refuses, refused alike).
"""

from __future__ import annotations

import json
import sys
import time


def _libraries() -> object:
    import asyncio

    import httpx
    import pydantic
    import qasync
    import websockets.asyncio.client  # noqa: F401 - held, as the app holds it
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    class One(pydantic.BaseModel):
        seq: int

    One.model_validate({"seq": 1})
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    return (loop, httpx.AsyncClient(), QSystemTrayIcon())


def main() -> int:
    libraries = "--libraries" in sys.argv[2:]
    if libraries:
        import studio_status  # noqa: F401 - refuses httpx's command line, as the app does
        from studio_status.cli import refuse_unused_imports

        refuse_unused_imports()
    from PySide6.QtGui import QPainter, QPaintEvent
    from PySide6.QtWidgets import QApplication, QWidget

    probe = sys.argv[1]
    app = QApplication(sys.argv[:1])
    held = _libraries() if libraries else None

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
    if held is None:
        return app.exec()
    loop = held[0]  # type: ignore[index]
    with loop:
        loop.run_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
