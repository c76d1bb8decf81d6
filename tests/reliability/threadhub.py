"""A real hub on loopback in a thread of its own, for synchronous callers (schemathesis)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from studio_status.hub.config import ServiceConfig
from studio_status.protocol import Role
from tests.hubrunner import RunningHub, run_hub


@contextlib.contextmanager
def hub_in_thread(
    tmp_path: Path, services: Sequence[ServiceConfig], **settings: Any
) -> Iterator[tuple[RunningHub, dict[str, str], asyncio.AbstractEventLoop]]:
    """Yields the running hub, a token per role (plus a revoked one), and its loop."""
    ready: Future[tuple[RunningHub, dict[str, str], asyncio.AbstractEventLoop]] = Future()
    done = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        try:
            async with run_hub(tmp_path, services, **settings) as running:
                tokens = {role.value: await running.token(role) for role in Role}
                revoked = await running.token(Role.ADMIN)
                await running.hub.store.revoke_token(revoked.split("_")[1])
                tokens["revoked"] = revoked
                ready.set_result((running, tokens, asyncio.get_running_loop()))
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=lambda: (asyncio.run(main()), done.set()), daemon=True)
    thread.start()
    running, tokens, loop = ready.result(timeout=30)
    try:
        yield running, tokens, loop
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
