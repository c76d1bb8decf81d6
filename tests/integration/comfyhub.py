"""A real hub on loopback with a ComfyUI source, fed a scenario capture by
:mod:`tests.hub.comfyscenario`, that can be restarted mid-replay, and the agreement check.

At every instant the recorder got a ``/queue`` answer, the hub's active ComfyUI jobs
(running, and queued in order at places 1..n) and its footer counts must show what that
answer shows, or come to show it within one poll interval: the hub never disagrees with
``/queue`` for longer than that (its own poll may come just before a change, or the
change only shows in the next poll). After a hub restart and right after the server's
restart the hub gets one poll interval more (nothing tells it what changed meanwhile).
Jobs whose outcome is being looked up (gone from the line, not yet ended) must be
resolved within one poll interval too. ``agreement.exact`` counts the instants where the
hub showed exactly what ``/queue`` did.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio_status.hub.service import Hub
from studio_status.hub.sources.comfyui import ComfyUISource, parse_queue
from studio_status.hub.sources.specs import ComfyUISourceSpec, SourcesConfig
from studio_status.protocol import JobStatus, Role
from tests.hub.comfyscenario import Capture, RelayHost, Replay, ReplayClock, ScenarioServer
from tests.hubrunner import RunningHub, run_hub

POLL = 1.0
VERSIONS = ["v0.3.64", "v0.25.0"]

View = tuple[frozenset[str], tuple[str, ...]]


def queue_view(body: Any) -> View:
    running, pending = parse_queue(body)
    return frozenset(i.prompt_id for i in running), tuple(i.prompt_id for i in pending)


def hub_view(hub: Hub) -> View:
    prefix = "comfyui:box:"
    jobs = [j for j in hub.jobs.jobs.values() if j.id.startswith(prefix)]
    running = frozenset(
        j.id[len(prefix) :] for j in jobs if j.status is JobStatus.RUNNING and not j.stalled_since
    )
    queued = sorted(
        (
            j
            for j in jobs
            if j.status is JobStatus.QUEUED and not j.stalled_since and not hub.jobs.leaving(j)
        ),
        key=lambda j: j.queue_position or 0,
    )
    places = [j.queue_position for j in queued]
    assert places == list(range(1, len(queued) + 1)), f"places {places}"
    stalled = [j for j in jobs if j.stalled_since]
    view = running, tuple(j.id[len(prefix) :] for j in queued)
    return (view[0] | {f"stalled:{j.id}" for j in stalled}, view[1])


def spec(url: str) -> SourcesConfig:
    return SourcesConfig(
        comfyui=[
            ComfyUISourceSpec.model_validate(
                {
                    "name": "box",
                    "url": url,
                    "poll_seconds": POLL,
                    "reconnect_initial_seconds": 0.5,
                    "reconnect_max_seconds": 30,
                }
            )
        ]
    )


@dataclass
class Agreement:
    checked: int = 0
    exact: int = 0
    misses: list[str] | None = None


class Scenario:
    """A capture, its server, a hub that can be restarted, and the agreement check."""

    def __init__(self, version: str, tmp_path: Path, *, relay: bool = False) -> None:
        """``relay``: ComfyUI runs the Studio Status relay extension."""
        self.capture = Capture.of(version)
        self.clock = ReplayClock()
        self.server = ScenarioServer(self.capture, self.clock)
        self.relay = RelayHost(self.server) if relay else None
        self.replay = Replay(self.capture, self.clock, self.server, relay=self.relay)
        self.tmp_path = tmp_path
        self.hub: RunningHub | None = None
        self._stack = contextlib.AsyncExitStack()
        self.agreement = Agreement(misses=[])
        self._answers = self.capture.queue_answers()
        self._checked = 0
        self._leaving: dict[str, float] = {}
        self._lag_since: float | None = None  # the hub has disagreed since then
        self.lagging: list[str] = []  # where a disagreement began (diagnostics)
        self.blind_until = 0.0  # no agreement asked before (a hub restart, the outage end)

    async def __aenter__(self) -> Scenario:
        await self.server.start()
        await self.start_hub()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_hub()
        await self.server.close()

    async def start_hub(self) -> None:
        assert self.hub is None
        self.clock.fired = 0  # a new source counts its own wakes
        self.hub = await self._stack.enter_async_context(
            run_hub(
                self.tmp_path,
                [],
                sources=spec(self.server.url),
                database=self.tmp_path / "hub.sqlite3",
                serve_kw={"clock": self.clock.now, "sleep": self.clock.sleep},
            )
        )
        self.replay.source = lambda: self.source
        await self.replay.settle()

    async def stop_hub(self) -> None:
        await self._stack.aclose()
        self.hub = None
        self.replay.source = lambda: None

    async def restart_hub(self) -> None:
        await self.stop_hub()
        await self.start_hub()
        self.blind_until = self.clock.t + POLL

    @property
    def source(self) -> ComfyUISource | None:
        if self.hub is None:
            return None
        found = self.hub.hub.sources[0]
        assert isinstance(found, ComfyUISource)
        return found

    async def check(self, now: float) -> None:
        """At each recorded /queue answer: the hub shows it (or one within POLL before)."""
        assert self.capture.down is not None
        while self._checked < len(self._answers) and self._answers[self._checked].t <= now:
            answer = self._answers[self._checked]
            self._checked += 1
            if self.hub is None or answer.t < self.blind_until:
                self._lag_since = None
                continue
            if self.capture.down[1] <= answer.t < self.capture.down[1] + POLL:
                self._lag_since = None
                continue
            hub = self.hub.hub
            leaving = {j.id for j in hub.jobs.jobs.values() if hub.jobs.leaving(j)}
            self._leaving = {k: v for k, v in self._leaving.items() if k in leaving}
            for job_id in leaving:
                since = self._leaving.setdefault(job_id, answer.t)
                assert answer.t - since <= POLL, f"{job_id} left the queue at {since}"
            view = hub_view(hub)
            footer = hub.state.footer(Role.ADMIN).jobs
            assert (footer.running, footer.queued) == (
                len([r for r in view[0] if not r.startswith("stalled:")]),
                len(view[1]),
            )
            self.agreement.checked += 1
            if view == queue_view(answer.body):
                self.agreement.exact += 1
                self._lag_since = None
            elif self._lag_since is None:
                self._lag_since = answer.t
                self.lagging.append(
                    f"t={answer.t}: hub {self.named(view)} /queue"
                    f" {self.named(queue_view(answer.body))}"
                )
            elif answer.t - self._lag_since > POLL:
                assert self.agreement.misses is not None
                self.agreement.misses.append(
                    f"t={answer.t}: hub {self.named(view)} /queue"
                    f" {self.named(queue_view(answer.body))} (since t={self._lag_since})"
                )

    def named(self, view: View) -> str:
        def label(pid: str) -> str:
            return self.capture.labels.get(pid, pid)

        return f"running {sorted(map(label, view[0]))} pending {[label(p) for p in view[1]]}"
