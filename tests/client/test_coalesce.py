"""The repaint coalescer: a burst of pokes becomes a handful of flushes."""

from __future__ import annotations

import asyncio

from studio_status.client import Coalescer


async def test_ten_thousand_pokes_give_few_flushes() -> None:
    done = asyncio.Event()
    calls = 0

    def flush() -> None:
        nonlocal calls
        calls += 1
        done.set()

    coalescer = Coalescer(flush, interval=0.05)
    for i in range(10_000):
        coalescer.poke()
        if i % 100 == 0:
            await asyncio.sleep(0)  # events arrive over many loop turns, not in one
    await asyncio.wait_for(done.wait(), 5)
    assert 1 <= calls <= 3
    assert coalescer.flushes == calls


async def test_a_poke_after_a_flush_flushes_again() -> None:
    flushed = asyncio.Queue[None]()
    coalescer = Coalescer(lambda: flushed.put_nowait(None), interval=0.0)
    coalescer.poke()
    await asyncio.wait_for(flushed.get(), 5)
    coalescer.poke()
    await asyncio.wait_for(flushed.get(), 5)
    assert coalescer.flushes == 2


async def test_cancel_drops_the_pending_flush() -> None:
    calls: list[None] = []
    coalescer = Coalescer(lambda: calls.append(None), interval=0.0)
    coalescer.poke()
    coalescer.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    assert calls == []
