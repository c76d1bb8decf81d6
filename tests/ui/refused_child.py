"""Child process for ``test_link_xvfb.py``: the real strip, the real client and a real hub
on loopback, with a token the hub refuses; saves the strip as the README shows it.

Prints one JSON line ``{"event": "shot", "text": ..., "tooltip": ...}`` after the screenshot.
Run as ``python -m tests.ui.refused_child ARTIFACTS_DIR WORK_DIR``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from studio_status.client import StatusClient, StatusStore
from studio_status.client.state import Source
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT
from tests.hubrunner import http_service, run_hub
from tests.reliability.tape import wait_state


async def main(artifacts: Path, work: Path) -> None:
    async with run_hub(work, [http_service("api", "http://127.0.0.1:9/")]) as running:
        store = StatusStore()
        store.set_source(Source("Studio", running.url))
        feed = StateFeed(store)
        strip = StatusStrip(feed, SettingsStore(work / "app.toml"), theme=LIGHT)
        repainted = asyncio.Event()  # the strip's slot runs first: it has repainted by then
        feed.changed.connect(lambda _state: repainted.set())
        strip.show()
        client = StatusClient(running.url, store, token="ss_0000_not-a-real-token")
        client.start()
        try:
            await wait_state(store, lambda s: s.problem is not None)
            expected = "Token refused — check the token for profile “Studio” in Settings"
            async with asyncio.timeout(10):  # the feed repaints at most every 250 ms
                while strip.connection.text() != expected:
                    repainted.clear()
                    await repainted.wait()
            strip.grab().save(str(artifacts / "strip-token-refused.png"))
            print(
                json.dumps(
                    {
                        "event": "shot",
                        "text": strip.connection.text(),
                        "tooltip": strip.connection.toolTip(),
                    }
                ),
                flush=True,
            )
        finally:
            await client.aclose()
            strip.close()


if __name__ == "__main__":
    artifacts, work = Path(sys.argv[1]), Path(sys.argv[2])
    artifacts.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main(artifacts, work))
