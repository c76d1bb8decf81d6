"""TaskSet: cancel-all that waits, and that does not hang on a task ignoring its cancel."""

from __future__ import annotations

import asyncio
import logging

import pytest

from studio_status.tasks import TaskSet


async def _obedient() -> None:
    await asyncio.Event().wait()


async def _stubborn(release: asyncio.Event) -> None:
    """Swallows every cancel until released, as a buggy library below a task might."""
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_cancel_all_waits_for_every_task_to_end() -> None:
    tasks = TaskSet(logging.getLogger("test"))
    spawned = [tasks.spawn(_obedient(), f"t{i}") for i in range(3)]
    assert await tasks.cancel_all() == []
    assert all(t.cancelled() for t in spawned)
    assert len(tasks) == 0


async def test_a_task_ignoring_its_cancel_is_named_and_left_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(logging.getLogger("test"), prefix="hub:")
    release = asyncio.Event()
    ok = tasks.spawn(_obedient(), "fine")
    stuck = tasks.spawn(_stubborn(release), "stuck")
    await asyncio.sleep(0)  # both inside their waits: a cancel before the first step always wins
    with caplog.at_level(logging.ERROR, "test"):
        left = await tasks.cancel_all(limit=0.2)
    assert left == [stuck]
    assert ok.cancelled()
    assert "hub:stuck ignored its cancel" in caplog.text
    release.set()
    await stuck
    assert len(tasks) == 0


async def test_a_task_that_failed_is_logged_once_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(logging.getLogger("test"))

    async def boom() -> None:
        raise RuntimeError("bad")

    with caplog.at_level(logging.ERROR, "test"):
        failed = tasks.spawn(boom(), "boom")
        await asyncio.sleep(0)
        assert failed.done()
        assert await tasks.cancel_all() == []
    assert caplog.text.count("task boom failed") == 1
