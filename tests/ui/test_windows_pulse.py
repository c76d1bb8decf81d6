"""Startup checklist, activity feed and studio pulse over a real hub fed by the script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from studio_status.protocol import Role, Topic
from studio_status.protocol.checklist import StartupCheckState
from studio_status.protocol.dashboard import DiskVolume
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows.activity import ActivityWindow
from studio_status.ui.windows.checklist import ChecklistWindow
from studio_status.ui.windows.pulse import PulseWindow, disk_lines

from .live import live_studio, until


def test_checklist_rows_and_ready_flag(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            win = live.opener().open("checklist")
            assert isinstance(win, ChecklistWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            checks = live.hub.hub.checklist.snapshot().checks
            assert set(win.rows) == {c.name for c in checks}
            passed = [c for c in checks if c.state is StartupCheckState.PASSED]
            assert passed and all(win.rows[c.name].pill.text == "✓ passed" for c in passed)
            assert win.subtitle.text().startswith("Ready")
            assert not win.blocking.isVisible()
            # nothing failed: no override controls
            assert all(r.override_button is None for r in win.rows.values())
            win.close()

    qloop.run_until_complete(scenario())


def test_activity_feed_filters_and_click_through(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, steps=30) as live:
            opener = live.opener()
            win = opener.open("activity")
            assert isinstance(win, ActivityWindow)
            assert live.details.held_topics[Topic.ACTIVITY] == 1
            await until(lambda: win.pane.state is PaneState.CONTENT)
            assert win.list.count() > 0
            first = win.list.item(0)
            assert first is not None
            # newest first
            assert win._items == sorted(win._items, key=lambda i: (i.ts, i.id), reverse=True)
            # the category filter is another resource, watched while chosen
            win.category.setCurrentIndex(win.category.findData("job"))
            await until(lambda: all(i.category == "job" for i in win._items) and win._items)
            assert any("category=job" in k for k in live.details.watched)
            # a click on a job item routes to the jobs window
            item = win.list.item(0)
            assert item is not None and item.data(Qt.ItemDataRole.UserRole) == "jobs"
            win.on_list_item_activated(item)
            assert "jobs" in opener.windows
            opener.close_all()
            assert Topic.ACTIVITY not in live.details.held_topics

    qloop.run_until_complete(scenario())


def test_pulse_projects_and_disk(qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, steps=40, role=Role.ADMIN) as live:
            win = live.opener().open("pulse")
            assert isinstance(win, PulseWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT and win.gauges)
            await until(lambda: win.bars)
            for project, bar in win.bars.items():
                assert bar.color in ("healthy", "degraded", "down")
                assert bar.accessibleName().startswith(f"{project}: ")
            gauge = next(iter(win.gauges.values()))
            assert gauge.color in ("healthy", "degraded", "down", "unknown")
            # the disk says what it holds and which volume the figures are for
            captions = [lab.text() for lab in win.findChildren(QLabel)]
            disk = next(t for t in captions if t.startswith("<b>Hub data</b>"))
            assert "on the volume at /" in disk and "in all" in disk
            win.close()

    qloop.run_until_complete(scenario())


def test_disk_figures_add_up() -> None:
    vol = DiskVolume(
        path="/data/hub",
        label="Hub data",
        mount="/data",
        total_bytes=252 * 2**30,
        used_bytes=int(26.8 * 2**30),
        free_bytes=int(74.6 * 2**30),
        used_percent=26.4,
        level="ok",
    )
    assert disk_lines(vol) == [
        "/data/hub (on the volume at /data)",
        "26.8 GB used · 74.6 GB free · 150.6 GB reserved for the system",
        "of 252.0 GB in all",
    ]


def test_pulse_for_a_creator_says_disk_is_for_admins(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, steps=10, role=Role.CREATOR) as live:
            win = live.opener().open("pulse")
            assert isinstance(win, PulseWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            assert win.disk_note.text() == "Disk health is visible to admins."
            assert not any("disk" in key for key in live.details.watched)  # never asked
            texts = " ".join(lab.text() for lab in win.findChildren(QLabel))
            assert "HTTP" not in texts and "/dashboard" not in texts
            win.close()

    qloop.run_until_complete(scenario())
