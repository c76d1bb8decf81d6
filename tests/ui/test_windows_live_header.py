"""The service window's header follows the store like the grid does (one rule for both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import qasync

from studio_status.client.state import StatusStore
from studio_status.protocol import HealthStatus, Role
from studio_status.ui.feed import StateFeed
from studio_status.ui.theme import LIGHT
from studio_status.ui.windows import WindowContext, WindowOpener
from studio_status.ui.windows.geometry import GeometryStore
from studio_status.ui.windows.health import HealthWindow
from studio_status.ui.windows.service import ServiceWindow

from .factories import footer, footer_event, health_event, services, snapshot
from .live import live_studio, until


def test_service_header_follows_recheck_and_status_changes(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            opener = live.opener()
            grid = opener.open("services")
            window = opener.open("service:database")
            assert isinstance(grid, HealthWindow) and isinstance(window, ServiceWindow)
            await until(lambda: "database" in grid.cards and window._pill.text.endswith("healthy"))
            assert window.heading.text() == "DB"  # its label, never the id

            def same_as_grid() -> bool:
                card = grid.cards["database"]
                return window.summary.text() == " · ".join(
                    [
                        *card.lines,
                        f"checked by the {live.store.state.services['database'].kind} checker",
                    ]
                )

            # the header says what the grid says (check time, latency, time in state)
            await until(same_as_grid)
            # a status change: the pill and the summary say it, as the grid does
            live.plant.set("database", "down")
            await live.hub.hub.recheck("database")
            await until(lambda: grid.cards["database"].status is HealthStatus.DOWN)
            await until(lambda: window._pill.text.endswith("down"))
            await until(same_as_grid)
            opener.close_all()

    qloop.run_until_complete(scenario())


def test_header_takes_the_check_time_the_footer_brings(
    qtbot: Any, store: StatusStore, tmp_path: Path
) -> None:
    """The hub sends each check's time and latency with the footer, not as an event: the
    header must take them as the grid does, or it says "checked 5 min ago" beside a fresh card."""
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    store.apply_snapshot(snapshot(Role.ADMIN, data=footer(svc=services(at=t0))))
    store.apply_event(health_event(2, "database", HealthStatus.HEALTHY, None, at=t0))
    feed = StateFeed(store)
    ctx = WindowContext(feed, geometry=GeometryStore(tmp_path / "w.json"), theme=LIGHT)
    opener = WindowOpener(context=ctx)
    grid = opener.open("services")
    window = opener.open("service:database")
    assert isinstance(grid, HealthWindow) and isinstance(window, ServiceWindow)
    assert "5 min ago" in window.summary.text()
    fresh = services(at=datetime.now(UTC))
    fresh["database"] = fresh["database"].model_copy(update={"latency_ms": 41})
    store.apply_event(footer_event(3, footer(svc=fresh)))
    qtbot.waitUntil(lambda: "41 ms" in " ".join(grid.cards["database"].lines))
    qtbot.waitUntil(lambda: "41 ms" in window.summary.text())
    assert "just now" in window.summary.text()
    opener.close_all()
