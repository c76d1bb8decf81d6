"""Alerts: one state machine per service, notices on the bus at once, external escalation.

Per service the manager keeps a *confirmed* status: a failing status is confirmed after
``failures_before_down`` consecutive failing checks, healthy after
``successes_before_healthy`` passing ones (defaults 1/1: every change counts, as in seed
001). ``unknown`` readings are no evidence either way: they neither open nor close an
incident (a hub that lost its own network must not page).

An incident opens when the confirmed status leaves healthy and fires ``alert.fired`` on the
bus at once. If it is still open ``escalation_delay_seconds`` after that notice, it goes to
the external channel (webhook / Slack) through the outbox, once. A status change within the
incident (degraded → down) fires again; nothing repeats for the same status except
optional time-based reminders. Healthy again: ``alert.resolved`` once, and to the webhook
if it was escalated. Too many confirmed changes in a short span (``flap_transitions``
within ``flap_window_seconds``) turn the incident into one "flapping" notice that absorbs
the ups and downs until the service has been stable for a whole window.

Maintenance and mutes hold notices (nothing reaches the bus or the webhook); an incident
still open when they end is notified then. State and outbox rows are persisted together,
off the probe path, so a restart neither pages again nor loses a pending send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, Field, ValidationError

from studio_status import pace
from studio_status.backoff import EQUAL, backoff_delay
from studio_status.protocol import (
    Alert,
    AlertFired,
    AlertResolved,
    AlertState,
    HealthStatus,
    ServiceHealthChanged,
)
from studio_status.protocol.alerts import (
    FOREVER,
    AlertConfig,
    AlertConfigUpdate,
    AlertsView,
    ChannelTest,
    MaintenanceIn,
    MaintenanceWindow,
    Mute,
    ServiceAlerts,
)
from studio_status.tlsdefault import verified_context

from .channels import KeyringLookup, Notice, deliver, display_name
from .health_settings import HealthSettings
from .maintenance import MaintenanceBook
from .state import HealthState
from .store.alerts import AlertStore, OutboxRow
from .store.sqlite import SqlStore, StoreError

__all__ = ["AlertManager", "Incident", "Track"]

log = logging.getLogger("hub.alerts")

FAILING = (HealthStatus.DOWN, HealthStatus.DEGRADED)
SEND_TIMEOUT = 10.0
MAX_ATTEMPTS = 8
RETRY_BASE = 15.0
RETRY_MAX = 1800.0


class Incident(BaseModel):
    id: str
    status: HealthStatus
    message: str | None = None
    opened_at: datetime
    notified_at: datetime | None = None
    escalated_at: datetime | None = None
    delivered_at: datetime | None = None
    reminded_at: datetime | None = None
    flapping: bool = False


class Track(BaseModel):
    """What the manager remembers of one service (persisted as JSON)."""

    confirmed: HealthStatus | None = None
    fails: int = 0
    oks: int = 0
    changes: list[datetime] = Field(default_factory=list)
    incident: Incident | None = None


Publish = Callable[[str, BaseModel], object]


class AlertManager:
    def __init__(
        self,
        store: SqlStore,
        state: HealthState,
        settings: HealthSettings,
        *,
        clock: Callable[[], datetime],
        publish: Publish,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = AlertStore(store)
        self._state = state
        self.defaults = settings.alerts
        self.notify = settings.notify
        #: where ``${keyring:NAME}`` secrets come from; None: the system keyring
        self.secret_lookup: KeyringLookup | None = None
        self._deliver_lock = asyncio.Lock()  # one sender: a row is never sent twice at once
        self.tick_seconds = settings.alert_tick_seconds
        self._store_failing = False
        self._clock = clock
        self._publish = publish
        self._transport = transport
        self.maintenance = MaintenanceBook(settings.maintenance)
        self.configs: dict[str, AlertConfig] = {}
        self.tracks: dict[str, Track] = {}
        self.mutes: dict[str | None, Mute] = {}
        # what the last mute refresh saw (see _refresh_muted): the services it showed muted,
        # whether a hub-wide mute was on, and how many services there were
        self._shown: set[str] = set()
        self._shown_global = False
        self._seen = -1
        self._dirty: set[str] = set()
        self._outbox: list[tuple[str, str, str, str, dict[str, Any]]] = []
        self._wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self.rng = random.Random()  # retry jitter; a test seeds it
        # replicas (set by the hub): which services' state machines run here, this
        # replica's name on outbox claims, and how the others hear of a settings change
        self.owns: Callable[[str], bool] = lambda service: True
        self.claimant = "hub"
        #: replicas share one outbox: a notice another replica queued (and died before
        #: claiming) is only found by looking, so they tick; a lone hub knows its own
        self.shared_outbox = False
        self._outbox_next: datetime | None = None  # a lone hub's next retry, if any
        self.settings_changed: Callable[[], Awaitable[None]] | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self.configs = await self.store.load_configs()
        for name, raw in (await self.store.load_states()).items():
            try:
                self.tracks[name] = Track.model_validate(raw)
            except ValidationError:
                log.warning("alert state of %s unreadable; starting it afresh", name)
        self.mutes = {m.service: m for m in await self.store.load_mutes()}
        for window in await self.store.load_maintenance():
            self.maintenance.put(window)
        self._http = httpx.AsyncClient(
            timeout=SEND_TIMEOUT, transport=self._transport, verify=verified_context()
        )
        self._outbox_next = await self.store.next_due()  # left by an earlier run
        self._refresh_muted(publish=False)

    async def stop(self) -> None:
        with contextlib.suppress(StoreError):
            await self.flush()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def run(self) -> None:
        """Tick, persist and deliver: on every change, else when :meth:`idle_wait`
        says time alone may change something."""
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands
            # as the event fires, and the hub's stop then waits on this task for ever
            with contextlib.suppress(TimeoutError):
                # the tick ends flapping and holds, in the process's time (a sped-up demo)
                wait = self.idle_wait()
                async with asyncio.timeout(None if wait is None else pace.real(wait)):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.round()
            except StoreError as exc:  # kept in memory; retried next round
                if not self._store_failing:  # once per episode: it may tick many times a second
                    log.warning("alert state not persisted yet (kept in memory): %s", exc)
                    self._store_failing = True
            else:
                if self._store_failing:
                    log.info("alert state persisted again")
                    self._store_failing = False

    async def round(self) -> None:
        """One pass of the loop: time-based steps, persist, deliver what is due, and learn
        when the next retry is."""
        self.tick()
        await self.flush()
        await self.deliver_due()
        if not self.shared_outbox:
            self._outbox_next = await self.store.next_due()

    def idle_wait(self) -> float | None:
        """How long the loop may sleep before time alone changes something: a tick while
        an incident is open here, a mute runs out, a write is still owed or replicas share
        the outbox; else the next retry of a queued notice; else until woken (a result,
        a mute, a setting). An idle hub with every service healthy then wakes for nothing
        (it ticked every few seconds, claiming an empty outbox each time). A retry is
        awaited for at most a minute, so a wall clock that jumps cannot postpone it long."""
        if (
            self.shared_outbox
            or self._store_failing
            or self._dirty
            or self._outbox
            or any(m.until is not None for m in self.mutes.values())
            or any(t.incident is not None and self.owns(s) for s, t in self.tracks.items())
        ):
            return self.tick_seconds
        if self._outbox_next is None:
            return None
        due = (self._outbox_next - self._clock()).total_seconds()
        return min(max(due, 0.0), self.tick_seconds * 12)

    # -- config -----------------------------------------------------------------------

    def config(self, service: str) -> AlertConfig:
        return self.configs.get(service, self.defaults)

    async def update_config(self, service: str, update: AlertConfigUpdate) -> AlertConfig:
        """Merge the given fields onto the current config; ValidationError names a field."""
        merged = {
            **self.config(service).model_dump(),
            **update.model_dump(exclude_unset=True),
        }
        config = AlertConfig.model_validate(merged)
        await self.store.save_config(service, config, self._clock())
        self.configs[service] = config
        await self._changed()
        return config

    # -- mutes and maintenance --------------------------------------------------------

    def flapping(self) -> list[str]:
        """Services whose open incident is flapping (the snapshot tells clients)."""
        return sorted(
            name
            for name, t in self.tracks.items()
            if t.incident is not None and t.incident.flapping
        )

    def muted_until(self, service: str, now: datetime | None = None) -> datetime | None:
        now = now or self._clock()
        ends = []
        for scope in (service, None):
            mute = self.mutes.get(scope)
            if mute is not None and (mute.until is None or mute.until > now):
                ends.append(mute.until or FOREVER)
        return max(ends) if ends else None

    def held(self, service: str, now: datetime) -> bool:
        """Whether notices for ``service`` wait: muted, in maintenance, or alerts off."""
        return (
            self.muted_until(service, now) is not None
            or self.maintenance.active(service, now)
            or not self.config(service).enabled
        )

    async def mute(
        self, service: str | None, duration: timedelta | None, actor: str, reason: str | None
    ) -> Mute:
        now = self._clock()
        mute = Mute(
            service=service,
            until=None if duration is None else now + duration,
            reason=reason,
            set_by=actor,
            set_at=now,
        )
        await self.store.set_mute(mute)
        self.mutes[service] = mute
        self._refresh_muted()
        await self._changed()
        return mute

    async def unmute(self, service: str | None) -> bool:
        cleared = await self.store.clear_mute(service)
        self.mutes.pop(service, None)
        self._refresh_muted()
        self._wake.set()  # held incidents are notified now
        await self._changed()
        return cleared

    def _refresh_muted(self, *, publish: bool = True, full: bool = True) -> None:
        """Mirror mutes into ``ServiceHealth.muted_until`` so the app can show them.

        ``full=False`` (the tick) visits only the services a mute can touch: those with a
        mute of their own and those shown muted since the last visit, or every service while
        a hub-wide mute is (or was) on. The tick runs every second, and a walk of every
        service there made each replica's cost grow with the group's service count.
        """
        now = self._clock()
        expired = [s for s, m in self.mutes.items() if m.until is not None and m.until <= now]
        for scope in expired:
            del self.mutes[scope]
        services = self._state.services
        if full or None in self.mutes or self._shown_global or len(services) != self._seen:
            names: Iterable[str] = list(services)
        else:
            names = {s for s in self.mutes if s is not None} | self._shown
        self._seen = len(services)
        self._shown_global = None in self.mutes
        for name in names:
            current = services.get(name)
            if current is None:
                self._shown.discard(name)
                continue
            until = self.muted_until(name, now)
            if until is None:
                self._shown.discard(name)
            else:
                self._shown.add(name)
            if current.muted_until == until:
                continue
            updated = current.model_copy(update={"muted_until": until})
            services[name] = updated
            if publish and self.owns(name):  # the others hear it from the owner
                self._publish(
                    "service.health_changed",
                    ServiceHealthChanged(service=name, previous=current.status, current=updated),
                )

    async def add_maintenance(self, window: MaintenanceIn, actor: str) -> MaintenanceWindow:
        entry = MaintenanceWindow(
            id=uuid.uuid4().hex[:12], created_by=actor, source="api", **window.model_dump()
        )
        await self.store.add_maintenance(entry, self._clock())
        self.maintenance.put(entry)
        await self._changed()
        return entry

    async def remove_maintenance(self, window_id: str) -> bool:
        window = self.maintenance.windows.get(window_id)
        if window is None or window.source != "api":
            return False
        await self.store.delete_maintenance(window_id)
        self.maintenance.remove(window_id)
        self._wake.set()
        await self._changed()
        return True

    # -- replicas ---------------------------------------------------------------------

    async def _changed(self) -> None:
        if self.settings_changed is not None:
            await self.settings_changed()

    async def reload_settings(self) -> None:
        """Another replica changed configs, mutes or maintenance: read them again."""
        self.configs = await self.store.load_configs()
        self.mutes = {m.service: m for m in await self.store.load_mutes()}
        stored = {w.id: w for w in await self.store.load_maintenance()}
        for window_id, window in list(self.maintenance.windows.items()):
            if window.source == "api" and window_id not in stored:
                self.maintenance.remove(window_id)
        for window in stored.values():
            self.maintenance.put(window)
        self._refresh_muted()
        self._wake.set()

    async def adopt(self, service: str) -> None:
        """This replica now checks ``service``: continue its state machine from storage."""
        raw = await self.store.load_state(service)
        self.tracks.pop(service, None)
        if raw is not None:
            with contextlib.suppress(ValidationError):
                self.tracks[service] = Track.model_validate(raw)

    async def release(self, service: str) -> None:
        """Another replica takes ``service`` over: leave it its state, saved."""
        with contextlib.suppress(StoreError):
            await self.flush()
        self.tracks.pop(service, None)

    # -- the state machine (probe path: memory only) ----------------------------------

    def observe(
        self, service: str, status: HealthStatus, message: str | None, at: datetime
    ) -> None:
        if status is HealthStatus.UNKNOWN:
            return
        cfg = self.config(service)
        track = self.tracks.setdefault(service, Track())
        failing = status in FAILING
        if failing:
            track.fails, track.oks = track.fails + 1, 0
        else:
            track.fails, track.oks = 0, track.oks + 1
        previous = track.confirmed
        confirmed: HealthStatus | None
        if previous is None:
            confirmed = status if failing or track.oks >= cfg.successes_before_healthy else None
            if confirmed is not None and failing and track.fails < cfg.failures_before_down:
                confirmed = None
        elif failing:
            confirmed = status if track.fails >= cfg.failures_before_down else previous
        else:
            confirmed = (
                HealthStatus.HEALTHY if track.oks >= cfg.successes_before_healthy else previous
            )
        self._dirty.add(service)
        if confirmed is None or confirmed is previous:
            if track.incident is not None and failing and message:
                track.incident.message = message
            return
        track.confirmed = confirmed
        self._transition(service, track, cfg, previous, confirmed, message, at)
        self._wake.set()

    def _transition(  # noqa: PLR0917 - one call site; the values are all of one step
        self,
        service: str,
        track: Track,
        cfg: AlertConfig,
        previous: HealthStatus | None,
        confirmed: HealthStatus,
        message: str | None,
        at: datetime,
    ) -> None:
        if previous is not None:
            window = timedelta(seconds=cfg.flap_window_seconds)
            track.changes = [t for t in track.changes if at - t < window] + [at]
        incident = track.incident
        failing = confirmed in FAILING
        if incident is not None and incident.flapping:
            incident.status = confirmed  # absorbed: one notice covers the whole episode
            return
        if len(track.changes) >= cfg.flap_transitions:
            if incident is None:
                incident = track.incident = self._open(service, confirmed, message, at)
            incident.flapping = True
            incident.notified_at = None  # the flapping notice replaces the pending one
            log.warning(
                "%s is flapping: %d changes in %ds",
                service,
                len(track.changes),
                cfg.flap_window_seconds,
            )
            self._notify(service, incident, at)
            return
        if failing:
            if incident is None:
                track.incident = incident = self._open(service, confirmed, message, at)
                self._notify(service, incident, at)
            else:
                incident.status, incident.message = confirmed, message
                if incident.notified_at is not None and not self.held(service, at):
                    self._fire(service, incident, changed=True)
                    if incident.escalated_at is not None:
                        self._send(service, incident, "changed")
            return
        if incident is not None:
            self._resolve(service, track, incident, at)

    def _open(
        self, service: str, status: HealthStatus, message: str | None, at: datetime
    ) -> Incident:
        log.info("%s: incident opened (%s) %s", service, status.value, message or "")
        return Incident(id=uuid.uuid4().hex[:16], status=status, message=message, opened_at=at)

    def _alert(self, service: str, incident: Incident, **details: Any) -> Alert:
        return Alert(
            id=incident.id,
            service=service,
            state=AlertState.FIRING,
            status=incident.status,
            message=incident.message,
            fired_at=incident.opened_at,
            details={
                "flapping": incident.flapping,
                "escalated_at": incident.escalated_at,
                "delivered_at": incident.delivered_at,
                **details,
            },
        )

    def _fire(self, service: str, incident: Incident, **details: Any) -> None:
        self._publish("alert.fired", AlertFired(alert=self._alert(service, incident, **details)))

    def _notify(self, service: str, incident: Incident, at: datetime) -> None:
        """First notice of an incident (or of its flapping), unless notices are held."""
        if self.held(service, at):
            return
        incident.notified_at = at
        self._fire(service, incident)

    def _resolve(self, service: str, track: Track, incident: Incident, at: datetime) -> None:
        track.incident = None
        log.info("%s: incident resolved", service)
        if incident.notified_at is None:
            return  # never shown (held throughout): nothing to take back
        alert = self._alert(service, incident).model_copy(
            update={"state": AlertState.RESOLVED, "status": HealthStatus.HEALTHY, "resolved_at": at}
        )
        self._publish("alert.resolved", AlertResolved(alert=alert))
        if incident.escalated_at is not None:
            self._send(service, incident, "resolved", alert)

    def tick(self, now: datetime | None = None) -> None:
        """Time-based steps: expired mutes, held notices, escalation, reminders, the end of
        flapping."""
        now = now or self._clock()
        self._refresh_muted(full=False)
        for service, track in self.tracks.items():
            incident = track.incident
            if incident is None or not self.owns(service):
                continue
            cfg = self.config(service)
            if incident.flapping and (
                not track.changes
                or (now - track.changes[-1]).total_seconds() >= cfg.flap_window_seconds
            ):
                incident.flapping = False
                self._dirty.add(service)
                log.info("%s stopped flapping (%s)", service, track.confirmed)
                if track.confirmed not in FAILING:
                    self._resolve(service, track, incident, now)
                    continue
                if incident.notified_at is not None and not self.held(service, now):
                    self._fire(service, incident, changed=True)  # clients: no longer flapping
            if self.held(service, now):
                continue
            if incident.notified_at is None:
                self._dirty.add(service)
                self._notify(service, incident, now)
                continue
            due = incident.notified_at + timedelta(seconds=cfg.escalation_delay_seconds)
            if incident.escalated_at is None and now >= due:
                self._dirty.add(service)
                incident.escalated_at = now
                self._send(service, incident, "flapping" if incident.flapping else "fired")
            if cfg.reminder_seconds is not None:
                last = incident.reminded_at or incident.notified_at
                if (now - last).total_seconds() >= cfg.reminder_seconds:
                    self._dirty.add(service)
                    incident.reminded_at = now
                    self._fire(service, incident, reminder=True)
                    if incident.escalated_at is not None:
                        self._send(service, incident, "reminder")

    # -- external channel -------------------------------------------------------------

    def _send(
        self, service: str, incident: Incident, kind: str, alert: Alert | None = None
    ) -> None:
        cfg = self.config(service)
        alert = alert or self._alert(service, incident)
        text = _text(service, kind, alert)
        notice = Notice(kind, _title(service, kind, alert), text)
        for url in self.notify.urls_for(service):
            self._outbox.append((incident.id, service, kind, url, notice.payload()))
        external = {"webhook", "slack"} & set(cfg.channels)
        if cfg.webhook_url is None or not external:
            return
        if "slack" in external:
            payload: dict[str, Any] = {"text": text}
        else:
            payload = {
                "type": f"alert.{kind}",
                "service": service,
                "status": alert.status.value,
                "text": text,
                "alert": alert.model_dump(mode="json"),
            }
        self._outbox.append((incident.id, service, kind, str(cfg.webhook_url), payload))
        self._dirty.add(service)

    async def flush(self) -> None:
        """Persist changed states with the notices they produced (one transaction)."""
        if not self._dirty and not self._outbox:
            return
        dirty, outbox = set(self._dirty), list(self._outbox)
        states = {
            name: self.tracks[name].model_dump(mode="json") for name in dirty if name in self.tracks
        }
        await self.store.save_states(states, outbox, self._clock())
        self._dirty -= dirty
        del self._outbox[: len(outbox)]

    async def deliver_due(self) -> int:
        """Try every due outbox row once; returns how many were sent."""
        if self._http is None:
            return 0
        sent = 0
        async with self._deliver_lock:
            for row in await self.store.due(self._clock(), owner=self.claimant):
                if await self._attempt(row) is None:
                    sent += 1
        return sent

    async def send_test(self, service: str, actor: str) -> list[ChannelTest]:
        """A test notice to every external channel of ``service``, through the outbox like
        any other (a failed one is retried); answers how the first attempt went."""
        cfg = self.config(service)
        now = self._clock()
        text = f"🧪 Test notification for {service}, sent by {actor} from Studio Status"
        notice = Notice("test", f"Studio Status: test for {service}", text)
        rows = [(url, notice.payload()) for url in self.notify.urls_for(service)]
        if cfg.webhook_url is not None and {"webhook", "slack"} & set(cfg.channels):
            body: dict[str, Any] = (
                {"text": text}
                if "slack" in cfg.channels
                else {"type": "alert.test", "service": service, "text": text}
            )
            rows.append((str(cfg.webhook_url), body))
        if not rows:
            return []
        test_id = f"test-{uuid.uuid4().hex[:12]}"
        async with self._deliver_lock:
            queued = [(test_id, service, "test", url, payload) for url, payload in rows]
            await self.store.save_states({}, queued, now)
            out = []
            for row in await self.store.due(now, owner=self.claimant, alert_id=test_id):
                if row.alert_id == test_id:
                    error = await self._attempt(row)
                    channel = display_name(row.url)
                    out.append(ChannelTest(channel=channel, sent=error is None, error=error))
        return out

    async def _attempt(self, row: OutboxRow) -> str | None:
        """One delivery attempt of a row, recorded; the error, or None once sent."""
        error = await self._post(row)
        now = self._clock()
        if error is None:
            await self.store.mark_sent(row.id, now)
            self._delivered(row, now)
            return None
        channel = display_name(row.url)
        attempt = row.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            log.error(
                "alert %s for %s: %s failed %d times, giving up: %s",
                row.kind,
                row.service,
                channel,
                attempt,
                error,
            )
            await self.store.mark_attempt(row.id, error, None, now)
            return error
        delay = backoff_delay(attempt - 1, RETRY_BASE, RETRY_MAX, spread=EQUAL, rng=self.rng)
        log.warning(
            "alert %s for %s: %s failed (attempt %d, retry in %.0fs): %s",
            row.kind,
            row.service,
            channel,
            attempt,
            delay,
            error,
        )
        await self.store.mark_attempt(row.id, error, now + timedelta(seconds=delay), None)
        self._wake.set()  # the loop learns the retry time (it may be asleep until woken)
        return error

    async def _post(self, row: OutboxRow) -> str | None:
        assert self._http is not None
        notice = Notice.from_payload(row.payload)
        if notice is not None:
            timeout = self.notify.timeout_seconds
            if self.secret_lookup is None:
                return await deliver(row.url, notice, limit_seconds=timeout)
            return await deliver(row.url, notice, limit_seconds=timeout, lookup=self.secret_lookup)
        try:
            resp = await self._http.post(row.url, json=row.payload)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if resp.status_code >= 300:
            return f"HTTP {resp.status_code}"
        return None

    def _delivered(self, row: OutboxRow, at: datetime) -> None:
        track = self.tracks.get(row.service)
        incident = track.incident if track else None
        if incident is not None and incident.id == row.alert_id and incident.delivered_at is None:
            incident.delivered_at = at
            self._dirty.add(row.service)

    # -- views ------------------------------------------------------------------------

    def view(self, services: list[str]) -> AlertsView:
        now = self._clock()
        out = []
        for name in services:
            track = self.tracks.get(name)
            incident = track.incident if track else None
            out.append(
                ServiceAlerts(
                    service=name,
                    config=self.config(name),
                    alert=None if incident is None else self._alert(name, incident),
                    muted_until=self.muted_until(name, now),
                    in_maintenance=self.maintenance.active(name, now),
                )
            )
        return AlertsView(
            services=out,
            mutes=list(self.mutes.values()),
            maintenance=list(self.maintenance.windows.values()),
        )


def _title(service: str, kind: str, alert: Alert) -> str:
    match kind:
        case "resolved":
            return f"{service} recovered"
        case "flapping":
            return f"{service} is flapping"
        case "reminder":
            return f"{service} still {alert.status.value}"
        case _:
            return f"{service} is {alert.status.value}"


def _text(service: str, kind: str, alert: Alert) -> str:
    since = alert.fired_at.strftime("%Y-%m-%d %H:%M UTC")
    detail = f": {alert.message}" if alert.message else ""
    match kind:
        case "resolved":
            return f"✅ {service} recovered (incident since {since})"
        case "flapping":
            return f"🟠 {service} is flapping (changing status repeatedly since {since})"
        case "reminder":
            return f"⏰ {service} still {alert.status.value}{detail} (since {since})"
        case _:
            return f"🔴 {service} is {alert.status.value}{detail} (since {since})"
