"""Health grid and service detail over a store filled from a real hub (the simulated plant)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio_status.client.details import ActionRecord, actions_key
from studio_status.client.state import Segment
from studio_status.hub.config import ServiceConfig
from studio_status.hub.health_settings import HealthSettings, NotifySettings
from studio_status.protocol import HealthStatus, Role, ServiceDetail
from studio_status.ui.theme import LIGHT
from studio_status.ui.widgets import PaneState
from studio_status.ui.windows.health import HealthWindow
from studio_status.ui.windows.service import COMPACT_TABS, ServiceWindow
from tests.hub.checks.servers import LoopbackServer, Request, Response

from .live import live_studio, until


def test_grid_shows_a_card_per_service_and_routes_clicks(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            opener = live.opener()
            grid = opener.open("services")
            assert isinstance(grid, HealthWindow)
            assert opener.open_ms < 200
            await until(lambda: list(grid.cards) == ["comfyui", "database", "workers"])
            card = grid.cards["database"]
            assert card.title == "DB"
            assert card.status is HealthStatus.HEALTHY
            assert card.lines[0].startswith("Healthy for")
            assert "ms" in card.lines[1] and "checked" in card.lines[1]
            assert "Latency" in card.toolTip() and "Last check" in card.toolTip()
            assert card.accessibleName() == "DB: healthy"
            assert grid.subtitle.text() == "3 services · all healthy"
            # the card paints in the healthy colour (its left accent)
            image = card.grab().toImage()
            assert image.pixelColor(4, card.height() // 2).name() == LIGHT.healthy

            # a status change on the hub reaches the card through the stream, no timer
            live.plant.set("database", "down")
            await live.hub.hub.recheck("database")
            await until(lambda: grid.cards["database"].status is HealthStatus.DOWN)
            assert "1 down" in grid.subtitle.text()

            # Enter on a focused card (keyboard) routes to the service window
            card.setFocus()
            QTest.keyClick(card, Qt.Key.Key_Return)
            assert "service:database" in opener.windows
            detail = opener.windows["service:database"]
            assert isinstance(detail, ServiceWindow)
            # a mouse click on another card opens that one
            QTest.mouseClick(grid.cards["comfyui"], Qt.MouseButton.LeftButton)
            assert "service:comfyui" in opener.windows
            opener.close_all()

    qloop.run_until_complete(scenario())


def test_service_window_history_chart_and_actions(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    log = tmp_path / "database.log"
    log.write_text("db started\n")

    def configure(svc: ServiceConfig) -> ServiceConfig:
        if svc.name != "database":
            return svc
        return svc.model_copy(
            update={"restart": [sys.executable, "-c", "print('restarted')"], "log_file": log}
        )

    async def scenario() -> None:
        async with live_studio(tmp_path, configure=configure) as live:
            hub = live.hub.hub
            await live.outage("database")
            opener = live.opener()
            win = opener.open("service:database")
            assert isinstance(win, ServiceWindow)
            assert "service:database" in live.details.watched
            await until(lambda: win.pane.state is PaneState.CONTENT)
            entry = live.store.state.details["service:database"]
            assert isinstance(entry.value, ServiceDetail)
            assert len(entry.value.history) >= 3
            band = win.chart.data.bands[0] if win.chart.data else None
            assert band is not None
            assert [s.color for s in band.spans][-2:] == ["down", "healthy"]
            assert win.chart.data is not None and win.chart.data.line is not None
            # a click on the outage block says when it was and why
            win.chart.span_clicked.emit(band.spans[-2].payload)
            assert win.selection.text().startswith("Down from")

            # a new reading reaches the chart without a new request (appended by details);
            # first let a refetch the outage's events scheduled land, or it would replace
            # the history with one read before the recheck
            await until(  # the recovery's event reached the store ...
                lambda: any(
                    n.subject == "database" and n.previous is HealthStatus.DOWN
                    for n in live.store.state.history.get(Segment.SERVICES, ())
                )
            )
            # ... and the refetch it scheduled has landed
            await until(lambda: not live.details._inflight and not live.details._pending)
            before = len(live.store.state.details["service:database"].value.history)  # type: ignore[union-attr]
            requests = live.details.requests
            await hub.recheck("database")
            hub.publish_footer(force=True)  # the hub's periodic footer refresh, now
            await until(
                lambda: (
                    len(live.store.state.details["service:database"].value.history)  # type: ignore[union-attr]
                    > before
                )
            )
            assert live.details.requests == requests

            # admin quick actions are there
            assert set(win.action_buttons) == {
                "recheck",
                "diagnose",
                "restart",
                "test-notification",
            }
            # restart asks first (a dialog opened with open(), not exec())
            win.action_buttons["restart"].click()
            assert win._confirm is not None and win._confirm.isVisible()
            win._confirm.reject()
            assert not any(
                isinstance(r, ActionRecord) and r.action == "restart"
                for r in (live.store.state.details.get(actions_key("database")) or _none()).value
                or ()
            )
            assert win.tabs.isTabEnabled(win._logs_tab)
            win.close()
            await until(lambda: "service:database" not in live.details.watched)

    qloop.run_until_complete(scenario())


def test_actions_the_hub_cannot_perform_are_disabled_with_the_reason(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    """No restart command and no log file configured (the demo's plant): Restart and Logs
    are shown disabled and say why, rather than asking and then failing with a code."""

    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            win = live.opener().open("service:database")
            assert isinstance(win, ServiceWindow)
            await until(lambda: win.can is not None)
            await until(lambda: not win.action_buttons["restart"].isEnabled())
            tip = win.action_buttons["restart"].toolTip()
            assert tip.startswith("The hub has no restart command for DB")
            assert "HTTP" not in tip and "409" not in tip
            assert win.action_buttons["recheck"].isEnabled()
            assert not win.tabs.isTabEnabled(win._logs_tab)
            assert win.tabs.tabToolTip(win._logs_tab).startswith("The hub has no log file for DB")
            win.action_buttons["restart"].click()  # disabled: nothing asks, nothing is sent
            assert win._confirm is None
            assert not any(k.startswith("logs:") for k in live.details.watched)
            win.close()

    qloop.run_until_complete(scenario())


def test_creator_sees_no_health_and_no_actions(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path, role=Role.CREATOR) as live:
            assert live.store.state.role is Role.CREATOR
            opener = live.opener()
            grid = opener.open("services")
            assert isinstance(grid, HealthWindow)
            assert grid.pane.state is PaneState.EMPTY
            assert "admins only" in grid.pane.message
            assert grid.cards == {}
            win = opener.open("service:database")
            assert isinstance(win, ServiceWindow)
            assert win.action_buttons == {}
            assert not win.tabs.isVisible()
            assert "admins only" in win.pane.message
            opener.close_all()

    qloop.run_until_complete(scenario())


def test_grid_says_when_the_hub_is_unreachable(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            opener = live.opener()
            grid = opener.open("services")
            await until(lambda: len(grid.cards) == 3)
            await live.hub.hub.writer.flush()
            # stop the hub: the client goes offline; the grid keeps the last state and says so
            live.hub.stop.set()
            await live.hub.task
            await until(lambda: grid.banner.text.startswith("Hub unreachable"), limit=40)
            assert grid.banner.retry_button.isVisible()
            assert len(grid.cards) == 3
            opener.close_all()

    qloop.run_until_complete(scenario())


class _none:
    value: tuple[object, ...] = ()


def test_diagnose_shows_a_list_of_findings(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            win = live.opener().open("service:database")
            assert isinstance(win, ServiceWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            win.action_buttons["diagnose"].click()
            await until(lambda: "• Result:" in win.diagnose_view.toPlainText())
            text = win.diagnose_view.toPlainText()
            assert text.startswith("Diagnosis at ")
            assert "• Result: healthy" in text and "• Response time: " in text
            assert "{" not in text and '"' not in text  # not JSON
            win.close()

    qloop.run_until_complete(scenario())


def test_findings_read_as_words() -> None:
    from studio_status.ui.windows.texts import diagnose_findings

    found = diagnose_findings(
        {
            "details": {
                "instances": [{"url": "http://a", "online": True, "vram_free_bytes": 2**31}]
            },
            "error_message": None,
            "latency_ms": 12,
            "status": "healthy",
        }
    )
    assert found == [
        "• Result: healthy",
        "• Response time: 12 ms",
        "• Details:",
        "  • Instances:",
        "    • Item 1:",
        "      • Address: http://a",
        "      • Answering: yes",
        "      • Vram free: 2.0 GB",
    ]


def test_service_window_opens_without_a_large_empty_actions_list(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with live_studio(tmp_path) as live:
            win = live.opener().open("service:database")
            assert isinstance(win, ServiceWindow)
            await until(lambda: win.pane.state is PaneState.CONTENT)
            await until(lambda: win.tabs.height() <= COMPACT_TABS + 4)
            assert win.height() < ServiceWindow.default_size[1]
            win.close()

    qloop.run_until_complete(scenario())


def test_test_notification_button_reports_each_channel(
    qloop: qasync.QEventLoop, qtbot: Any, tmp_path: Path
) -> None:
    """The service window's button sends through the hub's Apprise channels (a real JSON
    receiver on loopback) and says, per channel, whether it was accepted."""
    received: list[dict[str, Any]] = []

    async def receive(request: Request) -> Response:
        received.append(json.loads(request.body))
        return Response(200, b"ok")

    async def scenario() -> None:
        receiver = await LoopbackServer(receive).start()
        dead = LoopbackServer()
        await dead.start()
        await dead.close()  # a port with nobody listening any more
        urls = [f"json://127.0.0.1:{receiver.port}/hook", f"json://127.0.0.1:{dead.port}/x"]
        health = HealthSettings(notify=NotifySettings(services={"database": urls}))
        try:
            async with live_studio(tmp_path, health=health) as live:
                win = live.opener().open("service:database")
                assert isinstance(win, ServiceWindow)
                await until(lambda: win.pane.state is PaneState.CONTENT)
                win.action_buttons["test-notification"].click()
                key = actions_key("database")

                def record() -> ActionRecord | None:
                    entry = live.store.state.details.get(key)
                    records = entry.value if entry is not None else ()
                    done = [
                        r
                        for r in records or ()
                        if isinstance(r, ActionRecord) and r.output != "running…"
                    ]
                    return done[0] if done else None

                await until(lambda: record() is not None)
                r = record()
                assert r is not None and not r.ok
                assert r.output == f"sent to json://127.0.0.1:{receiver.port}"
                assert r.error is not None
                assert r.error.startswith(f"not delivered to json://127.0.0.1:{dead.port}: ")
                assert r.error.endswith("(retried later)")
                assert "Test notification for database" in received[0]["message"]
                win.close()
        finally:
            await receiver.close()

    qloop.run_until_complete(scenario())
