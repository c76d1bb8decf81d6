"""Writes checks and events to the store off the probe path.

Checkers and the bus hand records to :meth:`StoreWriter.add_check` / :meth:`add_event`,
which never block. One task drains them in order, a batch per transaction. When storage
fails (locked, read-only, disk full) the hub keeps serving from memory: the writer logs
once per episode, reports ``failing``, keeps the backlog (bounded: the oldest raw checks go
first, never events) and retries with backoff until storage returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from studio_status.backoff import EQUAL, Backoff
from studio_status.protocol import Event, JobInfo, WorkflowInfo

from .store.sqlite import CheckWrite, SqlStore, StoreError

__all__ = ["StoreWriter"]

log = logging.getLogger("hub.store")


class StoreWriter:
    def __init__(
        self,
        store: SqlStore,
        *,
        max_batch: int = 500,
        max_pending_checks: int = 100_000,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._pending: deque[CheckWrite | Event | JobInfo | WorkflowInfo] = deque()
        self._pending_checks = 0
        self._max_batch = max_batch
        self._max_pending_checks = max_pending_checks
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._sleep = sleep
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.failing = False
        self.dropped_checks = 0
        self.errors = 0  # failed batch writes since start, for the metrics
        self.last_error: str | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add_check(self, check: CheckWrite) -> None:
        if self._pending_checks >= self._max_pending_checks:
            self._drop_oldest_check()
        self._pending.append(check)
        self._pending_checks += 1
        self._wake()

    def add_event(self, event: Event) -> None:
        self._pending.append(event)
        self._wake()

    def add_state(self, item: JobInfo | WorkflowInfo) -> None:
        """The latest state of a job or workflow; written in order with its events."""
        self._pending.append(item)
        self._wake()

    def _wake(self) -> None:
        self._idle.clear()
        self._ready.set()

    def _drop_oldest_check(self) -> None:
        for i, item in enumerate(self._pending):
            if isinstance(item, CheckWrite):
                del self._pending[i]
                self._pending_checks -= 1
                self.dropped_checks += 1
                return

    def note_failure(self, exc: StoreError) -> None:
        """Storage failed, here or for a request that wrote directly (answered 503): one
        log line per episode, which the next batch that commits ends."""
        self.last_error = str(exc)
        if not self.failing:
            log.error("storage failing, serving from memory and retrying: %s", exc)
            self.failing = True

    async def flush(self) -> None:
        """Wait until everything handed in so far is committed (tests, shutdown)."""
        await self._idle.wait()

    async def run(self) -> None:
        backoff = Backoff(self._retry_initial, self._retry_max, spread=EQUAL)
        while True:
            if not self._pending:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            size = min(self._max_batch, len(self._pending))
            # a check's events follow it in the queue: keep them in its transaction, or a
            # crash between two batches leaves a window opened without its transition event
            while size < len(self._pending) and isinstance(self._pending[size], Event):
                size += 1
            batch = [self._pending[i] for i in range(size)]
            checks = [b for b in batch if isinstance(b, CheckWrite)]
            events = [b for b in batch if isinstance(b, Event)]
            jobs = [b for b in batch if isinstance(b, JobInfo)]
            workflows = [b for b in batch if isinstance(b, WorkflowInfo)]
            try:
                await self._store.write_batch(checks, events, jobs, workflows)
            except StoreError as exc:
                self.errors += 1
                self.note_failure(exc)
                await self._sleep(backoff.next())
                continue
            for _ in batch:
                self._pending.popleft()
            self._pending_checks -= len(checks)
            if self.failing:
                log.warning("storage recovered; %d records written", len(batch))
                self.failing = False
                self.last_error = None
            backoff.reset()
