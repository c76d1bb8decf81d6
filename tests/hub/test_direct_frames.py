"""Events written straight to idle sockets, framed once: valid frames, order kept, flow
control respected, and every socket gets every event it may see (deflate or not)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from studio_status.hub.bus import EventBus
from studio_status.hub.ws import FRAMES, FrameCache, text_frame
from studio_status.protocol import (
    Event,
    HealthStatus,
    Role,
    ServiceHealth,
    ServiceHealthChanged,
    Topic,
    utcnow,
)
from tests.hubrunner import recv_json, recv_until, run_hub


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_frame_parses_as_one_text_message(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    client = ClientProtocol(parse_uri("ws://127.0.0.1/"), state=State.OPEN)
    client.receive_data(text_frame(text))
    [frame] = client.events_received()
    assert isinstance(frame, Frame)
    assert frame.opcode is Opcode.TEXT and frame.fin and bytes(frame.data).decode() == text


def test_the_frame_is_made_once_per_event() -> None:
    frames = FrameCache()
    event = Event(seq=1, type="service.health_changed", ts=utcnow(), data={"service": "db"})
    first = frames.frame(event)
    assert all(frames.frame(event) is first for _ in range(100))
    assert frames.encoded == 1 and first.endswith(event.model_dump_json().encode())


def _change(bus: EventBus, n: int) -> Event:
    health = ServiceHealth(name="db", status=HealthStatus.DOWN if n % 2 else HealthStatus.HEALTHY)
    return bus.publish(
        "service.health_changed",
        ServiceHealthChanged(service="db", previous=HealthStatus.UNKNOWN, current=health),
    )


async def test_once_an_event_is_queued_the_rest_follow_it_in_order() -> None:
    bus = EventBus("hub")
    sub = bus.subscribe(Role.ADMIN, [Topic.HEALTH])
    written: list[int] = []
    accept = [True, True, False, True]

    def direct(event: Event) -> bool:
        if accept.pop(0):
            written.append(event.seq)
            return True
        return False

    sub.direct = direct
    for n in range(5):
        _change(bus, n)
    # two went straight out; the third was declined (flow control), so it and everything
    # after it wait in the queue for the socket's own loop, in order
    assert written == [1, 2]
    assert sub.direct is None
    assert [sub.queue.get_nowait().seq for _ in range(sub.queue.qsize())] == [3, 4, 5]


async def test_sockets_get_every_event_in_order_straight_from_publish(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        hello = {"type": "hello", "token": h.admin_token, "topics": ["health"]}
        plain = await connect(h.ws_url, compression=None)
        deflate = await connect(h.ws_url)  # permessage-deflate negotiated
        try:
            assert deflate.protocol.extensions and not plain.protocol.extensions
            for ws in (plain, deflate):
                await ws.send(json.dumps(hello))
                assert (await recv_json(ws))["type"] == "snapshot"
            await asyncio.sleep(0)  # both send loops idle, so the next events go direct
            framed = FRAMES.framed
            seqs = [_change(h.hub.bus, n).seq for n in range(50)]
            # written from publish itself, each framed once for both sockets
            assert FRAMES.framed == framed + 50
            for ws in (plain, deflate):
                got = [(await recv_until(ws, "service.health_changed"))["seq"] for _ in seqs]
                assert got == seqs
        finally:
            await plain.close()
            await deflate.close()
