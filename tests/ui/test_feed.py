"""Coalesced repaints: a 10 000-event burst means a bounded number of repaints."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import qasync

from studio_status.client.state import Segment, StatusStore
from studio_status.protocol import Role
from studio_status.ui.feed import REPAINT_INTERVAL, StateFeed
from studio_status.ui.settings_store import SettingsStore
from studio_status.ui.strip import StatusStrip
from studio_status.ui.theme import LIGHT

from .factories import footer, footer_event, snapshot

EVENTS = 10_000
CHUNK = 200


def test_burst_is_coalesced(
    qloop: qasync.QEventLoop, qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    store.apply_snapshot(snapshot(Role.ADMIN, seq=0))
    feed = StateFeed(store)
    strip = StatusStrip(feed, SettingsStore(tmp_path / "app.toml"), theme=LIGHT)
    qtbot.addWidget(strip)
    strip.show()
    jobs = strip.segments[Segment.JOBS]
    events = [
        footer_event(seq, footer(running=seq % 7 + 1, queued=seq % 11, progress=seq % 101))
        for seq in range(1, EVENTS + 1)
    ]
    last = footer(running=9, queued=9, progress=99)
    events[-1] = footer_event(EVENTS, last)

    async def burst() -> float:
        emitted0, paints0 = feed.emitted, jobs.paints
        start = time.monotonic()
        for i in range(0, EVENTS, CHUNK):
            for event in events[i : i + CHUNK]:
                store.apply_event(event)
            await asyncio.sleep(0)  # let the loop (and Qt) breathe between frames
        elapsed = time.monotonic() - start
        await asyncio.sleep(3 * REPAINT_INTERVAL)  # the trailing flush
        await asyncio.sleep(0.05)  # and the paint it schedules
        assert store.state.last_seq == EVENTS
        emitted = feed.emitted - emitted0
        bound = elapsed / REPAINT_INTERVAL + 3
        assert 1 <= emitted <= bound, (emitted, elapsed)
        assert emitted < EVENTS / 20
        assert jobs.paints - paints0 <= emitted + 5
        return elapsed

    qloop.run_until_complete(burst())
    assert jobs.text() == "⚡ 9 running · 9 queued · 99%"
    feed.close()


def test_feed_emits_at_once_outside_a_loop(store: StatusStore, qapp: Any) -> None:
    feed = StateFeed(store)
    seen: list[object] = []
    feed.changed.connect(seen.append)
    store.apply_snapshot(snapshot(Role.ADMIN))
    assert seen == [store.state]
    feed.close()
    store.apply_snapshot(snapshot(Role.ADMIN, seq=2))
    assert len(seen) == 1
