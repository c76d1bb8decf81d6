"""The app as ``studio-status`` runs it, plus two marks the paint probe cannot give.

``python -m bench.appchild ARGS`` is ``studio_status.cli.main(ARGS)`` with:

- ``{"mark": "loop", "t"}`` written to ``$BENCH_MARKS`` when the qasync loop starts (the
  first ``run_until_complete``), so "first paint after the loop started" can be measured;
- ``BENCH_NONE_GUARD`` (default on, Python < 3.12): see :func:`_guard_none`;
- with ``BENCH_LAG=1``, a loop-lag monitor: a 5 ms ``call_later`` chain on the app's own
  loop writing ``{"mark": "lag", "t", "gap"}`` whenever a tick comes more than 10 ms late
  (``gap`` is the time since the previous tick; a stall is ``gap`` minus 5 ms);
- with ``BENCH_GC=1``, every garbage collection over 5 ms as a ``{"mark": "gc"}`` line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

TICK = 0.005
REPORT_LATE = 0.010


def _writer() -> Any:
    path = os.environ.get("BENCH_MARKS")
    if not path:
        return None
    out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    def write(data: dict[str, Any]) -> None:
        out.write(json.dumps(data) + "\n")
        out.flush()

    return write


def _lag_monitor(loop: asyncio.AbstractEventLoop, write: Any) -> None:
    last = time.monotonic()

    def tick() -> None:
        nonlocal last
        now = time.monotonic()
        if now - last > TICK + REPORT_LATE:
            write({"mark": "lag", "t": now, "gap": now - last})
        last = now
        loop.call_later(TICK, tick)

    loop.call_later(TICK, tick)


def _gc_monitor(write: Any) -> None:
    """With ``BENCH_GC=1``: every garbage collection over 5 ms as ``{"mark": "gc", "t",
    "generation", "ms"}`` (a collection stalls the UI loop like any other work)."""
    import gc

    started = [0.0]

    def watch(phase: str, info: dict[str, Any]) -> None:
        now = time.monotonic()
        if phase == "start":
            started[0] = now
        elif now - started[0] > 0.005:
            write({"mark": "gc", "t": now, "generation": info["generation"],
                   "ms": (now - started[0]) * 1000})  # fmt: skip

    gc.callbacks.append(watch)


def _guard_none() -> bool:
    """PySide6 6.12 drops a reference to None on every void call (QPainter.save, setPen…);
    before Python 3.12 (immortal None) the app aborts with ``none_dealloc`` after a few
    thousand repaints. With ``BENCH_NONE_GUARD=1`` (the bench's default) add 2**40
    references so the benchmarks can run; the leak itself is reported by app-latency."""
    if sys.version_info >= (3, 12) or os.environ.get("BENCH_NONE_GUARD", "1") != "1":
        return False
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True


def main() -> int:
    write = _writer()
    guarded = _guard_none()
    if write is not None and os.environ.get("BENCH_GC"):
        _gc_monitor(write)
    if write is not None:
        import qasync

        original = qasync.QEventLoop.run_until_complete
        started = False

        def run_until_complete(self: Any, future: Any) -> Any:
            nonlocal started
            if not started:
                started = True
                write({"mark": "loop", "t": time.monotonic(), "none_guard": guarded})
                if os.environ.get("BENCH_LAG"):
                    self.call_soon(_lag_monitor, self, write)
            return original(self, future)

        qasync.QEventLoop.run_until_complete = run_until_complete

    from studio_status.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
