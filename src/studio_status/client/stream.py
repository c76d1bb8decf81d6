"""The app's one connection to the hub: event stream with resume, polling fallback, watchdog.

Why it is shaped like this:

* **One store, fed from one place.** Every snapshot, event, heartbeat and polled footer goes
  into :class:`~studio_status.client.state.StatusStore`; views never fetch.
* **Never lose or double an event.** The hello carries the last ``seq`` applied and the
  ``hub_id`` it came from; the hub replays the gap (``resumed``) or, when it cannot (another
  hub, history gone), sends a fresh snapshot. The store drops ``seq <= last_seq``. Seqs are
  global and the hub filters by role and topic, so gaps between the events we receive are
  normal; the hub delivers in order on a connection, and a heartbeat (sent only when our
  queue is empty) carries the seq we are caught up to. A hub that cannot keep up with us
  closes the socket, and we resume.
* **Never hide being disconnected.** CONNECTING / LIVE / POLLING / OFFLINE are set from what
  actually answered, and a watchdog marks data stale when nothing answered in time.
* **Do not hammer.** Reconnects back off exponentially with full jitter; a refused token
  waits the longest delay, since retrying will not fix it.
* **Survive anything from the wire.** A malformed frame is logged on ``client.events`` and
  skipped; an unexpected exception in a session is logged and treated as a drop.
* **Testable without racing the wall clock.** All waiting goes through an injected
  :class:`~studio_status.client.clock.Clock`; tasks are named so a fake clock can tell a
  backoff wait (``studio-status-backoff``) from a poll wait (``studio-status-poll``) or the
  watchdog tick (``studio-status-watchdog``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import ssl
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)

from studio_status import __version__
from studio_status.backoff import Backoff
from studio_status.logs import RedactingFilter
from studio_status.protocol import (
    MAX_MESSAGE_BYTES,
    ErrorMessage,
    Event,
    FooterData,
    HeartbeatMessage,
    HelloMessage,
    ProtocolError,
    ResumedMessage,
    ServerMessage,
    SnapshotMessage,
    SubscribeMessage,
    Topic,
    UnsubscribeMessage,
    decode_json,
    parse_model,
    parse_server_message,
)
from studio_status.protocol.contract import contract_mismatch
from studio_status.tasks import TaskSet
from studio_status.tlsdefault import verified_context

from .cache import SnapshotCache
from .clock import Clock, SystemClock
from .errors import (
    ClientError,
    HubUnavailable,
    Incompatible,
    NotAllowed,
    RateLimited,
    Unauthorized,
)
from .link import problem_from, roles_text, transport_error
from .rest import RestClient
from .state import ConnectionState, StatusState, StatusStore

__all__ = [
    "DEFAULT_TOPICS",
    "EVENTS_PATH",
    "RATE_LIMITED_CLOSE_CODE",
    "UNAUTHORIZED_CLOSE_CODE",
    "StatusClient",
    "ca_bundle_problem",
    "events_url",
]

log = logging.getLogger("client.events")
#: websockets logs the upgrade's headers at DEBUG, the bearer token among them: masked here
_ws_log = logging.getLogger("client.events.websocket")
_ws_log.addFilter(RedactingFilter())

EVENTS_PATH: Final = "/api/v1/events"
#: Close code the hub uses after an ``unauthorized`` error (4000-4999: application codes).
UNAUTHORIZED_CLOSE_CODE: Final = 4401
#: Close code after ``rate_limited``: a refused token, and too many from this address.
RATE_LIMITED_CLOSE_CODE: Final = 4429
#: The light topics every strip needs; detail topics (``job:<id>``) come and go.
DEFAULT_TOPICS: Final[tuple[str, ...]] = (
    Topic.FOOTER,
    Topic.HEALTH,
    Topic.CLOUD,
    Topic.JOBS,
    Topic.WORKFLOWS,
    Topic.ALERTS,
    Topic.SYSTEM,
)

_TASK_PREFIX: Final = "studio-status-"
#: How long closing waits for a footer request in flight before it cancels it.
CLOSE_GRACE_SECONDS = 1.0
#: Longest stretch of frame handling before the reader yields to the loop (the UI).
READ_SLICE_SECONDS = 0.008


def hub_urls(value: str) -> list[str]:
    """The hubs a profile names: one URL, or several (replicas of one hub, see the
    README's "Running several hubs") separated by commas, tried in that order."""
    urls = [u.strip().rstrip("/") for u in value.split(",") if u.strip()]
    if not urls:
        raise ValueError("no hub address given")
    return urls


def events_url(base_url: str) -> str:
    """``http(s)://host/prefix`` → ``ws(s)://host/prefix/api/v1/events``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"hub address must be http(s)://host[:port][/prefix], not {base_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + EVENTS_PATH, "", ""))


class _Outcome(enum.Enum):
    DROPPED = "dropped"  # the socket closed or failed after it opened
    RESYNC = "resync"  # we saw we missed something; reconnect at once to resume


class _Resync(Exception):
    """Raised inside a session when the client must reconnect to resume."""


class StatusClient:
    """Keeps a :class:`StatusStore` in step with a hub until :meth:`aclose`.

    Use ``client.start()`` (keeps a strong reference to its task, which qasync does not) or
    ``await client.run()`` in a task of your own; both end on :meth:`aclose` or cancellation.

    Attributes:
        store: the store this client feeds.
        last_error: a one-line, human readable reason for the last failure (None once live);
            views show it beside OFFLINE / POLLING.
        base_url: the hub's root URL (``http(s)://host[:port][/prefix]``) now in use: of
            several (comma-separated replicas of one hub), the one that answered last. When
            it cannot be reached the client moves to the next at once, and resumes there.
        last_sync: how the last session started, ``"snapshot"`` or ``"resumed"``.
    """

    def __init__(
        self,
        base_url: str,
        store: StatusStore,
        *,
        token: str | None = None,
        topics: Iterable[str] = DEFAULT_TOPICS,
        http: httpx.AsyncClient | None = None,
        cache: SnapshotCache | None = None,
        poll_interval: float = 30.0,
        stale_after: float = 0.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        clock: Clock | None = None,
        heartbeat_seconds: float = 15.0,
        watchdog_interval: float = 5.0,
        open_timeout: float = 10.0,
        request_timeout: float = 10.0,
        verify: bool | str = True,
        client_name: str = f"studio-status/{__version__}",
    ) -> None:
        self._urls = hub_urls(base_url)
        for url in self._urls:
            events_url(url)  # a bad address fails here, not at the first connect
        self._url_index = 0
        self._tried_since_live = 0  # hubs tried since the last live session
        self.base_url = self._urls[0]
        self._ws_url = events_url(self.base_url)
        self.last_sync: str | None = None
        self._verify = verify
        self._request_timeout = request_timeout
        self.store = store
        self.last_error: str | None = None
        self._token = token
        self._topics: list[str] = list(dict.fromkeys(topics))
        self._detail: dict[str, None] = {}  # ordered set of detail topics
        self._owns_http = http is None
        # certificates are verified by default; a path names a private CA (per profile)
        self._tls = tls_context(verify) if self._ws_url.startswith("wss:") else None
        self._http = http if http is not None else httpx.AsyncClient(verify=http_verify(verify))
        self._rest = RestClient(self.base_url, self._http, token=token, timeout=request_timeout)
        self._cache = cache
        self._poll_interval = poll_interval
        # the user's threshold (settings); it can only be more patient than the rule below
        self._stale_after = stale_after
        self._backoff = Backoff(backoff_initial, backoff_max, rng)
        #: monotonic time before which the hub asked not to try again (rate_limited)
        self._hold_until = 0.0
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._heartbeat = heartbeat_seconds
        self._watchdog_interval = watchdog_interval
        self._open_timeout = open_timeout
        self._client_name = client_name

        self._tasks = TaskSet(log, _TASK_PREFIX)
        self._requests: set[asyncio.Future[FooterData]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._synced = False  # this session got its snapshot / resumed
        self._force_snapshot = False
        self._last_resync_seq: int | None = None
        self._last_heard = self._clock.monotonic()
        self._kick = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._closed = False
        self._cache_loaded = False
        self._cached_footer: object = None
        self._cached_role: object = None

    # -- public -----------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def rest(self) -> RestClient:
        """The REST client on this client's httpx pool and token (for ``details``)."""
        return self._rest

    @property
    def live(self) -> bool:
        """True while the event stream is up and in step with the hub."""
        return self._synced

    @property
    def heartbeat_seconds(self) -> float:
        return self._heartbeat

    @property
    def topics(self) -> tuple[str, ...]:
        """Every topic the next hello will name: the base ones, then detail topics."""
        return tuple(dict.fromkeys([*self._topics, *self._detail]))

    def set_token(self, token: str | None) -> None:
        """Use a new token (from the keyring or a login) and reconnect with it now."""
        self._token = token
        self._rest.token = token
        self.kick()

    def load_cache(self) -> bool:
        """Paint the cached footer (stale) if the store has nothing yet; True if it did.

        Called by :meth:`run`; the app may call it earlier so the strip paints before the
        loop even starts.
        """
        if self._cache_loaded or self._cache is None:
            return False
        self._cache_loaded = True
        cached = self._cache.load()
        if cached is None or self.store.state.footer is not None:
            return False
        self.store.load_cached(cached.footer, cached.role, cached.at, cached.hub_id)
        return True

    def start(self) -> asyncio.Task[None]:
        """Run in a task this client keeps a strong reference to."""
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self.run(), name=_TASK_PREFIX + "client")
        return self._runner

    async def run(self) -> None:
        """Keep the store in step with the hub until :meth:`aclose` or cancellation."""
        if self._closed:
            raise RuntimeError("StatusClient is closed")
        if self._running:
            raise RuntimeError("StatusClient.run() is already running")
        self._running = True
        self._stopped.clear()
        self.load_cache()
        unsubscribe = self.store.subscribe(self._on_store_change)
        self._last_heard = self._clock.monotonic()
        self._spawn(self._watchdog(), "watchdog")
        self._spawn(self._initial_fetch(), "initial-fetch")
        stream = self._spawn(self._stream_loop(), "stream")
        stop = asyncio.create_task(self._stopping.wait(), name=_TASK_PREFIX + "stop")
        try:
            await asyncio.wait({stream, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stream.done() and not stream.cancelled():
                stream.result()  # the loop never ends on its own; surface a bug loudly
        finally:
            stop.cancel()
            unsubscribe()
            await self._cancel_tasks()
            await self._close_socket()
            self._synced = False
            self._running = False
            self._stopped.set()

    def kick(self) -> None:
        """Reconnect now, skipping any backoff: after sleep/resume or a network change.

        An open socket is closed first, since after a suspend it often only looks open.
        """
        self._kick.set()
        self._backoff.reset()
        ws = self._ws
        if ws is not None:
            log.info("reconnecting now (kick)")
            self._spawn(ws.close(1001, "client reconnecting"), "kick-close")

    async def subscribe(self, topics: Iterable[str]) -> None:
        """Add detail topics (a job's progress while its window is open); kept for reconnects."""
        new = [t for t in dict.fromkeys(topics) if t not in self._detail and t not in self._topics]
        for topic in new:
            self._detail[topic] = None
        if new:
            await self._send(SubscribeMessage(topics=new).model_dump_json())

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        """Drop detail topics again (their window closed)."""
        gone = [t for t in dict.fromkeys(topics) if t in self._detail]
        for topic in gone:
            del self._detail[topic]
        if gone:
            await self._send(UnsubscribeMessage(topics=gone).model_dump_json())

    async def aclose(self) -> None:
        """Stop everything this client started, write the cache, close what it owns."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        runner = self._runner
        if runner is not None and runner is not asyncio.current_task():
            await asyncio.wait({runner})
            if not runner.cancelled() and runner.exception() is not None:
                log.error("client run ended with an error", exc_info=runner.exception())
        elif self._running:
            # run() is awaited in someone else's task: it sees _stopping and returns; wait.
            await self._stopped.wait()
        await self._cancel_tasks()
        await self._close_socket()
        await self._finish_requests()
        if self._cache is not None:
            self._cache.flush(force=True)
        if self._owns_http:
            await self._http.aclose()

    # -- the stream -------------------------------------------------------------------

    async def _stream_loop(self) -> None:
        while True:
            delay: float
            try:
                outcome = await self._session()
            except RateLimited as exc:
                # the token was refused and the hub named its wait: a try before then is
                # refused unread and only extends it
                self._hold_until = self._clock.monotonic() + exc.retry_after
                self._link_down(f"unauthorized: {exc}", offline=True, error=exc)
                delay = exc.retry_after
                self._backoff.attempts += 1
            except (Unauthorized, Incompatible) as exc:
                self._link_down(f"unauthorized: {exc}", offline=True, error=exc)
                delay = self._backoff.maximum  # a wrong token does not fix itself
                self._backoff.attempts += 1
            except HubUnavailable as exc:
                self._link_down(str(exc), error=exc)
                delay = self._backoff.next()
            except Exception:  # a bug in a session must not end the client
                log.exception("event stream session failed")
                self._link_down("internal error in the event stream (see log)")
                delay = self._backoff.next()
            else:
                if outcome is _Outcome.RESYNC:
                    delay = 0.0
                else:
                    self._link_down("connection to the hub was lost")
                    delay = self._backoff.next()
            if delay > 0 and self._next_hub():
                delay = 0.0  # another replica of the hub: try it now
            await self._pause(delay)

    def _next_hub(self) -> bool:
        """Move to the next of several hub URLs; False once each was tried since the
        last live session (then the backoff applies as for one hub)."""
        if len(self._urls) < 2 or self._tried_since_live >= len(self._urls) - 1:
            self._tried_since_live = 0
            if len(self._urls) > 1:
                self._use((self._url_index + 1) % len(self._urls))
            return False
        self._tried_since_live += 1
        self._use((self._url_index + 1) % len(self._urls))
        return True

    def _use(self, index: int) -> None:
        self._url_index = index
        self.base_url = self._urls[index]
        self._ws_url = events_url(self.base_url)
        self._tls = tls_context(self._verify) if self._ws_url.startswith("wss:") else None
        self._rest = RestClient(
            self.base_url, self._http, token=self._token, timeout=self._request_timeout
        )
        log.info("trying hub %s", self.base_url)

    async def _session(self) -> _Outcome:
        """One socket, from connect to close; raises the client errors on failure."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        try:
            ws = await connect(
                self._ws_url,
                additional_headers=headers,
                open_timeout=self._open_timeout,
                max_size=MAX_MESSAGE_BYTES,
                close_timeout=2.0,
                user_agent_header=self._client_name,
                ssl=self._tls,  # None for ws://
                logger=_ws_log,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status == 403:
                raise NotAllowed(roles_text(exc.response.body.decode(errors="replace"))) from exc
            if status == 401:
                raise Unauthorized(f"the hub refused the token (HTTP {status})") from exc
            if status == 429:
                wait = exc.response.headers.get("Retry-After", "")
                raise RateLimited(
                    f"the hub refused the token and asks to wait (HTTP {status})",
                    float(wait) if wait.isdigit() else None,
                ) from exc
            raise HubUnavailable(
                f"event stream refused: HTTP {status}",
                "the hub answered with an error" if status >= 500 else "no hub at this address",
            ) from exc
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise transport_error(exc, "cannot open the event stream") from exc
        except WebSocketException as exc:
            raise transport_error(exc, "cannot open the event stream") from exc
        try:
            return await self._converse(ws)
        finally:
            self._ws = None
            self._synced = False
            await ws.close()

    async def _converse(self, ws: ClientConnection) -> _Outcome:
        state = self.store.state
        hello = HelloMessage(
            token=self._token,
            topics=list(self.topics),
            last_seq=None if self._force_snapshot else state.last_seq,
            hub_id=state.hub_id,
            client=self._client_name,
        )
        self._synced = False
        try:
            await ws.send(hello.model_dump_json(exclude_none=True))
            self._force_snapshot = False
            self._ws = ws
            log.debug("hello sent: last_seq=%s hub_id=%s", hello.last_seq, hello.hub_id)
            loop = asyncio.get_running_loop()
            slice_started = loop.time()
            async for raw in ws:
                self._heard()
                self._on_frame(raw)
                # Frames already buffered are handed over without suspending, so a burst
                # would hold the loop (and, under qasync, the UI) until it is drained:
                # give the loop a turn every few milliseconds of work.
                if loop.time() - slice_started > READ_SLICE_SECONDS:
                    await asyncio.sleep(0)
                    slice_started = loop.time()
        except _Resync as exc:
            log.info("resyncing: %s", exc)
            seq = self.store.state.last_seq
            if seq is not None and seq == self._last_resync_seq:
                # Resuming from here already failed once; a snapshot breaks the loop.
                self._force_snapshot = True
            self._last_resync_seq = seq
            return _Outcome.RESYNC
        except (ConnectionClosed, OSError):
            pass
        if ws.close_code == UNAUTHORIZED_CLOSE_CODE:
            raise Unauthorized(f"the hub refused the token: {ws.close_reason or 'closed 4401'}")
        if ws.close_code == RATE_LIMITED_CLOSE_CODE:
            reason = ws.close_reason or "closed 4429"
            raise RateLimited(f"the hub refused the token: {reason}", RateLimited.wait_in(reason))
        log.info("event stream closed (code %s %s)", ws.close_code, ws.close_reason or "")
        return _Outcome.DROPPED

    def _on_frame(self, raw: str | bytes) -> None:
        try:
            msg = parse_server_message(raw)
        except ProtocolError as exc:
            event = _salvage_event(raw)
            if event is None or not self._synced:
                log.warning("ignored malformed message from the hub: %s", exc)
                return
            # The envelope is sound but the data is not: skip the data, keep the seq, so a
            # resume does not ask for the same broken event again.
            log.warning("dropped malformed event seq=%s type=%s: %s", event.seq, event.type, exc)
            self._on_event(event)
            return
        self._on_message(msg)

    def _on_message(self, msg: ServerMessage) -> None:
        if isinstance(msg, SnapshotMessage):
            self._on_snapshot(msg)
        elif isinstance(msg, ResumedMessage):
            self._on_resumed(msg)
        elif isinstance(msg, HeartbeatMessage):
            self._on_heartbeat(msg)
        elif isinstance(msg, ErrorMessage):
            self._on_error(msg)
        else:
            self._on_event(msg)

    def _on_snapshot(self, msg: SnapshotMessage) -> None:
        mismatch = contract_mismatch(msg.data.contract)
        if mismatch is not None:
            raise Incompatible(msg.data.contract or 0, too_new=mismatch)
        previous = self.store.state.hub_id
        if previous is not None and previous != msg.hub_id:
            log.info("hub changed (%s -> %s): starting from its snapshot", previous, msg.hub_id)
        self._heartbeat = max(1.0, msg.data.heartbeat_seconds)
        self.store.apply_snapshot(msg)
        self.last_sync = "snapshot"
        self._went_live(f"snapshot at seq {msg.seq}")

    def _on_resumed(self, msg: ResumedMessage) -> None:
        state = self.store.state
        if state.last_seq is None or msg.hub_id != state.hub_id or msg.from_seq > state.last_seq:
            # Resuming past our position would silently skip events: ask for a snapshot.
            self._force_snapshot = True
            raise _Resync(
                f"hub {msg.hub_id} resumed from {msg.from_seq}, we are at "
                f"{state.last_seq} of hub {state.hub_id}"
            )
        self.store.set_connection(ConnectionState.LIVE)
        if msg.seq <= state.last_seq:
            self.store.apply_heartbeat(msg.seq)  # nothing missed: what we have is current
        self.last_sync = "resumed"
        self._went_live(f"resumed from seq {msg.from_seq} to {msg.seq}")

    def _on_heartbeat(self, msg: HeartbeatMessage) -> None:
        if not self._synced:
            log.warning("ignored heartbeat before snapshot/resumed")
            return
        self.store.apply_heartbeat(msg.seq)

    def _on_error(self, msg: ErrorMessage) -> None:
        if msg.code == "unauthorized":
            raise Unauthorized(f"the hub refused the token: {msg.message}")
        if msg.code == "rate_limited":
            wait = msg.details.get("retry_after_seconds")
            raise RateLimited(
                f"the hub refused the token: {msg.message}",
                float(wait) if isinstance(wait, int | float) else RateLimited.wait_in(msg.message),
            )
        log.warning("hub reported an error %s: %s", msg.code, msg.message)
        self.last_error = f"hub error {msg.code}: {msg.message}"

    def _on_event(self, event: Event) -> None:
        if not self._synced:
            log.warning("ignored event seq=%s before snapshot/resumed", event.seq)
            return
        self.store.apply_event(event)

    def _went_live(self, how: str) -> None:
        if not self._synced:
            log.info("event stream live (%s)", how)
        self._synced = True
        self._tried_since_live = 0
        self._kick.clear()  # a kick from before this session was answered by it
        self._backoff.reset()
        self._hold_until = 0.0
        self.last_error = None
        self.store.set_problem(None)
        self._stop_poller()

    def _link_down(
        self, reason: str, *, offline: bool = False, error: ClientError | None = None
    ) -> None:
        if reason != self.last_error:
            log.info("event stream down: %s", reason)
        self.last_error = reason
        if error is not None:
            self.store.set_problem(problem_from(error, self.base_url))
        if offline:
            self.store.set_connection(ConnectionState.OFFLINE)
        elif self.store.state.connection is ConnectionState.LIVE:
            # Until polling answers we cannot claim either "live" or "polling".
            self.store.set_connection(ConnectionState.CONNECTING)
        self._start_poller()

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` before reconnecting, unless :meth:`kick` says "now"."""
        if not self._kick.is_set() and delay > 0:
            log.debug("reconnecting in %.2f s", delay)
            sleeper = asyncio.create_task(self._clock.sleep(delay), name=_TASK_PREFIX + "backoff")
            kicked = asyncio.create_task(self._kick.wait(), name=_TASK_PREFIX + "kick-wait")
            try:
                await asyncio.wait({sleeper, kicked}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, kicked):
                    task.cancel()
                await asyncio.gather(sleeper, kicked, return_exceptions=True)
        if self._kick.is_set():
            self._kick.clear()
            self._backoff.reset()

    async def _send(self, frame: str) -> None:
        ws = self._ws
        if ws is None:
            return  # the next hello names every topic
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame)

    async def _close_socket(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    # -- polling fallback -------------------------------------------------------------

    def _start_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = self._spawn(self._poll_loop(), "poll")

    def _stop_poller(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def _poll_loop(self) -> None:
        while True:
            held = self._hold_until - self._clock.monotonic()
            if held > 0:  # the hub asked to wait; a poll now would be refused unread
                await self._clock.sleep(held)
                continue
            await self._poll_once()
            await self._clock.sleep(self._poll_interval)

    async def _poll_once(self) -> None:
        try:
            footer = await self._fetch_footer()
        except ClientError as exc:
            if self._synced:
                return
            if isinstance(exc, RateLimited):
                self._hold_until = self._clock.monotonic() + exc.retry_after
            if isinstance(exc, Unauthorized | Incompatible) or self.last_error is None:
                self.last_error = str(exc)
            log.info("footer poll failed: %s", exc)
            self.store.set_problem(problem_from(exc, self.base_url))
            self.store.set_connection(ConnectionState.OFFLINE)
            return
        if self._synced:
            return  # the stream came back while we asked; its data is newer
        self._heard()
        self.store.apply_footer(footer, polled=True, hub_id=self._rest.hub_id)

    async def _fetch_footer(self) -> FooterData:
        """The footer over REST, in a request :meth:`aclose` lets finish (briefly) rather
        than cancel: httpx cancelled inside a TLS handshake leaves its socket to the GC."""
        request = asyncio.ensure_future(self._rest.fetch_footer())
        self._requests.add(request)
        request.add_done_callback(self._requests.discard)
        return await asyncio.shield(request)

    async def _initial_fetch(self) -> None:
        """Paint from REST at once; the socket's snapshot, if first, makes this moot."""
        try:
            footer = await self._fetch_footer()
        except ClientError as exc:
            log.info("initial footer fetch failed: %s", exc)
            if isinstance(exc, Unauthorized | Incompatible):
                self.last_error = str(exc)
                if not self._synced:
                    self.store.set_problem(problem_from(exc, self.base_url))
            return
        if not self._synced:
            self._heard()
            self.store.apply_footer(footer, polled=False, hub_id=self._rest.hub_id)

    # -- watchdog ---------------------------------------------------------------------

    async def _watchdog(self) -> None:
        tick = self._watchdog_interval
        mono, wall = self._clock.monotonic(), self._clock.wall()
        while True:
            await self._clock.sleep(tick)
            now_mono, now_wall = self._clock.monotonic(), self._clock.wall()
            if now_wall - wall > 2 * tick:
                # Monotonic time does not run during a suspend; wall time does. A socket
                # that slept through that is probably dead even if it looks open.
                log.info(
                    "wall clock jumped %.0f s during a %.0f s tick (suspend/resume?): reconnecting",
                    now_wall - wall,
                    now_mono - mono,
                )
                self.kick()
            mono, wall = now_mono, now_wall
            self._check_stale(now_mono)
            if self._cache is not None:
                self._cache.flush()

    def _check_stale(self, now: float) -> None:
        silence = now - self._last_heard
        if self._synced:
            limit = 2 * self._heartbeat
        else:
            # Polling answers only every poll_interval; do not flag stale between polls.
            limit = 2 * max(self._heartbeat, self._poll_interval)
        limit = max(limit, self._stale_after)
        if silence <= limit:
            return
        self.store.mark_stale()
        if self._synced and self._ws is not None:
            log.warning(
                "nothing from the hub for %.0f s: the stream is dead, reconnecting", silence
            )
            self.kick()

    def _heard(self) -> None:
        self._last_heard = self._clock.monotonic()

    # -- plumbing ---------------------------------------------------------------------

    def _on_store_change(self, state: StatusState) -> None:
        """Cache each new, fresh footer (throttled inside the cache)."""
        if self._cache is None or state.footer is None or state.stale:
            return
        if state.footer is self._cached_footer and state.role == self._cached_role:
            return
        self._cached_footer, self._cached_role = state.footer, state.role
        self._cache.save(state.footer, state.role, state.updated_at, state.hub_id)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name)

    async def _finish_requests(self) -> None:
        requests = set(self._requests)
        if requests:
            _done, pending = await asyncio.wait(requests, timeout=CLOSE_GRACE_SECONDS)
            for request in pending:
                request.cancel()
            results = await asyncio.gather(*requests, return_exceptions=True)
            del results  # their errors were the tasks' to report; the client is closing

    async def _cancel_tasks(self) -> None:
        await self._tasks.cancel_all()
        self._poller = None


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS context for ``verify``: True checks against the system's CAs, a path
    against that CA bundle only (a private CA), False checks nothing (say so loudly)."""
    if verify is False:
        log.warning("TLS certificate verification is OFF for this hub")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if verify is True:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=verify)


def ca_bundle_problem(path: str) -> str | None:
    """Why ``path`` cannot serve as a profile's CA bundle, in the user's words; None if it
    can. Checked when the setting is saved, so a wrong file is said there and then rather
    than as every connection failing TLS later."""
    file = Path(path).expanduser()
    if not file.is_file():
        return f"there is no file {str(file)!r}"
    try:
        text = file.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        return f"{str(file)!r} cannot be read ({exc.strerror or exc})"
    if "-----BEGIN CERTIFICATE-----" not in text:
        return f"{str(file)!r} is not a PEM certificate bundle (no BEGIN CERTIFICATE block)"
    try:
        ssl.create_default_context(cafile=str(file))
    except (ssl.SSLError, ValueError) as exc:
        return f"{str(file)!r} holds no usable certificate ({exc})"
    return None


def http_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """``verify`` as httpx takes it: it deprecates a CA path; a context says the same.
    True: the process's one verifying context (each client would load the CA bundle again)."""
    if isinstance(verify, str):
        return tls_context(verify)
    return verified_context() if verify else False


def _salvage_event(raw: str | bytes) -> Event | None:
    """The envelope of an event whose data is malformed, so its ``seq`` still counts."""
    try:
        obj = decode_json(raw, "event")
        if not isinstance(obj, dict) or "." not in str(obj.get("type", "")):
            return None
        return parse_model(Event, obj, "event")
    except ProtocolError:
        return None
