"""Uptime timeline over a real hub: a row per service, periods, outage details on click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio_status.protocol import Role
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows.uptime import UptimeWindow

from .live import live_studio, until


def test_uptime_rows_periods_and_outage_click(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            await live.outage("database")
            opener = live.opener()
            win = opener.open("uptime")
            assert isinstance(win, UptimeWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            data = win.chart.data
            assert data is not None
            assert [b.label for b in data.bands] == ["ComfyUI", "DB", "Workers"]
            assert all(b.note.startswith("7 d ") and "30 d" in b.note for b in data.bands)
            db = data.bands[1]
            assert "down" in [s.color for s in db.spans]
            rows = [
                [win.table.topLevelItem(i).text(c) for c in range(2)]  # type: ignore[union-attr]
                for i in range(win.table.topLevelItemCount())
            ]
            assert [r[0] for r in rows] == ["ComfyUI", "DB", "Workers"]  # labels, not ids
            assert rows[0][1] == "100.00 %"

            # keyboard: focus the chart, walk to the outage block, Enter shows it
            win.chart.setFocus()
            QTest.keyClick(win.chart, Qt.Key.Key_Down)
            down_at = [s.color for s in db.spans].index("down")
            for _ in range(down_at + 1):
                QTest.keyClick(win.chart, Qt.Key.Key_Right)
            QTest.keyClick(win.chart, Qt.Key.Key_Left)
            QTest.keyClick(win.chart, Qt.Key.Key_Return)
            assert "<b>DB</b> — down" in win.outage.text()
            assert "degraded time counts as" in win.subtitle.text()
            assert [b.text() for b in win.period_buttons.values()] == ["24 h", "7 d", "30 d"]
            assert "From " in win.outage.text()

            # another period is another resource, watched while shown
            win.period_buttons["7d"].click()
            assert "uptime:7d" in live.details.watched
            assert "uptime:24h" not in live.details.watched
            await until(lambda: win.subtitle.text().startswith("7 d · 3 services"))
            win.close()
            assert not live.details.watched

    qloop.run_until_complete(scenario())


def test_uptime_is_for_admins(qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, role=Role.CREATOR) as live:
            win = live.opener().open("uptime")
            await until(lambda: win.pane.state is PaneState.EMPTY)  # type: ignore[attr-defined]
            win.close()

    qloop.run_until_complete(scenario())
