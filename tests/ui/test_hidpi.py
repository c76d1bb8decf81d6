"""Windows and the strip at 2x scale: drawn at device resolution, not a scaled-up 1x bitmap.

The scale factor must be set before Qt starts, so each scale runs in its own offscreen
process that renders the health grid and the strip and reports what it drew.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio_status.client.state import StatusStore
from studio_status.protocol import Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore
from tests.ui.factories import snapshot

out = Path(sys.argv[1])
store = StatusStore()
store.apply_snapshot(snapshot(Role.ADMIN))
feed = StateFeed(store)
opener = WindowOpener(context=WindowContext(
    feed, geometry=GeometryStore(out / "w.json"), theme=LIGHT))
opener.on_open_requested("services")
grid = opener.windows["services"]
grid.resize(700, 400)
strip = StatusStrip(feed, SettingsStore(out / "app.toml"), theme=LIGHT)
strip.show()
app.processEvents()
shots = {}
for name, widget in (("grid", grid), ("strip", strip)):
    pixmap = widget.grab()
    pixmap.save(str(out / f"{name}.png"))
    shots[name] = {"dpr": pixmap.devicePixelRatio(), "px": [pixmap.width(), pixmap.height()],
                   "logical": [widget.width(), widget.height()]}
print(json.dumps(shots))
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_windows_render_at_device_resolution(tmp_path: Path, scale: str) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QT_SCALE_FACTOR": scale,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shots = json.loads(done.stdout.strip().splitlines()[-1])
    factor = int(scale)
    for name, shot in shots.items():
        assert shot["dpr"] == factor, name
        # the pixmap has scale x the logical pixels: text and shapes drawn sharp at 2x
        assert shot["px"] == [shot["logical"][0] * factor, shot["logical"][1] * factor], name
    assert 28 <= shots["strip"]["logical"][1] <= 32  # the strip's height is in logical px
