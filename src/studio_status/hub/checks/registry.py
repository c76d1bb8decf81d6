"""Builds the checker a config spec asks for.

Dependencies come in as arguments (the shared HTTP client, the hub's bus probe) rather than
from a global, so the hub wires them once and tests can hand in their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from studio_status.hub.checks.base import Checker
from studio_status.hub.checks.comfyui import ComfyUIChecker
from studio_status.hub.checks.command import CommandChecker
from studio_status.hub.checks.disk import DiskChecker
from studio_status.hub.checks.eventbus import EventBusChecker
from studio_status.hub.checks.http import HttpChecker
from studio_status.hub.checks.postgres import PostgresChecker
from studio_status.hub.checks.specs import (
    CheckSpec,
    ComfyUISpec,
    CommandSpec,
    DiskSpec,
    EventBusSpec,
    HttpSpec,
    PostgresSpec,
    TcpSpec,
    WorkersSpec,
)
from studio_status.hub.checks.tcp import TcpChecker
from studio_status.hub.checks.workers import WorkersChecker

__all__ = ["build_checker"]


def build_checker(
    spec: CheckSpec,
    *,
    timeout: float,
    http: httpx.AsyncClient | None = None,
    bus_probe: Callable[[], Awaitable[None]] | None = None,
) -> Checker:
    """A checker for ``spec``; ValueError when a spec needs something not provided.

    ``http`` is shared by the HTTP-based checkers (except an HTTP check with
    ``verify_tls = false``, which needs a client of its own). ``bus_probe`` is required for
    an ``eventbus`` spec: without the hub's bus there is nothing to check, and saying so at
    start-up beats a service that stays ``unknown`` forever.
    """
    if timeout <= 0:
        raise ValueError(f"check timeout must be positive, got {timeout}")
    match spec:
        case HttpSpec():
            return HttpChecker(spec, timeout, http=http)
        case TcpSpec():
            return TcpChecker(spec, timeout)
        case PostgresSpec():
            return PostgresChecker(spec, timeout)
        case DiskSpec():
            return DiskChecker(spec, timeout)
        case CommandSpec():
            return CommandChecker(spec, timeout)
        case ComfyUISpec():
            return ComfyUIChecker(spec, timeout, http=http)
        case EventBusSpec():
            if bus_probe is None:
                raise ValueError("an eventbus check needs the hub's bus_probe")
            return EventBusChecker(spec, timeout, bus_probe=bus_probe)
        case WorkersSpec():
            return WorkersChecker(spec, timeout, http=http)
    raise ValueError(f"unknown check kind: {spec!r}")  # pragma: no cover - exhaustive above
