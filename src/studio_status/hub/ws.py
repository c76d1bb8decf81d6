"""``WS /api/v1/events``: hello, snapshot or replay, then live events and heartbeats.

Order of a connection: the client's ``hello`` (token in it or in the upgrade's
``Authorization`` header) within :data:`HELLO_TIMEOUT`; a bad or missing token gets an
``error`` and close code 4401, and so does a token revoked while its socket is open (the
send loop re-checks it once per heartbeat interval). A refused login (a bad hello, a bad or
missing token) takes from its address's bucket of callers without a valid token, the one
REST's refused callers take from (:meth:`~studio_status.hub.gate.Gate.charge_anonymous`);
once that is spent the caller gets ``rate_limited`` and close code 4429 instead, with the
seconds to wait. The subscriber is registered *before*
the snapshot or replay is built, and the snapshot is built without awaiting, so nothing
published meanwhile is either lost or sent twice: it waits in the subscriber's queue with a
higher ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from studio_status.protocol import (
    ErrorMessage,
    Event,
    HeartbeatMessage,
    HelloMessage,
    ProtocolError,
    ResumedMessage,
    ResumeMessage,
    SubscribeMessage,
    Topic,
    UnsubscribeMessage,
    WireModel,
    parse_client_message,
    utcnow,
)

from .bus import Subscriber
from .gate import Gate, retry_seconds
from .service import Hub
from .store.sqlite import StoreError

__all__ = ["FRAMES_EXTENSION", "HELLO_TIMEOUT", "FrameCache", "serve_events", "text_frame"]

log = logging.getLogger("hub.events")

HELLO_TIMEOUT = 10.0
MAX_BAD_MESSAGES = 20
#: topics one socket may hold at once: the light topics plus a window's worth of ``job:<id>``
MAX_TOPICS = 64
CLOSE_UNAUTHORIZED = 4401
CLOSE_PROTOCOL = 4400
CLOSE_TOO_SLOW = 4408
CLOSE_RATE_LIMITED = 4429
#: The ASGI scope extension our server adds (:mod:`studio_status.hub.server`): a call that
#: writes a framed message straight to the socket, or returns False.
FRAMES_EXTENSION = "studio_status.frames"
FrameWriter = Callable[[bytes], bool]
DEFAULT_TOPICS = (
    Topic.FOOTER,
    Topic.HEALTH,
    Topic.ALERTS,
    Topic.CLOUD,
    Topic.JOBS,
    Topic.WORKFLOWS,
    Topic.SYSTEM,
)


def text_frame(text: str) -> bytes:
    """One complete, unmasked server-to-client text frame (RFC 6455 §5.2) holding ``text``."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


class FrameCache:
    """The JSON of recent events, and their WebSocket frames, made once for every socket.

    One status change goes to every connected desktop: encode and frame it once, not once
    per socket. Keyed by the event object itself (its ``id`` plus an identity check, so a
    recycled id never hits): a role's redacted copy is another object and gets its own
    text. First in, first out, bounded.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._texts: OrderedDict[int, tuple[Event, str, bytes | None]] = OrderedDict()
        self.encoded = 0
        self.framed = 0

    def text(self, event: Event) -> str:
        return self._entry(event)[1]

    def frame(self, event: Event) -> bytes:
        event_, text, frame = self._entry(event)
        if frame is None:
            frame = text_frame(text)
            self.framed += 1
            self._texts[id(event)] = (event_, text, frame)
        return frame

    def _entry(self, event: Event) -> tuple[Event, str, bytes | None]:
        hit = self._texts.get(id(event))
        if hit is not None and hit[0] is event:
            return hit
        entry = (event, event.model_dump_json(), None)
        self.encoded += 1
        self._texts[id(event)] = entry
        if len(self._texts) > self._size:
            self._texts.popitem(last=False)
        return entry


FRAMES = FrameCache()


async def _send(ws: WebSocket, msg: WireModel) -> None:
    text = FRAMES.text(msg) if isinstance(msg, Event) else msg.model_dump_json()
    await ws.send_text(text)


async def serve_events(hub: Hub, gate: Gate, ws: WebSocket) -> None:
    await ws.accept()
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            raw = await ws.receive_text()
        hello = parse_client_message(raw)
        if not isinstance(hello, HelloMessage):
            raise ProtocolError("client message", "the first message must be 'hello'")
    except (TimeoutError, ProtocolError, WebSocketDisconnect, KeyError) as exc:
        if not await _over_allowance(gate, ws):
            await _refuse(ws, "bad_hello", f"expected a hello message: {exc}", CLOSE_PROTOCOL)
        return
    credential = hello.token or ws.headers.get("authorization")
    role = await hub.auth.authenticate(credential)
    if role is None:
        if not await _over_allowance(gate, ws):
            await _refuse(ws, "unauthorized", "missing or invalid token", CLOSE_UNAUTHORIZED)
        return
    topics = hello.topics or list(DEFAULT_TOPICS)
    if len(set(topics)) > MAX_TOPICS:
        await _refuse(ws, "too_many_topics", _too_many(len(set(topics))), CLOSE_PROTOCOL)
        return
    if hello.last_seq is not None and hello.hub_id in (None, hub.bus.hub_id):
        await hub.catch_up(hello.last_seq)  # replicas: it may come from a faster one
    sub = hub.bus.subscribe(role, topics)
    hub.counters.sockets[role.value] += 1
    try:
        await _start(hub, ws, sub, hello)
        sender = asyncio.create_task(_send_loop(hub, ws, sub, credential))
        receiver = asyncio.create_task(_receive_loop(ws, sub))
        done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in done:
            err = task.exception()
            if err is not None and not isinstance(err, WebSocketDisconnect | RuntimeError):
                log.warning("event socket ended: %r", err)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.counters.sockets[role.value] -= 1
        hub.bus.unsubscribe(sub)


async def _start(hub: Hub, ws: WebSocket, sub: Subscriber, hello: HelloMessage) -> None:
    """Send the gap since ``hello.last_seq`` if it can be filled, else a snapshot."""
    resumable = hello.last_seq is not None and hello.hub_id in (None, hub.bus.hub_id)
    if not resumable or hello.last_seq is None:
        if hello.last_seq is not None:  # a resume across hubs: a snapshot answers it
            hub.counters.replays["snapshot"] += 1
        await _send(ws, hub.snapshot(sub))
        return
    snapshot = hub.snapshot(sub)  # built before any await, in case the replay fails
    events = await hub.replay(sub, hello.last_seq)
    hub.counters.replays["snapshot" if events is None else "resumed"] += 1
    if events is None:
        await _send(ws, snapshot)
        return
    await _send(ws, ResumedMessage(from_seq=hello.last_seq, seq=sub.cursor, hub_id=hub.bus.hub_id))
    for event in events:
        await _send(ws, event)
    # The replay held every event up to the cursor that this client may see; saying so at
    # once lets it step past the ones filtered out for it instead of waiting a heartbeat.
    await _send(ws, HeartbeatMessage(seq=sub.cursor, ts=utcnow()))


async def _send_loop(hub: Hub, ws: WebSocket, sub: Subscriber, credential: str | None) -> None:
    loop = asyncio.get_running_loop()
    checked = loop.time()
    writer: FrameWriter | None = ws.scope.get("extensions", {}).get(FRAMES_EXTENSION)
    direct = None if writer is None else _direct(writer)
    while True:
        if loop.time() - checked >= hub.heartbeat_seconds:
            # a token revoked meanwhile (maybe by the CLI, another process) ends the socket
            # within a heartbeat, however busy the stream is
            checked = loop.time()
            try:
                valid = await hub.auth.authenticate(credential) is not None
            except StoreError:
                valid = True  # storage trouble says nothing about the token; next time
            if not valid:
                log.info("closing an event socket: its token is no longer valid")
                await _refuse(ws, "unauthorized", "token revoked", CLOSE_UNAUTHORIZED)
                return
        if sub.overflowed:
            await _refuse(
                ws, "too_slow", "client fell behind; resume from last seq", CLOSE_TOO_SLOW
            )
            return
        getter = asyncio.ensure_future(sub.queue.get())
        overflow = asyncio.ensure_future(sub.wakeup.wait())
        # idle with nothing queued: events go straight to the socket, framed once for all
        # (the bus stops that the moment it has to queue one, so order always holds)
        sub.direct = direct if sub.queue.empty() else None
        try:
            done, _ = await asyncio.wait(
                {getter, overflow},
                timeout=hub.heartbeat_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            sub.direct = None
            overflow.cancel()
            if not getter.done():
                getter.cancel()
        if getter in done:
            await _send(ws, getter.result())
        elif not done and sub.queue.empty():
            await _send(ws, HeartbeatMessage(seq=sub.cursor, ts=utcnow()))


def _direct(writer: FrameWriter) -> Callable[[Event], bool]:
    def send(event: Event) -> bool:
        return writer(FRAMES.frame(event))

    return send


async def _receive_loop(ws: WebSocket, sub: Subscriber) -> None:
    bad = 0
    while True:
        raw = await ws.receive_text()
        try:
            msg = parse_client_message(raw)
        except ProtocolError as exc:
            bad += 1
            log.info("bad client message (%d): %s", bad, exc)
            if bad >= MAX_BAD_MESSAGES:
                await _refuse(ws, "too_many_errors", str(exc), CLOSE_PROTOCOL)
                return
            await _send(ws, ErrorMessage(code="bad_message", message=str(exc)))
            continue
        if isinstance(msg, SubscribeMessage):
            wanted = sub.topics.union(msg.topics)
            if len(wanted) > MAX_TOPICS:
                # refused whole, the socket stays: the client learns why and keeps its topics
                await _send(
                    ws, ErrorMessage(code="too_many_topics", message=_too_many(len(wanted)))
                )
                continue
            sub.topics.update(msg.topics)
        elif isinstance(msg, UnsubscribeMessage):
            sub.topics.difference_update(msg.topics)
        elif isinstance(msg, ResumeMessage | HelloMessage):
            await _send(
                ws,
                ErrorMessage(
                    code="bad_message", message=f"'{msg.type}' is only valid as the first message"
                ),
            )


def _too_many(count: int) -> str:
    return (
        f"too many topics: {count} asked, at most {MAX_TOPICS} per connection;"
        " unsubscribe from some first"
    )


async def _over_allowance(gate: Gate, ws: WebSocket) -> bool:
    """Charge a refused login to its address; when that address is over its allowance,
    say so (and when to come back) and close, and answer True."""
    wait = gate.charge_anonymous(ws)
    if wait <= 0:
        return False
    seconds = retry_seconds(wait)
    message = f"too many failed logins from this address; retry in {seconds} s"
    details = {"retry_after_seconds": seconds}  # for clients; the message is for people
    await _refuse(ws, "rate_limited", message, CLOSE_RATE_LIMITED, details)
    return True


async def _refuse(
    ws: WebSocket,
    code: str,
    message: str,
    close_code: int,
    details: dict[str, Any] | None = None,
) -> None:
    with contextlib.suppress(Exception):
        await _send(ws, ErrorMessage(code=code, message=message, details=details or {}))
        await ws.close(close_code, message[:120])
