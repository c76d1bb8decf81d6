"""Cloud GPUs: the budget, the cost ledger, and the service that keeps pods current.

Pods come from providers: RunPod is polled (:mod:`.sources.runpod`); any other cloud pushes
its complete pod list (``POST /api/v1/cloud/pods``). Either way they land in
:meth:`CloudService.apply`, which publishes ``cloud.pod_status_changed`` for what changed,
advances the cost ledger and refreshes the footer's ``cloud_gpu`` summary.

A provider error never empties the pod list: the last pods stay (billing does not stop
because the API is down) and the ``cloud`` service in the health view turns degraded. A
pushing provider that falls silent turns that service ``unknown`` rather than staying green.

Spend is the integral of the observed total cost rate over time, kept per UTC day (the
day RunPod bills by) in exact integer units of cent-microseconds per hour. Gaps longer than
:data:`MAX_GAP` (the hub was down) are not guessed at: nothing was observed, so nothing is
added. All of it runs on an injected clock so tests can replay hours in microseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx

from studio_status.backoff import EQUAL, backoff_delay
from studio_status.protocol import (
    BudgetStatus,
    CloudGpuSummary,
    CloudPod,
    CloudPodStatusChanged,
    HealthStatus,
    utcnow,
    worst_status,
)
from studio_status.protocol.cloud import (
    ERROR_POD_STATUSES,
    RUNNING_POD_STATUSES,
    BudgetState,
    CloudCosts,
    CloudPodsView,
    CloudProvider,
    CostPoint,
    DaySpend,
    PodsPushResult,
)
from studio_status.tlsdefault import verified_context

from .checks.base import CheckResult
from .config import CloudSettings
from .sources.runpod import RunPodClient, RunPodError
from .store import cloud as cloud_store

if TYPE_CHECKING:
    from .service import Hub

__all__ = [
    "CLOUD_SERVICE",
    "Budget",
    "CloudService",
    "CostLedger",
    "budget_of",
    "budget_status",
    "budget_summary",
    "forecast_month",
    "runpod_api_key",
    "summarize",
]

log = logging.getLogger("hub.cloud")

#: The health-view service that stands for the cloud sources.
CLOUD_SERVICE = "cloud"
KEYRING_SERVICE, KEYRING_USER = "studio-status", "runpod"
KEY_ENV = "RUNPOD_API_KEY"
KEY_LOOKUP_SECONDS = 10.0

MAX_GAP = timedelta(minutes=15)
TICK_SECONDS = 60.0
SAMPLE_EVERY = timedelta(minutes=5)
_UNITS_PER_CENT = 3_600_000_000  # (cents/hour) x microseconds -> cents
_MONTH_DAYS_KEPT = 400


@dataclass(frozen=True)
class Budget:
    per_hour_cents: int | None = None
    per_month_cents: int | None = None
    approaching_percent: float = 80.0


def budget_of(settings: CloudSettings) -> Budget:
    """The ``[cloud]`` budget in cents."""

    def cents(usd: float | None) -> int | None:
        return None if usd is None else round(usd * 100)

    return Budget(
        per_hour_cents=cents(settings.budget_per_hour),
        per_month_cents=cents(settings.budget_per_month),
        approaching_percent=settings.approaching_percent,
    )


# -- budget (pure) --------------------------------------------------------------------


def running(pods: Iterable[CloudPod]) -> list[CloudPod]:
    return [p for p in pods if p.status.upper() in RUNNING_POD_STATUSES]


def budget_status(
    pods: Sequence[CloudPod], rate_cents: int, budget: Budget, spend_month_cents: float = 0.0
) -> BudgetStatus:
    """Seed 000's colours: error (a pod in error) > exceeded > approaching > within.

    The hourly cap is exceeded when the rate is above it; the monthly cap once the month's
    spend reaches it. "Approaching" is either at ``approaching_percent`` of its cap.
    """
    if any(p.status.upper() in ERROR_POD_STATUSES for p in pods):
        return BudgetStatus.ERROR
    share = budget.approaching_percent / 100
    hour, month = budget.per_hour_cents, budget.per_month_cents
    if (hour is not None and rate_cents > hour) or (
        month is not None and spend_month_cents >= month
    ):
        return BudgetStatus.EXCEEDED
    if (hour is not None and rate_cents >= hour * share) or (
        month is not None and spend_month_cents >= month * share
    ):
        return BudgetStatus.APPROACHING
    return BudgetStatus.WITHIN_BUDGET


def summarize(
    pods: Sequence[CloudPod], budget: Budget, spend_month_cents: float = 0.0
) -> CloudGpuSummary:
    """The footer's ``cloud_gpu`` segment for these pods."""
    active = running(pods)
    rate = sum(p.cost_per_hour_cents for p in active)
    return CloudGpuSummary(
        active_pods=len(active),
        cost_per_hour_cents=rate,
        budget_status=budget_status(pods, rate, budget, spend_month_cents),
    )


def budget_summary(pods: Sequence[CloudPod], cap_cents: int) -> CloudGpuSummary:
    """:func:`summarize` against an hourly cap only (the simulator's old entry point)."""
    return summarize(pods, Budget(per_hour_cents=cap_cents))


def _month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(now: datetime) -> datetime:
    start = _month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


def forecast_month(
    now: datetime, rate_cents: int, spend_month_cents: float, cap_cents: int | None
) -> tuple[float, datetime | None]:
    """(projected month spend, when the cap is reached) at the current rate.

    Reached already: ``now``. Not reached before the month ends (or no cap): None.
    """
    end = _next_month(now)
    hours_left = (end - now).total_seconds() / 3600
    projected = spend_month_cents + rate_cents * hours_left
    if cap_cents is None:
        return projected, None
    if spend_month_cents >= cap_cents:
        return projected, now
    if rate_cents <= 0:
        return projected, None
    reached = now + timedelta(hours=(cap_cents - spend_month_cents) / rate_cents)
    return projected, reached if reached < end else None


# -- ledger (pure) --------------------------------------------------------------------


@dataclass
class CostLedger:
    """Spend per UTC day, integrated from a piecewise-constant cost rate.

    ``advance(now, rate)`` charges the *previous* rate from the last observation up to
    ``now`` (split at midnights), then holds ``rate`` until the next call.
    """

    max_gap: timedelta = MAX_GAP
    days: dict[date, int] = field(default_factory=dict)  # cent-microseconds per hour
    at: datetime | None = None
    rate: int = 0

    def advance(self, now: datetime, rate: int | None = None) -> set[date]:
        touched: set[date] = set()
        if self.at is not None and now > self.at and now - self.at <= self.max_gap and self.rate:
            start = self.at
            while start < now:
                midnight = datetime.combine(
                    start.date() + timedelta(days=1), datetime.min.time(), UTC
                )
                end = min(now, midnight)
                micros = (end - start) // timedelta(microseconds=1)
                day = start.date()
                self.days[day] = self.days.get(day, 0) + self.rate * micros
                touched.add(day)
                start = end
        if self.at is None or now >= self.at:
            self.at = now
        if rate is not None:
            self.rate = rate
        return touched

    def spend_day(self, day: date) -> float:
        return self.days.get(day, 0) / _UNITS_PER_CENT

    def spend_month(self, now: datetime) -> float:
        month = (now.year, now.month)
        return sum(v for d, v in self.days.items() if (d.year, d.month) == month) / _UNITS_PER_CENT

    def forget_before(self, day: date) -> None:
        for d in [d for d in self.days if d < day]:
            del self.days[d]


# -- keys -----------------------------------------------------------------------------


def runpod_api_key() -> str | None:
    """The RunPod key: ``RUNPOD_API_KEY`` first (explicit for this process), then the OS
    keyring entry studio-status/runpod. Never the config file."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return key
    try:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # no backend, locked, D-Bus trouble: all mean "no key"
        log.info("no keyring available for the RunPod key: %s", exc)
        return None
    return stored.strip() if stored else None


# -- the service ----------------------------------------------------------------------


@dataclass
class _Provider:
    name: str
    mode: Literal["poll", "push"]
    pods: dict[str, CloudPod] = field(default_factory=dict)
    status: HealthStatus = HealthStatus.UNKNOWN
    last_ok_at: datetime | None = None
    error: str | None = None

    def view(self) -> CloudProvider:
        return CloudProvider(
            name=self.name,
            mode=self.mode,
            status=self.status,
            pods=len(self.pods),
            last_ok_at=self.last_ok_at,
            error=self.error,
        )


class CloudService:
    """Pods per provider, the ledger, and the ``cloud`` health entry. See the module doc.

    ``transport``, ``key_lookup``, ``sleep`` and ``rng`` are seams for tests (recorded RunPod
    responses, a fixed key, a sleep the test releases).
    """

    def __init__(
        self,
        hub: Hub,
        settings: CloudSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.clock = clock
        self.transport: httpx.AsyncBaseTransport | None = None
        self.key_lookup: Callable[[], str | None] = runpod_api_key
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.rng = random.Random()
        self.providers: dict[str, _Provider] = {}
        self.ledger = CostLedger()
        self._last_sample: CostPoint | None = None
        self._save_lock = asyncio.Lock()
        self._pruned_day: date | None = None

    @property
    def enabled(self) -> bool:
        """Whether the footer shows a cloud segment: a provider is configured or has pushed."""
        return self.settings.provider != "none" or bool(self.providers)

    @property
    def budget(self) -> Budget:
        return budget_of(self.settings)

    def pods(self) -> list[CloudPod]:
        return [p for prov in self.providers.values() for p in prov.pods.values()]

    # -- lifecycle --------------------------------------------------------------------

    async def load(self) -> None:
        """Restore pods, providers and the ledger; register the ``cloud`` service so its
        history is restored with the others. Runs before the hub restores its state."""
        saved = await cloud_store.load(self.hub.store, self.clock() - timedelta(days=40))
        self.ledger.days = dict(saved.days)
        self.ledger.at, self.ledger.rate = saved.ledger_at, saved.ledger_rate
        for name, raw in saved.providers.items():
            prov = _Provider(name, "poll" if raw.get("mode") == "poll" else "push")
            prov.pods = {p.id: p for p in (CloudPod.model_validate(x) for x in raw["pods"])}
            if raw.get("last_ok_at") is not None:
                prov.last_ok_at = datetime.fromtimestamp(raw["last_ok_at"], UTC)
            self.providers[name] = prov
        if self.settings.provider == "runpod":
            self.providers.setdefault("runpod", _Provider("runpod", "poll")).mode = "poll"
        self._last_sample = saved.last_sample
        if self.enabled:
            self._ensure_service()
            self.hub.state.set_cloud(self.summary())

    def _ensure_service(self) -> None:
        self.hub.state.ensure_service(CLOUD_SERVICE, "Cloud GPU", "cloud")

    async def run(self) -> None:
        """Background work: the RunPod poll loop (when configured) and the periodic tick
        that keeps spend, budget and staleness moving between observations."""
        self._publish_summary()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._tick_loop(), name="cloud-tick")
            if self.settings.provider == "runpod":
                group.create_task(self._poll_loop(), name="cloud-poll")

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("cloud tick failed")

    async def _poll_loop(self) -> None:
        key = await self._find_key()
        while not key:
            self._provider_failed(
                "runpod",
                HealthStatus.DOWN,
                f"no API key: set {KEY_ENV} or `keyring set {KEYRING_SERVICE} {KEYRING_USER}`",
                "no_key",
            )
            await self.sleep(self.settings.max_backoff_seconds)
            key = await self._find_key()
        async with httpx.AsyncClient(
            transport=self.transport,
            timeout=self.settings.request_timeout_seconds,
            verify=verified_context(),
        ) as http:
            client = RunPodClient(
                http,
                key,
                api=self.settings.api,
                graphql_url=self.settings.graphql_url,
                rest_url=self.settings.rest_url,
            )
            failures = 0
            while True:
                failures = await self.poll_once(client, failures)
                await self.sleep(self.next_delay(failures, client.last_retry_after))

    async def _find_key(self) -> str | None:
        """Ask for the key on a daemon thread with a deadline: a keyring backend can block
        on D-Bus or an unlock prompt, and neither the poll loop nor the process's exit may
        wait on it (an executor thread would be joined at exit)."""
        loop = asyncio.get_running_loop()
        found: asyncio.Future[str | None] = loop.create_future()

        def settle(value: str | None) -> None:
            if not found.done():
                found.set_result(value)

        def lookup() -> None:
            try:
                value = self.key_lookup()
            except Exception as exc:
                log.warning("RunPod key lookup failed: %s", exc)
                value = None
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
                loop.call_soon_threadsafe(settle, value)

        threading.Thread(target=lookup, name="runpod-key", daemon=True).start()
        try:
            async with asyncio.timeout(KEY_LOOKUP_SECONDS):
                return await found
        except TimeoutError:
            log.warning("the keyring did not answer within %g s", KEY_LOOKUP_SECONDS)
            return None

    def next_delay(self, failures: int, retry_after: float | None = None) -> float:
        """The poll interval, doubled per consecutive failure up to the cap, and never
        shorter than a rate limit's Retry-After; jittered so that hubs sharing an API key
        do not retry in step."""
        poll = self.settings.poll_seconds
        if failures == 0:
            return poll
        cap = self.settings.max_backoff_seconds
        delay = backoff_delay(failures, poll, cap, spread=EQUAL, rng=self.rng)
        return max(delay, retry_after or 0.0)

    async def poll_once(self, client: RunPodClient, failures: int = 0) -> int:
        """One poll; returns the new count of consecutive failures."""
        started = self.clock()
        try:
            pods = await client.list_pods()
        except RunPodError as exc:
            log.warning("RunPod poll failed (%s): %s", exc.kind, exc)
            self._provider_failed("runpod", HealthStatus.DEGRADED, str(exc), exc.kind)
            await self.tick()
            return failures + 1
        latency = round((self.clock() - started).total_seconds() * 1000)
        await self.apply("runpod", pods, mode="poll", latency_ms=latency)
        return 0

    # -- pods in ----------------------------------------------------------------------

    async def apply(
        self,
        provider: str,
        pods: Sequence[CloudPod],
        *,
        mode: Literal["poll", "push"] = "push",
        at: datetime | None = None,
        latency_ms: int | None = None,
    ) -> PodsPushResult:
        """Take a provider's complete pod list: events for pods whose status or rate
        changed (a pod missing from the list is reported ``TERMINATED``), then the ledger,
        the footer and storage."""
        now = at or self.clock()
        first = not self.enabled
        prov = self.providers.setdefault(provider, _Provider(provider, mode))
        prov.mode = mode
        new = {p.id: p.model_copy(update={"provider": provider}) for p in pods}
        changes: list[tuple[CloudPod, str | None]] = []
        for pod_id, pod in new.items():
            old = prov.pods.get(pod_id)
            if old is None:
                changes.append((pod, None))
            elif old.status != pod.status or old.cost_per_hour_cents != pod.cost_per_hour_cents:
                changes.append((pod, old.status))
        for pod_id, old in prov.pods.items():
            if pod_id not in new and old.status != "TERMINATED":
                gone = old.model_copy(update={"status": "TERMINATED", "cost_per_hour_cents": 0})
                changes.append((gone, old.status))
        prov.pods = new
        prov.status, prov.error, prov.last_ok_at = HealthStatus.HEALTHY, None, now
        for pod, previous in changes:
            self.hub.bus.publish(
                "cloud.pod_status_changed", CloudPodStatusChanged(pod=pod, previous=previous)
            )
        if first:
            self._ensure_service()
        self._report_providers(latency_ms)
        await self.tick(now)
        return PodsPushResult(provider=provider, pods=len(new), changed=len(changes))

    def _provider_failed(self, name: str, status: HealthStatus, error: str, kind: str) -> None:
        """A polled provider failed: its pods stay as they were, its source is not healthy."""
        prov = self.providers.setdefault(name, _Provider(name, "poll"))
        prov.status, prov.error = status, error
        self._report_providers(extra={"error_kind": kind})

    def _details(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        summary = self.summary()
        return {
            "providers": {n: p.status.value for n, p in self.providers.items()},
            "active_pods": summary.active_pods,
            "cost_per_hour_cents": summary.cost_per_hour_cents,
            **(extra or {}),
        }

    def _report_providers(
        self, latency_ms: int | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        """Record the ``cloud`` service as the worst of its providers."""
        if not self.providers:
            return
        status = worst_status([p.status for p in self.providers.values()])
        worst = next(p for p in self.providers.values() if p.status is status)
        message = None if status is HealthStatus.HEALTHY else f"{worst.name}: {worst.error}"
        self._ensure_service()
        self.hub.record(
            CLOUD_SERVICE,
            CheckResult(
                status, latency_ms=latency_ms, error_message=message, details=self._details(extra)
            ),
            self.clock(),
        )

    # -- time passes ------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> None:
        """Charge the rate up to now, mark silent pushers unknown, refresh the footer,
        persist. Called after every observation and once a minute in between."""
        now = now or self.clock()
        stale = timedelta(seconds=self.settings.push_stale_seconds)
        went_stale = False
        for prov in self.providers.values():
            if (
                prov.mode == "push"
                and prov.status is HealthStatus.HEALTHY
                and prov.last_ok_at is not None
                and now - prov.last_ok_at > stale
            ):
                prov.status = HealthStatus.UNKNOWN
                prov.error = f"no push for {round((now - prov.last_ok_at).total_seconds())} s"
                went_stale = True
        if went_stale:
            self._report_providers()
        active = running(self.pods())
        rate = sum(p.cost_per_hour_cents for p in active)
        touched = self.ledger.advance(now, rate)
        sample = None
        last = self._last_sample
        if (
            last is None
            or last.cost_per_hour_cents != rate
            or last.active_pods != len(active)
            or now - last.at >= SAMPLE_EVERY
        ):
            sample = CostPoint(at=now, cost_per_hour_cents=rate, active_pods=len(active))
            self._last_sample = sample
        self._publish_summary(now)
        await self._save(touched, sample, now)

    def summary(self, now: datetime | None = None) -> CloudGpuSummary:
        now = now or self.clock()
        return summarize(self.pods(), self.budget, self.ledger.spend_month(now))

    def _publish_summary(self, now: datetime | None = None) -> None:
        if not self.enabled:
            return
        self.hub.state.set_cloud(self.summary(now))
        self.hub.publish_footer()

    async def _save(self, touched: set[date], sample: CostPoint | None, now: datetime) -> None:
        state = {
            "ledger": {
                "at": self.ledger.at.timestamp() if self.ledger.at else None,
                "rate": self.ledger.rate,
            },
            "providers": {
                name: {
                    "mode": prov.mode,
                    "last_ok_at": prov.last_ok_at.timestamp() if prov.last_ok_at else None,
                    "pods": [p.model_dump(mode="json") for p in prov.pods.values()],
                }
                for name, prov in self.providers.items()
            },
        }
        days = {d.isoformat(): self.ledger.days[d] for d in touched}
        prune = None
        if self._pruned_day != now.date():
            self._pruned_day = now.date()
            prune = now - timedelta(days=_MONTH_DAYS_KEPT)
            self.ledger.forget_before((_month_start(now) - timedelta(days=1)).date())
        try:
            async with self._save_lock:
                await cloud_store.save(self.hub.store, days, sample, state, prune_before=prune)
        except Exception as exc:  # memory stays right; the next save writes absolute totals
            log.warning("cloud costs not saved: %s", exc)

    # -- reads ------------------------------------------------------------------------

    def budget_state(self, now: datetime | None = None) -> BudgetState:
        now = now or self.clock()
        budget = self.budget
        summary = self.summary(now)
        spend_month = self.ledger.spend_month(now)
        projected, reached = forecast_month(
            now, summary.cost_per_hour_cents, spend_month, budget.per_month_cents
        )
        return BudgetState(
            status=summary.budget_status,
            cost_per_hour_cents=summary.cost_per_hour_cents,
            cap_per_hour_cents=budget.per_hour_cents,
            cap_per_month_cents=budget.per_month_cents,
            approaching_percent=budget.approaching_percent,
            spend_today_cents=round(self.ledger.spend_day(now.astimezone(UTC).date()), 6),
            spend_month_cents=round(spend_month, 6),
            month_projected_cents=round(projected, 6),
            month_cap_reached_at=reached,
            as_of=now,
        )

    def view(self, status: str | None = None) -> CloudPodsView:
        pods = self.pods()
        if status is not None:
            wanted = status.upper()
            pods = running(pods) if wanted == "RUNNING" else [p for p in pods if p.status == wanted]
        return CloudPodsView(
            pods=sorted(pods, key=lambda p: (p.provider, p.name or "", p.id)),
            summary=self.summary(),
            budget=self.budget_state(),
            providers=[p.view() for p in self.providers.values()],
        )

    async def costs(self, hours: float) -> CloudCosts:
        now = self.clock()
        series = await cloud_store.rate_series(self.hub.store, now - timedelta(hours=hours))
        start = _month_start(now).date()
        days = [
            DaySpend(day=d.isoformat(), spend_cents=round(self.ledger.spend_day(d), 6))
            for d in sorted(self.ledger.days)
            if d >= start
        ]
        return CloudCosts(budget=self.budget_state(now), series=series, days=days)
