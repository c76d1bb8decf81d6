"""The startup pre-flight checklist: what must hold before generation jobs are accepted.

Each check is *pre-flight*: once it passed in this run it stays passed (losing a service
later is the live health's and the alerts' business, not a reason to stop taking jobs
mid-day). A failing check is retried until it passes or an admin overrides it; overrides
last for this run only, so the next boot verifies again. ``ready`` is true when every
required check passed or was overridden; each flip is published as
``system.readiness_changed``.

Service checks read the live results the scheduler hands to :meth:`observe`, never the
status restored from storage: a reading from before the restart proves nothing now.

Without a configured list the checklist is: database migrations current (required), every
ComfyUI service reachable and every workers service with at least one worker online
(required), every other service reachable (optional).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from studio_status.protocol import HealthStatus, ServiceHealth
from studio_status.protocol.checklist import (
    CheckOverride,
    ReadinessChanged,
    StartupCheck,
    StartupChecklist,
    StartupCheckState,
)

from .checks import build_checker
from .config import ServiceConfig
from .health_settings import (
    FilesStartup,
    MigrationsStartup,
    ProbeStartup,
    ServiceStartup,
    StartupCheckSpec,
)
from .scheduler import limit_for, run_check
from .store.sqlite import SqlStore

__all__ = ["READINESS_EVENT", "StartupRunner", "default_startup"]

log = logging.getLogger("hub.checklist")

READINESS_EVENT = "system.readiness_changed"
_DONE = (StartupCheckState.PASSED, StartupCheckState.OVERRIDDEN)


def default_startup(services: Sequence[ServiceConfig]) -> list[StartupCheckSpec]:
    out: list[StartupCheckSpec] = [
        MigrationsStartup(name="migrations", label="Database migrations current")
    ]
    for svc in services:
        label = svc.label or svc.name
        if svc.check.kind == "workers":
            out.append(
                ServiceStartup(
                    name=f"{svc.name}-online",
                    label=f"{label}: at least one worker online",
                    service=svc.name,
                    min_online=1,
                )
            )
        else:
            out.append(
                ServiceStartup(
                    name=f"{svc.name}-reachable",
                    label=f"{label} reachable",
                    service=svc.name,
                    required=svc.check.kind == "comfyui",
                )
            )
    return out


class StartupRunner:
    def __init__(
        self,
        specs: Sequence[StartupCheckSpec] | None,
        services: Sequence[ServiceConfig],
        store: SqlStore,
        *,
        clock: Callable[[], datetime],
        publish: Callable[[str, BaseModel], object],
        retry_seconds: float = 15.0,
    ) -> None:
        self._specs = {
            s.name: s for s in (specs if specs is not None else default_startup(services))
        }
        names = {s.name for s in services}
        # observe() runs on every check result: look the service's checks up, never scan
        self._by_service: dict[str, list[ServiceStartup]] = {}
        for spec in self._specs.values():
            if isinstance(spec, ServiceStartup):
                self._by_service.setdefault(spec.service, []).append(spec)
                if spec.service not in names:
                    log.warning(
                        "startup check %s names unknown service %r", spec.name, spec.service
                    )
        self._store = store
        self._clock = clock
        self._publish = publish
        self.retry_seconds = retry_seconds
        self.checks: dict[str, StartupCheck] = {
            s.name: StartupCheck(name=s.name, label=s.label, kind=s.kind, required=s.required)
            for s in self._specs.values()
        }
        # the required checks not passed or overridden: readiness is a lookup, not a walk of
        # every check on every result (a default checklist has one check per service)
        self._pending = {n for n, c in self.checks.items() if c.required and c.state not in _DONE}
        self.started_at = clock()
        self.ready_at: datetime | None = None
        self.ready = self._all_done()
        if self.ready:
            self.ready_at = self.started_at

    # -- state ------------------------------------------------------------------------

    def _all_done(self) -> bool:
        return not self._pending

    @property
    def blocking(self) -> list[str]:
        return [n for n, c in self.checks.items() if c.required and c.state not in _DONE]

    def snapshot(self) -> StartupChecklist:
        return StartupChecklist(
            ready=self.ready,
            started_at=self.started_at,
            ready_at=self.ready_at,
            checks=[c.model_copy() for c in self.checks.values()],
        )

    def _set(self, name: str, passed: bool, error: str | None) -> None:
        check = self.checks[name]
        if check.state in _DONE:
            return
        state = StartupCheckState.PASSED if passed else StartupCheckState.FAILED
        if state is not check.state or error != check.error:
            if state is StartupCheckState.FAILED and check.state is not StartupCheckState.FAILED:
                log.warning("startup check %s failed: %s", name, error)
            elif state is StartupCheckState.PASSED:
                log.info("startup check %s passed", name)
        self.checks[name] = check.model_copy(
            update={"state": state, "error": None if passed else error, "checked_at": self._clock()}
        )
        if state in _DONE:
            self._pending.discard(name)
        self._update_ready()

    def _update_ready(self) -> None:
        ready = self._all_done()
        if ready == self.ready:
            return
        self.ready = ready
        if ready:
            self.ready_at = self._clock()
            log.info("hub ready: every required startup check passed or was overridden")
        else:
            log.warning("hub not ready: %s", ", ".join(self.blocking))
        self._publish(READINESS_EVENT, ReadinessChanged(ready=ready, blocking=self.blocking))

    def override(self, name: str, actor: str, reason: str) -> StartupCheck:
        """Let an admin unblock one check for this run (KeyError if there is none)."""
        check = self.checks[name]
        if check.state is not StartupCheckState.PASSED:
            self.checks[name] = check.model_copy(
                update={
                    "state": StartupCheckState.OVERRIDDEN,
                    "override": CheckOverride(by=actor, reason=reason, at=self._clock()),
                }
            )
            log.warning("startup check %s overridden by %s: %s", name, actor, reason)
            self._pending.discard(name)
            self._update_ready()
        return self.checks[name]

    # -- running ----------------------------------------------------------------------

    def observe(self, service: str, health: ServiceHealth) -> None:
        """A live check result of ``service`` (called from the hub's record path)."""
        for spec in self._by_service.get(service, ()):
            name = spec.name
            if self.checks[name].state in _DONE:
                continue
            if health.status not in (HealthStatus.HEALTHY, HealthStatus.DEGRADED):
                self._set(
                    name, False, f"{service} is {health.status.value}: {health.error_message}"
                )
                continue
            if spec.min_online is not None:
                online = health.details.get("online", health.details.get("instances"))
                if not isinstance(online, int) or online < spec.min_online:
                    self._set(name, False, f"{service}: {online} online, need {spec.min_online}")
                    continue
            self._set(name, True, None)

    async def run_once(self) -> None:
        """Run every check that is not a service check and not yet done."""
        for name, spec in self._specs.items():
            if self.checks[name].state in _DONE or isinstance(spec, ServiceStartup):
                continue
            try:
                passed, error = await self._run(spec)
            except Exception as exc:  # a broken check is a failed check, never a crash
                log.exception("startup check %s raised", name)
                passed, error = False, f"check failed: {exc!r}"
            self._set(name, passed, error)

    async def run(self) -> None:
        while True:
            await self.run_once()
            if all(
                c.state in _DONE or isinstance(self._specs[n], ServiceStartup)
                for n, c in self.checks.items()
            ):
                return
            await asyncio.sleep(self.retry_seconds)

    async def _run(self, spec: StartupCheckSpec) -> tuple[bool, str | None]:
        match spec:
            case MigrationsStartup():
                version, needed = await self._store.schema_version()
                if version == needed:
                    return True, None
                return False, f"schema version {version}, this hub needs {needed}"
            case FilesStartup():
                missing = await asyncio.to_thread(_unreadable, spec.paths)
                if not missing:
                    return True, None
                return False, "missing or unreadable: " + ", ".join(missing)
            case ProbeStartup():
                checker = build_checker(spec.check, timeout=spec.timeout_seconds)
                try:
                    result = await run_check(checker, limit_for(checker, spec.timeout_seconds))
                finally:
                    await checker.aclose()
                ok = result.status in (HealthStatus.HEALTHY, HealthStatus.DEGRADED)
                return ok, None if ok else result.error_message or result.status.value
        return False, f"not runnable here: {spec.kind}"


def _unreadable(paths: Sequence[Path]) -> list[str]:
    return [str(p) for p in paths if not (p.is_file() and os.access(p, os.R_OK))]
