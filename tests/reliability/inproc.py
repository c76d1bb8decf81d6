"""A real hub in this test's event loop on a port the test chooses, so it can be stopped
and started again where its clients expect it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from studio_status.hub.config import ServiceConfig
from tests.hubrunner import RunningHub, run_hub


@contextlib.asynccontextmanager
async def hub_on_port(
    database: Path, services: Sequence[ServiceConfig], port: int, **settings: Any
) -> AsyncIterator[RunningHub]:
    async with run_hub(
        database.parent, services, port=port, database=database, **settings
    ) as running:
        yield running
