"""What a checker is and returns.

A checker probes one real thing and describes what it found. It never raises for a
failing target (that is a ``down`` result with a message); the scheduler still wraps every
call in a timeout and a catch-all, so a hung or buggy checker cannot stall the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from studio_status.protocol import HealthStatus

__all__ = ["CheckResult", "Checker"]


@dataclass(frozen=True)
class CheckResult:
    status: HealthStatus
    latency_ms: int | None = None
    error_message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Checker(ABC):
    """Probes one service. ``timeout`` is the checker's own budget in seconds."""

    kind: str = "abstract"
    #: how long past ``timeout`` the checker may take to report a timeout of its own (to
    #: kill and reap a plugin); the scheduler's limit leaves it that room, so the checker's
    #: own account (which target hung, what a plugin printed) is what gets reported
    outer_grace: float = 0.0

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    @abstractmethod
    async def check(self) -> CheckResult:
        """Probe once; report failures as a result, not an exception."""

    async def diagnose(self) -> dict[str, Any]:
        """An extended probe for the "diagnose" quick action; by default one full check."""
        result = await self.check()
        return {
            "status": result.status.value,
            "latency_ms": result.latency_ms,
            "error_message": result.error_message,
            "details": result.details,
        }

    async def aclose(self) -> None:
        """Release pooled connections; called when the hub stops."""
        return None
