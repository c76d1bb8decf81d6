"""The sources named in the hub config's ``[sources]`` table, built for one hub.

Each source pushes through the hub's own paths (``push_job``, the bus), the same as the
push API and the simulator, so every rule (idempotency, ordering, ETAs) holds for all.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from .comfyui import ComfyUISource
from .pg_notify import PgNotifySource

if TYPE_CHECKING:
    from studio_status.hub.service import Hub

__all__ = ["Source", "build_sources"]


class Source(Protocol):
    name: str

    async def run(self) -> None: ...


def build_sources(hub: Hub) -> list[Source]:
    """One source per configured entry; the hub runs each as a background task."""
    specs = hub.config.sources
    active = list(hub.jobs.jobs.values())
    sources: list[Source] = [
        ComfyUISource(
            spec,
            partial(hub.push_job, source=f"comfyui:{spec.name}"),
            set_positions=partial(hub.set_positions, f"comfyui:{spec.name}"),
            active_jobs=active,
            clock=hub.clock,
            sleep=hub.sleep,
            vouch_seconds=hub.config.jobs.stall_seconds / 3,
        )
        for spec in specs.comfyui
    ]
    sources += [
        PgNotifySource(
            spec,
            partial(hub.push_job, source=f"postgres:{spec.name}"),
            hub.bus.publish,
            report=hub.record,
            active_job_ids=[j.id for j in active],
        )
        for spec in specs.postgres
    ]
    return sources
