"""A set of background tasks that an object owns.

Every long-lived object here (the hub, the event client, the detail fetcher) runs a few
background tasks. Each needs the same three things: a strong reference (asyncio, and
qasync 0.28 even more so, keeps only weak ones, so an unreferenced task can vanish), a log
line when one dies of an exception (otherwise it dies silently), and a clean cancel-all on
close that does not cancel the task doing the closing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["TaskSet"]


class TaskSet:
    """Attributes: ``log`` — where deaths are reported; ``prefix`` — prepended to names."""

    def __init__(self, log: logging.Logger, prefix: str = "") -> None:
        self.log = log
        self.prefix = prefix
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=self.prefix + name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def cancel_all(self, limit: float | None = None) -> list[asyncio.Task[Any]]:
        """Cancel every task but the caller's own and wait until they have finished.

        With ``limit`` the wait is bounded: a task that ignores its cancel (a swallowed
        ``CancelledError`` somewhere below it) is logged by name and returned, so a
        shutdown goes on instead of hanging the process on SIGTERM.
        """
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if not tasks:
            return []
        _, stuck = await asyncio.wait(tasks, timeout=limit)
        for task in stuck:
            self.log.error("task %s ignored its cancel for %g s", task.get_name(), limit)
        return sorted(stuck, key=lambda t: t.get_name())
