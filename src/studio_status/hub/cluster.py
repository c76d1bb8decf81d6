"""Several hub replicas on one PostgreSQL database acting as one hub.

**Events.** The database numbers events at commit (see ``PostgresStore._write_events``) and
notifies every replica; :class:`EventFeed` hands them to the local bus in seq order. A
notification that skips seqs (a reconnect missed some, or a batch too large to carry)
is filled from the events table first, so a socket never sees seq N before every smaller
seq: those are committed (their rows are read) before N is delivered.

**Ownership.** :class:`Ownership` decides which replica runs what: each service's checks
(and with them its alert state machine), and the one *leader* role (rollups, retention,
the footer refresh, cloud polling, systems, job sources, the activity feed). The live
replicas are the sessions open on the database (``Coordinator.members``); the owner of a
name is the member with the highest rendezvous hash of (name, member), so each change of
membership moves only the names it must. A replica runs a name only while it holds that
name's session advisory lock: two replicas that briefly disagree about membership can
never both run it. Locks rather than leases: a replica that dies loses its session when
its socket closes, its locks go with it, and the next round (``period`` seconds, a
fraction of the shortest check interval) on the others takes its names over, with no
lease to wait out and no clock to trust.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from studio_status.protocol import Event

from .bus import EventBus
from .store.cluster_pg import EVENTS_CHANNEL, Coordinator, Listener, decode_events
from .store.postgres import PostgresStore
from .store.sqlite import StoreError

__all__ = ["LEADER", "EventFeed", "Ownership", "rendezvous_owner"]

log = logging.getLogger("hub.cluster")

LEADER = "role:leader"
_RETRY_SECONDS = 1.0
_FILL_PAGE = 1000


def rendezvous_owner(name: str, members: Iterable[str]) -> str | None:
    """The member that owns ``name``: the highest hash of (name, member)."""

    def score(member: str) -> bytes:
        return hashlib.blake2b(f"{name}\x00{member}".encode(), digest_size=8).digest()

    return max(members, key=score, default=None)


Delivered = Callable[[Event, str | None], None]


class EventFeed:
    """Delivers committed events to the local bus, in seq order, with gaps filled from
    storage; tells ``on_event`` of each (with the replica it came from, when known) and
    ``on_settings`` of settings notifications."""

    def __init__(
        self,
        store: PostgresStore,
        *,
        on_event: Delivered,
        on_settings: Callable[[str], None],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        #: the bus to deliver to; set once it exists (the listener opens before it)
        self.bus: EventBus | None = None
        self._on_event = on_event
        self._on_settings = on_settings
        self._sleep = sleep
        self.listener: Listener | None = None
        self.connected = asyncio.Event()

    @property
    def _b(self) -> EventBus:
        if self.bus is None:
            raise RuntimeError("event feed has no bus yet")
        return self.bus

    async def open(self) -> None:
        """Listen before the bus's start seq is read, so nothing committed in between is
        missed (anything at or below the start seq is dropped as already known)."""
        self.listener = Listener(self._store.dsn)
        await self.listener.open()
        self.connected.set()

    async def run(self) -> None:
        fresh = True  # the listener was opened before the bus: commits in between are read
        while True:
            try:
                if self.listener is None:
                    await self.open()
                    fresh = True
                if fresh:
                    await self.catch_up()
                    fresh = False
                assert self.listener is not None
                async for channel, payload in self.listener.notifications():
                    if channel == EVENTS_CHANNEL:
                        events, span, origin = decode_events(payload)
                        if span is not None:
                            await self.catch_up(span[1])
                        else:
                            await self._deliver(events, origin)
                    else:
                        self._on_settings(payload)
            except StoreError as exc:
                log.warning("event feed interrupted, reconnecting: %s", exc)
            except (ValueError, KeyError) as exc:  # a bad notification: start over from storage
                log.exception("event feed failed on a notification: %s", exc)
            self.connected.clear()
            if self.listener is not None:
                with contextlib.suppress(Exception):
                    await self.listener.close()
                self.listener = None
            await self._sleep(_RETRY_SECONDS)

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.close()
            self.listener = None

    async def _deliver(self, events: list[Event], origin: str | None) -> None:
        for event in events:
            if event.seq > self._b.seq + 1:
                await self.catch_up(event.seq - 1)
            if self._b.deliver(event):
                self._on_event(event, origin)

    async def catch_up(self, upto: int | None = None) -> None:
        """Deliver every committed event after the bus's seq (up to ``upto``) from storage."""
        while upto is None or self._b.seq < upto:
            limit = _FILL_PAGE if upto is None else min(_FILL_PAGE, upto - self._b.seq)
            rows = await self._store.events_after(self._b.seq, limit)
            if not rows:
                return
            for event in rows:
                if event.seq > self._b.seq + 1:
                    # a committed seq is never missing (the counter hands them out in
                    # commit order); a hole means retention trimmed it: skip ahead
                    log.warning(
                        "events %d..%d are gone from storage", self._b.seq + 1, event.seq - 1
                    )
                    self._b.skip_to(event.seq - 1)
                if self._b.deliver(event):
                    self._on_event(event, None)


Acquired = Callable[[str], Awaitable[None]]


class Ownership:
    """Which names (services, :data:`LEADER`) this replica runs. See the module docstring."""

    def __init__(
        self,
        coordinator: Coordinator,
        names: Iterable[str],
        *,
        period: float,
        on_acquire: Acquired,
        on_release: Acquired,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.coordinator = coordinator
        self.names = [LEADER, *names]
        self.period = period
        self._on_acquire = on_acquire
        self._on_release = on_release
        self._sleep = sleep
        self.held: set[str] = set()
        self.members: list[str] = []
        #: the names this replica owns, for the members they were computed from
        self._mine: set[str] = set()
        self._mine_for: tuple[str, tuple[str, ...]] | None = None

    @property
    def replica_id(self) -> str:
        return self.coordinator.replica_id

    def owns(self, name: str) -> bool:
        return name in self.held

    @property
    def leader(self) -> bool:
        return LEADER in self.held

    async def run(self) -> None:
        while True:
            try:
                if not self.coordinator.connected:
                    await self.coordinator.open()
                await self.round()
            except StoreError as exc:
                log.warning("replica coordination lost, running nothing until back: %s", exc)
                await self.drop_all()
            await self._sleep(self.period)

    async def round(self) -> None:
        """One look at the members: release what is no longer ours, take what is."""
        self.members = await self.coordinator.members()
        key = (self.replica_id, tuple(self.members))
        if key != self._mine_for:  # hashing every name each round is work for nothing
            self._mine = {
                n for n in self.names if rendezvous_owner(n, self.members) == self.replica_id
            }
            self._mine_for = key
        mine = self._mine
        for name in sorted(self.held - mine):
            await self._on_release(name)
            self.held.discard(name)
            await self.coordinator.unlock(name)
        wanted = [n for n in self.names if n in mine and n not in self.held]
        got = await self.coordinator.try_lock_many(wanted)
        for name in wanted:
            if name in got:
                self.held.add(name)
                await self._on_acquire(name)

    async def drop_all(self) -> None:
        """The session is gone (and its locks with it): stop running everything."""
        for name in sorted(self.held):
            self.held.discard(name)
            with contextlib.suppress(Exception):
                await self._on_release(name)
        with contextlib.suppress(Exception):
            await self.coordinator.close()
