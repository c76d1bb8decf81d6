"""Qt test setup: offscreen platform, strict Qt logs, a qasync loop per test, model factories.

``QT_QPA_PLATFORM`` is set before anything imports Qt. Every test here fails on a Qt
warning (``qt_log_level_fail = WARNING``, added as a marker) and on a WARNING log line from
our own loggers unless marked ``expect_warnings``. Async paths run on a fresh
:class:`qasync.QEventLoop` over the session ``qapp`` (STYLE.md pitfall 9); inside
``run_until_complete`` never use ``qtbot.wait*``: await futures instead.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from bench.procs import xvfb

from studio_status.client.state import StatusStore

#: Messages the offscreen platform prints for calls it cannot honour; harmless there.
OFFSCREEN_NOISE = (
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    r"This plugin does not support setting window opacity",
)
OUR_LOGGERS = ("ui", "app", "client")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "expect_warnings: the test expects WARNING log lines from our loggers"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def _no_unexpected_warnings(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    if request.node.get_closest_marker("expect_warnings"):
        return
    bad = [
        r
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING and r.name.split(".")[0] in OUR_LOGGERS
    ]
    if bad:
        pytest.fail("unexpected warnings: " + "; ".join(f"{r.name}: {r.getMessage()}" for r in bad))


@pytest.fixture
def qloop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    """A fresh qasync loop on the session QApplication; loop errors fail the test."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    try:
        yield loop
    finally:
        try:
            loop.close()
        finally:
            asyncio.set_event_loop(None)
    if errors:
        pytest.fail(f"errors on the loop: {errors}")


@pytest.fixture
def store() -> StatusStore:
    return StatusStore()


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb on a free display number (the benchmarks' own helper)."""
    with xvfb("1280x800x24") as name:
        if name is None:
            pytest.fail("Xvfb did not report a display")
        yield name
