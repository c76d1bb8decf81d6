"""The hub's event bus: one global sequence, a replay ring, per-subscriber fan-out.

Every event gets the next ``seq``; it is kept in a ring (for resume after short drops),
handed to the store writer (for resume across hub restarts), and offered to every
subscriber whose role and topics admit it. Publishing is synchronous and never waits on a
slow subscriber: each has a bounded queue, and one that falls too far behind is marked
overflowed and disconnected, to resume from its last ``seq`` like any dropped client.

Replicas sharing a PostgreSQL database (``numbered_by_store``) number events in the
database instead: :meth:`EventBus.publish` only hands the event to the store, and events
come back, committed and numbered, through :meth:`EventBus.deliver` on every replica.

``cursor`` is the seq up to which fan-out has considered a subscriber. When its queue is
empty, everything up to ``cursor`` that it may see has been sent, so a heartbeat carrying
``cursor`` lets the client advance its ``last_seq`` past events filtered out for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from studio_status.protocol import EVENT_TYPES, Event, Role, Topic, topic_allowed, utcnow

__all__ = ["FOOTER_EVENT", "EventBus", "Subscriber", "redact_for"]

log = logging.getLogger("hub.events")

_PROBE_TYPE = "hub.probe"
_PROBE_TOPIC = "_probe"
FOOTER_EVENT = "status.footer_changed"


class Subscriber:
    """One listener on the bus (a socket connection, or the bus's own probe)."""

    def __init__(self, role: Role, topics: Iterable[str], cursor: int, maxsize: int) -> None:
        self.role = role
        self.topics: set[str] = set(topics)
        self.cursor = cursor
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False
        self.wakeup = asyncio.Event()
        #: Set by the socket while it idles with an empty queue: sends an event at once
        #: (True) or declines (False: it is queued, and direct sending stops until the
        #: socket has sent its queue and idles again, so events never overtake each other).
        self.direct: Callable[[Event], bool] | None = None

    def wants(self, event: Event) -> bool:
        if event.type == _PROBE_TYPE:
            return _PROBE_TOPIC in self.topics
        topic = event.topic
        if topic is None:
            return False
        if not topic_allowed(topic, self.role):
            return False
        if topic in self.topics:
            return True
        job_id = event.data.get("job_id") or (event.data.get("job") or {}).get("id")
        return job_id is not None and f"{Topic.JOB_DETAIL_PREFIX}{job_id}" in self.topics

    def offer(self, event: Event, public: Event | None) -> None:
        self.cursor = max(self.cursor, event.seq)
        if self.overflowed or not self.wants(event):
            return
        chosen = event if self.role is Role.ADMIN or public is None else public
        if self.direct is not None:
            if self.direct(chosen):
                return
            self.direct = None
        try:
            self.queue.put_nowait(chosen)
        except asyncio.QueueFull:
            self.overflowed = True
            self.wakeup.set()


class EventBus:
    """Assigns sequence numbers and fans events out. See the module docstring."""

    def __init__(
        self,
        hub_id: str,
        start_seq: int = 0,
        *,
        ring_size: int = 10_000,
        queue_size: int = 10_000,
        persist: Callable[[Event], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        numbered_by_store: bool = False,
    ) -> None:
        self.hub_id = hub_id
        self.numbered_by_store = numbered_by_store
        self._seq = start_seq
        self._ring: deque[Event] = deque(maxlen=ring_size)
        self._queue_size = queue_size
        self._persist = persist
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self.published = 0  # since this bus began, for the metrics

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event_type: str, data: BaseModel) -> Event:
        """Publish one event to every subscriber that may see it, redacted per role.

        With ``numbered_by_store`` (replicas on PostgreSQL) the event only goes to the
        store: the database numbers it at commit and every replica's :meth:`deliver` fans it
        out, this one's included. The event returned then has seq 0 (not numbered yet).
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        self.published += 1  # by this hub (of replicas: this one)
        ts = self._clock()
        if self.numbered_by_store:
            event = Event(seq=0, type=event_type, ts=ts, data=data.model_dump(mode="json"))
            if self._persist is not None:
                self._persist(event)
            return event
        self._seq += 1
        event = Event(seq=self._seq, type=event_type, ts=ts, data=data.model_dump(mode="json"))
        if self._persist is not None:
            self._persist(event)
        self._fan_out(event)
        return event

    def deliver(self, event: Event) -> bool:
        """Fan out an event committed by any replica; each seq once, in order. Returns
        False for an event already delivered (a resend after a reconnect)."""
        if event.seq <= self._seq:
            return False
        if event.seq != self._seq + 1:
            raise ValueError(f"event {event.seq} delivered before {self._seq + 1}")
        self._seq = event.seq
        self._fan_out(event)
        return True

    def skip_to(self, seq: int) -> None:
        """Move past seqs that will never be delivered (trimmed from storage)."""
        self._seq = max(self._seq, seq)

    def _fan_out(self, event: Event) -> None:
        public_event = (
            event.model_copy(update={"data": redact_for(Role.CREATOR, event.data)})
            if event.type == FOOTER_EVENT
            else None
        )
        self._ring.append(event)
        for sub in list(self._subscribers):
            sub.offer(event, public_event)

    def subscribe(self, role: Role, topics: Iterable[str]) -> Subscriber:
        sub = Subscriber(role, topics, self._seq, self._queue_size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def replay_from_ring(self, after: int, upto: int) -> list[Event] | None:
        """Events with ``after < seq <= upto`` if the ring still holds all of them."""
        if after >= upto:
            return []
        if not self._ring or self._ring[0].seq > after + 1:
            return None
        return [e for e in self._ring if after < e.seq <= upto]

    @property
    def ring_start(self) -> int | None:
        return self._ring[0].seq if self._ring else None

    async def probe(self) -> None:
        """Send a probe through the fan-out path and wait until it comes back out of a queue.

        The event bus checker uses this: a wedged loop or a broken fan-out shows as a slow
        or missing round trip, without adding probe events to the numbered stream.
        """
        sub = self.subscribe(Role.ADMIN, [_PROBE_TOPIC])
        try:
            probe = Event(seq=self._seq, type=_PROBE_TYPE, ts=self._clock(), data={})
            for each in list(self._subscribers):
                each.offer(probe, None)
            while (await sub.queue.get()).type != _PROBE_TYPE:
                pass
        finally:
            self.unsubscribe(sub)

    def replay(self, events: Iterable[Event], sub: Subscriber) -> list[Event]:
        """Filter and redact stored or ringed events exactly as live fan-out would."""
        out = []
        for event in events:
            if not sub.wants(event):
                continue
            if sub.role is not Role.ADMIN and event.type == FOOTER_EVENT:
                out.append(event.model_copy(update={"data": redact_for(sub.role, event.data)}))
            else:
                out.append(event)
        return out


def redact_for(role: Role, data: dict[str, Any]) -> dict[str, Any]:
    """Drop admin-only footer parts for other roles (used for replay from storage)."""
    if role is Role.ADMIN:
        return data
    footer = dict(data.get("footer") or {})
    footer["services"] = None
    footer["cloud_gpu"] = None
    return {**data, "footer": footer}
