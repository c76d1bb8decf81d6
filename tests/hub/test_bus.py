"""Event bus: global sequence, role filtering and redaction, overflow, replay, probe."""

from __future__ import annotations

import asyncio

from studio_status.hub.bus import FOOTER_EVENT, EventBus
from studio_status.protocol import (
    Event,
    FooterChanged,
    FooterData,
    FooterService,
    HealthStatus,
    JobProgress,
    Role,
    ServiceHealth,
    ServiceHealthChanged,
    Topic,
)


def health_event(name: str = "db") -> ServiceHealthChanged:
    return ServiceHealthChanged(
        service=name,
        previous=HealthStatus.HEALTHY,
        current=ServiceHealth(name=name, status=HealthStatus.DOWN),
    )


def admin_footer() -> FooterChanged:
    return FooterChanged(footer=FooterData(services={"db": FooterService(status="down")}))


async def test_sequence_persist_and_fanout_by_role() -> None:
    persisted: list[Event] = []
    bus = EventBus("hub", start_seq=41, persist=persisted.append)
    admin = bus.subscribe(Role.ADMIN, [Topic.HEALTH, Topic.FOOTER])
    creator = bus.subscribe(Role.CREATOR, [Topic.HEALTH, Topic.FOOTER, Topic.JOB_PROGRESS])
    bus.publish("service.health_changed", health_event())
    bus.publish(FOOTER_EVENT, admin_footer())
    bus.publish("job.progress", JobProgress(job_id="j1", progress=10))
    assert [e.seq for e in persisted] == [42, 43, 44]
    got_admin = [admin.queue.get_nowait() for _ in range(admin.queue.qsize())]
    got_creator = [creator.queue.get_nowait() for _ in range(creator.queue.qsize())]
    assert [e.type for e in got_admin] == ["service.health_changed", FOOTER_EVENT]
    # the creator asked for health but may not have it; the footer arrives redacted
    assert [e.type for e in got_creator] == [FOOTER_EVENT, "job.progress"]
    assert got_creator[0].data["footer"]["services"] is None
    assert got_admin[1].data["footer"]["services"]["db"]["status"] == "down"
    assert admin.cursor == creator.cursor == 44  # heartbeats may advance both past filtered


async def test_detail_topic_delivers_only_that_job() -> None:
    bus = EventBus("hub")
    sub = bus.subscribe(Role.REVIEWER, ["job:j2", Topic.JOBS])  # progress is detail-only
    bus.publish("job.progress", JobProgress(job_id="j1", progress=10))
    bus.publish("job.progress", JobProgress(job_id="j2", progress=20))
    assert sub.queue.qsize() == 1 and sub.queue.get_nowait().data["job_id"] == "j2"


async def test_slow_subscriber_overflows_without_blocking_publish() -> None:
    bus = EventBus("hub", queue_size=3)
    slow = bus.subscribe(Role.ADMIN, [Topic.HEALTH])
    for _ in range(10):
        bus.publish("service.health_changed", health_event())
    assert slow.overflowed and slow.queue.qsize() == 3 and slow.wakeup.is_set()


async def test_replay_from_ring_filters_like_live() -> None:
    bus = EventBus("hub", ring_size=5)
    for _ in range(8):
        bus.publish(FOOTER_EVENT, admin_footer())
    creator = bus.subscribe(Role.CREATOR, [Topic.FOOTER])
    assert bus.replay_from_ring(2, 8) is None  # seq 3 fell out of the ring
    ringed = bus.replay_from_ring(5, 8)
    assert ringed is not None and [e.seq for e in ringed] == [6, 7, 8]
    replayed = bus.replay(ringed, creator)
    assert all(e.data["footer"]["services"] is None for e in replayed)
    assert bus.replay_from_ring(8, 8) == []


async def test_probe_round_trips_through_fanout() -> None:
    bus = EventBus("hub")
    other = bus.subscribe(Role.ADMIN, [Topic.HEALTH])
    await asyncio.wait_for(bus.probe(), 1)
    assert other.queue.empty() and bus.subscriber_count == 1 and bus.seq == 0


def test_frames_are_encoded_once_per_event_object() -> None:
    from studio_status.hub.bus import redact_for
    from studio_status.hub.ws import FrameCache
    from studio_status.protocol import Event, Role, utcnow

    frames = FrameCache(size=2)
    data = {"services": {"db": {"status": "down", "error": "secret detail"}}}
    event = Event(seq=1, type="status.footer_changed", ts=utcnow(), data=data)
    public = event.model_copy(update={"data": redact_for(Role.CREATOR, event.data)})
    texts = [frames.text(event) for _ in range(500)]  # one change, five hundred sockets
    assert frames.encoded == 1 and len(set(texts)) == 1
    assert frames.text(public) == public.model_dump_json()  # the redacted copy: its own text
    assert frames.encoded == 2
    # bounded: the oldest goes, and is encoded again if it is ever sent again
    frames.text(Event(seq=2, type="status.footer_changed", ts=utcnow()))
    assert frames.text(event) == texts[0] and frames.encoded == 4
