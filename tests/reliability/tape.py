"""A :class:`StatusStore` that keeps a tape of everything the stream fed it, in order.

The tape is taken *before* the store's own duplicate filter, so it shows what the hub
actually sent: a test can tell "the hub sent seq 41 twice" from "the store dropped it".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio_status.client import StatusState, StatusStore
from studio_status.protocol import Event, SnapshotMessage


@dataclass(frozen=True)
class Entry:
    kind: str  # "snapshot" or "event"
    hub_id: str | None
    seq: int
    type: str = ""
    data: Any = None


class TapeStore(StatusStore):
    def __init__(self) -> None:
        super().__init__()
        self.tape: list[Entry] = []

    def apply_snapshot(self, msg: SnapshotMessage) -> None:
        self.tape.append(Entry("snapshot", msg.hub_id, msg.seq))
        super().apply_snapshot(msg)

    def apply_event(self, event: Event) -> bool:
        self.tape.append(Entry("event", self.state.hub_id, event.seq, event.type, event.data))
        return super().apply_event(event)

    def events(self, hub_id: str | None = None, type_: str | None = None) -> list[Entry]:
        return [
            e
            for e in self.tape
            if e.kind == "event"
            and (hub_id is None or e.hub_id == hub_id)
            and (type_ is None or e.type == type_)
        ]

    def problems(self) -> list[str]:
        """Seqs that went backwards or repeated within one hub id (a snapshot may restart
        the count only when the hub id changed)."""
        out: list[str] = []
        position: dict[str | None, int] = {}
        for i, entry in enumerate(self.tape):
            last = position.get(entry.hub_id)
            if entry.kind == "event" and last is not None and entry.seq <= last:
                out.append(f"#{i}: event seq {entry.seq} after {last} (hub {entry.hub_id})")
            if entry.kind == "snapshot" and last is not None and entry.seq < last:
                out.append(f"#{i}: snapshot seq {entry.seq} after {last} (hub {entry.hub_id})")
            position[entry.hub_id] = max(entry.seq, last or 0)
        return out


async def wait_state(
    store: StatusStore, predicate: Callable[[StatusState], bool], limit: float = 20.0
) -> StatusState:
    """Wait (on the store's own change notifications) until ``predicate`` holds."""
    if predicate(store.state):
        return store.state
    done: asyncio.Future[StatusState] = asyncio.get_running_loop().create_future()

    def listener(state: StatusState) -> None:
        if not done.done() and predicate(state):
            done.set_result(state)

    unsubscribe = store.subscribe(listener)
    try:
        return await asyncio.wait_for(done, limit)
    finally:
        unsubscribe()
