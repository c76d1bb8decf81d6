"""Which changes become desktop notifications: pure rules (no Qt), chosen for an always-on
desktop, where a notification that tells nothing new is a cost.

The rules, each for a failure seen in use:

* **One incident, one notice.** Per subject (a service, the budget) the severity last told is
  kept; nothing is said until it changes.
* **Nothing from before the app was live, one by one.** At start, after a reconnect and
  after a resume from sleep the hub replays what was missed (seven stale transitions within
  50 ms after a 75 s sleep). Every notice dated before the moment the link went live (less
  :data:`REPLAY_SLACK` for clock skew) is history: it updates what was told, silently. Once
  the catch-up has settled (:data:`SETTLE`), one summary says what is still wrong, if
  anything is and it was not already told: "2 services down: DB, Workers".
* **Flapping is one notice.** A service the hub reports as flapping gives "X is flapping"
  once, and nothing more until the hub says it settled; then its state, if not yet told.
* **Degraded is told once it holds** (:data:`DEGRADED_HOLD`): a slow spell that is over in
  seconds is on the strip, not in a notification. Down is told at once.
* **A recovery is told once it holds.** "recovered" waits :data:`RECOVERY_HOLD`; if the
  service fails again meanwhile, the recovery was never news and the failure is the same
  incident (before the hub counts enough flips to call it flapping).
* **A burst is one notification.** What falls due within :data:`BURST` of the first is
  said together ("3 changes: DB down, ComfyUI degraded, …").
* **Job failures are batched** over :data:`JOB_BATCH`: "3 jobs failed in the last minute".

The policy's output is a plain list of :class:`Notification`; delivery (the desktop's
notifier, a balloon) is someone else's job. Time comes in as ``now``; :meth:`next_due`
tells the caller when to call :meth:`flush` next (a single-shot timer).

The user's preferences (:class:`~studio_status.appconfig.NotificationSettings`: which
transitions, quiet hours) are applied by :func:`wanted`; a notice held back by them still
counts as told, so the end of quiet hours does not replay the night. Each notification
carries its :attr:`Notification.key` (segment + subject): a desktop notifier replaces the
previous notice with the same key, and :attr:`Notification.segment` names the window a
click opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from studio_status.appconfig import NotificationSettings, Transition
from studio_status.client.state import ConnectionState, Notice, Segment, StatusState
from studio_status.protocol import BudgetStatus, FooterService, HealthStatus, Role, utcnow

from .formats import SERVICE_LABELS

__all__ = [
    "BURST",
    "DEGRADED_HOLD",
    "JOB_BATCH",
    "RECOVERY_HOLD",
    "REPLAY_SLACK",
    "SETTLE",
    "Notification",
    "NotificationGate",
    "wanted",
]

#: Notices dated this much before the link went live are still replay (hub/desktop skew).
REPLAY_SLACK = timedelta(seconds=5)
#: After going live, the catch-up is over when this has passed; then the summary.
SETTLE = timedelta(seconds=3)
#: Changes due within this of the first one are told together.
BURST = timedelta(seconds=4)
#: Degraded is told only if it held this long (down at once).
DEGRADED_HOLD = timedelta(seconds=20)
#: A recovery is told only if it held this long.
RECOVERY_HOLD = timedelta(seconds=60)
#: Job failures are counted over this window and told once.
JOB_BATCH = timedelta(seconds=60)

_BAD = (HealthStatus.DEGRADED, HealthStatus.DOWN)
_RANK = {HealthStatus.HEALTHY: 0, HealthStatus.UNKNOWN: 1, HealthStatus.DEGRADED: 2}
_RANK[HealthStatus.DOWN] = 3


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    severity: HealthStatus
    subject: str
    kind: Transition = Transition.SERVICE_DOWN
    segment: Segment = Segment.SERVICES

    @property
    def key(self) -> str:
        """One incident's identity: later notices with the same key replace this one."""
        return f"{self.segment.value}:{self.subject}"


def wanted(note: Notification, settings: NotificationSettings, local_now: time) -> bool:
    """True if the user wants ``note`` shown now (kind chosen, not in quiet hours)."""
    if not settings.enabled or note.kind not in settings.transitions:
        return False
    return not settings.is_quiet(local_now)


def _label(name: str, state: StatusState | None = None) -> str:
    if state is not None and state.footer is not None and state.footer.services:
        svc = state.footer.services.get(name)
        if svc is not None and svc.label:
            return svc.label
    return SERVICE_LABELS.get(name, name)


def _service(state: StatusState, name: str) -> FooterService | None:
    services = state.footer.services if state.footer is not None else None
    return services.get(name) if services else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class NotificationGate:
    """Feed it states (and the time); it returns the notifications worth showing now."""

    def __init__(self, started: datetime, kinds: frozenset[Transition] | None = None) -> None:
        #: the kinds the user wants at all (None: every kind); others are told silently,
        #: before bursts are merged, so a merged notice never smuggles one in
        self.kinds = kinds
        self._started = started
        self._last_id = 0
        self._told: dict[tuple[Segment, str], HealthStatus] = {}
        self._budget: BudgetStatus | None = None
        self._state: StatusState | None = None
        self._live = False
        self._live_since: datetime | None = None
        self._epoch: datetime | None = None
        self._summary_at: datetime | None = None
        self._flapping: set[str] = set()  # told as flapping, not yet settled
        self._recoveries: dict[str, tuple[datetime, Notification]] = {}
        self._degradations: dict[str, tuple[datetime, Notification]] = {}
        self._burst: list[Notification] = []
        self._burst_at: datetime | None = None
        self._jobs: list[Notification] = []
        self._jobs_at: datetime | None = None

    # -- input --------------------------------------------------------------------------

    def feed(self, state: StatusState, now: datetime | None = None) -> list[Notification]:
        """Take a new state; returns what is due now (see :meth:`flush` for the rest)."""
        now = now or utcnow()
        self._state = state
        self._track_link(state, now)
        notices = sorted(
            (n for seg in state.history.values() for n in seg if n.id > self._last_id),
            key=lambda n: n.id,
        )
        self._last_id = max(self._last_id, state.last_notice_id)
        self._track_flapping(state, now)
        for notice in notices:
            self._consider(notice, now)
        self._check_budget(state, now)
        return self.flush(now)

    def next_due(self) -> datetime | None:
        """When :meth:`flush` has something to say next (None: nothing is waiting)."""
        times = [self._summary_at, self._burst_at, self._jobs_at]
        times += [due for due, _note in self._recoveries.values()]
        times += [due for due, _note in self._degradations.values()]
        return min((t for t in times if t is not None), default=None)

    def flush(self, now: datetime | None = None) -> list[Notification]:
        """Everything that has fallen due by ``now``, bursts merged into one."""
        now = now or utcnow()
        if self._summary_at is not None and now >= self._summary_at:
            self._summary_at = None
            self._summarize(now)
        for name, (due, note) in list(self._degradations.items()):
            if now >= due:
                del self._degradations[name]
                self._told[(Segment.SERVICES, name)] = HealthStatus.DEGRADED
                self._queue(note, now)
        for name, (due, note) in list(self._recoveries.items()):
            if now >= due:
                del self._recoveries[name]
                self._told[(Segment.SERVICES, name)] = HealthStatus.HEALTHY
                self._queue(note, now)
        if self._jobs_at is not None and now >= self._jobs_at:
            self._jobs_at = None
            self._queue(self._job_batch(), now)
        if self._burst_at is None or now < self._burst_at:
            return []
        burst, self._burst, self._burst_at = self._burst, [], None
        return [_merge(burst)] if burst else []

    # -- rules --------------------------------------------------------------------------

    def _track_link(self, state: StatusState, now: datetime) -> None:
        live = state.connection is ConnectionState.LIVE and not state.stale
        epoch = state.live_since
        if epoch is not None:
            # the store's own mark: right even when this view saw no state in between
            if epoch != self._epoch:
                self._epoch = self._live_since = epoch
                self._summary_at = max(now, epoch) + SETTLE
        elif live and not self._live:
            self._live_since = now
            self._summary_at = now + SETTLE
        self._live = live

    def _is_replay(self, notice: Notice) -> bool:
        since = self._live_since
        if since is None:
            return True  # not live yet: whatever this is, it is not news as it happens
        return notice.at < since - REPLAY_SLACK or notice.at < self._started - REPLAY_SLACK

    def _summarize(self, now: datetime) -> None:
        """After a catch-up: one notice for what is still wrong and not yet told."""
        state = self._state
        if state is None or state.role is not Role.ADMIN or state.footer is None:
            return
        services = state.footer.services or {}
        bad = {
            name: svc.status
            for name, svc in services.items()
            if svc.status in _BAD and not state.muted(name, now) and name not in self._flapping
        }
        new = {n: st for n, st in bad.items() if self._told.get((Segment.SERVICES, n)) != st}
        for name, status in bad.items():
            self._told[(Segment.SERVICES, name)] = status
        if not new:
            return
        down = [_label(n, state) for n, st in bad.items() if st is HealthStatus.DOWN]
        degraded = [_label(n, state) for n, st in bad.items() if st is HealthStatus.DEGRADED]
        parts = []
        if down:
            parts.append(f"{_plural(len(down), 'service')} down: {', '.join(down)}")
        if degraded:
            parts.append(f"{_plural(len(degraded), 'service')} degraded: {', '.join(degraded)}")
        worst = HealthStatus.DOWN if down else HealthStatus.DEGRADED
        kind = Transition.SERVICE_DOWN if down else Transition.SERVICE_DEGRADED
        body = "Still so now; the changes while the app was not connected are in the history."
        self._queue(Notification("; ".join(parts), body, worst, "summary", kind), now)

    def _track_flapping(self, state: StatusState, now: datetime) -> None:
        for name in sorted(state.flapping - self._flapping):
            self._flapping.add(name)
            self._recoveries.pop(name, None)
            svc = _service(state, name)
            status = svc.status if svc is not None else HealthStatus.DEGRADED
            self._told[(Segment.SERVICES, name)] = status
            label = _label(name, state)
            note = Notification(
                f"{label} is flapping",
                f"{label} keeps changing state; no more notices until it settles.",
                HealthStatus.DEGRADED,
                name,
                Transition.SERVICE_DEGRADED,
            )
            if self._live:
                self._queue(note, now)
        for name in sorted(self._flapping - state.flapping):
            self._flapping.discard(name)
            svc = _service(state, name)
            if svc is None:
                continue
            # it settled: its state is news again (healthy: "recovered", once it holds)
            self._told[(Segment.SERVICES, name)] = HealthStatus.DEGRADED
            self._consider_service(name, svc.status, None, "It has stopped flapping.", now)

    def _consider(self, notice: Notice, now: datetime) -> None:
        key = (notice.segment, notice.subject)
        if self._is_replay(notice):
            # history: a failure there is for the summary to tell (if it still holds); a
            # recovery means the failure told before is over, silently
            if notice.segment is not Segment.SERVICES or notice.severity is HealthStatus.HEALTHY:
                self._told[key] = notice.severity
                self._recoveries.pop(notice.subject, None)
            return
        if notice.segment is Segment.SERVICES:
            if notice.subject not in self._flapping:
                # the title names the service and its state; the body adds what it does
                # not say (the check's error), never the same words again
                was = f"was {notice.previous.value}" if notice.previous else ""
                self._consider_service(
                    notice.subject, notice.severity, notice.previous, notice.detail or was, now
                )
            return
        last = self._told.get(key)
        self._told[key] = notice.severity
        if notice.severity is not HealthStatus.DOWN or last is HealthStatus.DOWN:
            return
        if notice.segment is Segment.JOBS:
            note = Notification(
                "Job failed", notice.text, notice.severity, notice.subject, Transition.JOB_FAILED,
                Segment.JOBS,
            )  # fmt: skip
            self._jobs.append(note)
            if self._jobs_at is None:
                self._jobs_at = now + JOB_BATCH
        elif notice.segment is Segment.CLOUD_GPU:
            note = Notification(
                "Cloud GPU pod error", notice.text, notice.severity, notice.subject,
                Transition.POD_ERROR, Segment.CLOUD_GPU,
            )  # fmt: skip
            self._queue(note, now)

    def _consider_service(
        self,
        name: str,
        status: HealthStatus,
        previous: HealthStatus | None,
        text: str,
        now: datetime,
    ) -> None:
        key = (Segment.SERVICES, name)
        last = self._told.get(key)
        label = _label(name, self._state)
        pending = self._degradations.pop(name, None)
        if status in _BAD:
            if status is HealthStatus.DEGRADED and pending is not None:
                self._degradations[name] = pending  # still degraded: the hold runs on
                return
            if name in self._recoveries:
                # it failed again before its recovery held: one incident, nothing new to
                # say unless it got worse than what was told
                del self._recoveries[name]
                if last is not None and _RANK[status] <= _RANK[last]:
                    return
            if last is status:
                return
            down = status is HealthStatus.DOWN
            kind = Transition.SERVICE_DOWN if down else Transition.SERVICE_DEGRADED
            word = "is down" if down else "is degraded"
            note = Notification(f"{label} {word}", text, status, name, kind)
            if down:
                self._told[key] = status
                self._queue(note, now)
            else:
                self._degradations[name] = (now + DEGRADED_HOLD, note)
            return
        if status is HealthStatus.HEALTHY:
            if pending is not None and last not in _BAD:
                return  # degraded for a moment, never told: nothing to take back
            was_bad = last in _BAD or (last is None and previous in _BAD)
            if not was_bad:
                self._told[key] = status
                return
            note = Notification(
                f"{label} recovered", text, status, name, Transition.SERVICE_RECOVERED
            )
            self._recoveries[name] = (now + RECOVERY_HOLD, note)
            return
        self._told[key] = status  # unknown: not news

    def _check_budget(self, state: StatusState, now: datetime) -> None:
        cloud = state.footer.cloud_gpu if state.footer else None
        if cloud is None:
            return
        budget = cloud.budget_status
        if budget is BudgetStatus.EXCEEDED and self._budget is not BudgetStatus.EXCEEDED:
            note = Notification(
                "Cloud GPU budget exceeded", f"{_plural(cloud.active_pods, 'pod')} running",
                HealthStatus.DOWN, "budget", Transition.BUDGET_EXCEEDED, Segment.CLOUD_GPU,
            )  # fmt: skip
            if self._live:
                self._queue(note, now)
        self._budget = budget

    def _job_batch(self) -> Notification:
        jobs, self._jobs = self._jobs, []
        if len(jobs) == 1:
            return jobs[0]
        return Notification(
            f"{len(jobs)} jobs failed in the last minute",
            "; ".join(j.body for j in jobs[:3]) + ("; …" if len(jobs) > 3 else ""),
            HealthStatus.DOWN,
            "failed-jobs",
            Transition.JOB_FAILED,
            Segment.JOBS,
        )

    def _queue(self, note: Notification, now: datetime) -> None:
        if self.kinds is not None and note.kind not in self.kinds:
            return
        self._burst.append(note)
        if self._burst_at is None:
            self._burst_at = now + BURST


def _merge(notes: list[Notification]) -> Notification:
    """One notification for a burst: the worst leads the title with its cause first in the
    body; the body then adds the others (never the title again); a click opens its window."""
    if len(notes) == 1:
        return notes[0]
    ranked = sorted(notes, key=lambda n: -_RANK[n.severity])
    worst, rest = ranked[0], ranked[1:]
    lines = [worst.body] if worst.body else []
    lines.append("Also: " + "; ".join(n.title for n in rest) + ".")
    return Notification(
        f"{len(notes)} changes: {worst.title}",
        "\n".join(lines),
        worst.severity,
        "burst",
        worst.kind,
        worst.segment,
    )
