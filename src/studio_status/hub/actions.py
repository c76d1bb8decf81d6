"""Admin quick actions on one service: recheck, diagnose, restart, logs, each audited.

A restart runs the service's configured argv with ``create_subprocess_exec``, never a
shell: the config names a program and its arguments, so nothing a request carries can be
spliced into a command line. Output is kept bounded (its tail), as is the time it may run.
Logs are read backwards from the end in blocks, so a multi-gigabyte log costs a few reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio_status.protocol.actions import (
    CheckOutcome,
    DiagnoseOutcome,
    LogTail,
    RestartOutcome,
)

from .store.audit import AuditStore
from .store.sqlite import StoreError

if TYPE_CHECKING:
    from .service import Hub

__all__ = ["ActionError", "QuickActions", "tail_lines"]

log = logging.getLogger("hub.actions")

RESTART_TIMEOUT = 120.0
OUTPUT_LIMIT = 64 * 1024
LOG_BLOCK = 64 * 1024
LOG_MAX_BYTES = 8 * 1024 * 1024


class ActionError(Exception):
    """An action that cannot run; ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def tail_lines(
    path: Path, count: int, *, block: int = LOG_BLOCK, max_bytes: int = LOG_MAX_BYTES
) -> tuple[list[str], bool, int]:
    """The last ``count`` lines of ``path``, whether more precede them, and the file size.

    Reads blocks from the end until ``count`` line breaks beyond the last line are seen (or
    ``max_bytes`` were read: a file of one endless line does not get loaded whole).
    """
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        pos, chunks, breaks, read = size, [], 0, 0
        while pos > 0 and breaks <= count and read < max_bytes:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step)
            chunks.append(chunk)
            breaks += chunk.count(b"\n")
            read += step
    data = b"".join(reversed(chunks))
    if not data:
        return [], False, size
    if data.endswith(b"\n"):
        data = data[:-1]
    parts = data.split(b"\n")
    more = pos > 0 or len(parts) > count
    lines = [p.decode("utf-8", "replace").rstrip("\r") for p in parts[-count:]] if count else []
    return lines, more, size


async def _read_tail(stream: asyncio.StreamReader, limit: int) -> bytes:
    kept = bytearray()
    while chunk := await stream.read(65536):
        kept += chunk
        if len(kept) > limit:
            del kept[: len(kept) - limit]
    return bytes(kept)


class QuickActions:
    def __init__(
        self,
        hub: Hub,
        *,
        clock: Callable[[], datetime] | None = None,
        restart_timeout: float = RESTART_TIMEOUT,
    ) -> None:
        self._hub = hub
        self._clock = clock or hub.clock
        self.audit = AuditStore(hub.store)
        self.restart_timeout = restart_timeout
        self._restarting: set[str] = set()

    def _config(self, service: str) -> Any:
        for svc in self._hub.services:
            if svc.name == service:
                return svc
        if service in self._hub.state.services:
            raise ActionError(409, f"{service!r} is not checked by the hub (its status is pushed)")
        raise ActionError(404, f"no service named {service!r}")

    async def record(
        self,
        actor: str,
        action: str,
        service: str | None,
        result: str,
        *,
        params: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write one audit entry; an action that already happened is not undone by a
        failing database, so this logs instead of raising."""
        try:
            await self.audit.add(
                self._clock(), actor, action, service, result, params=params, detail=detail
            )
        except StoreError as exc:
            log.error("audit entry lost (%s %s by %s: %s): %s", action, service, actor, result, exc)

    async def recheck(self, service: str, actor: str) -> CheckOutcome:
        self._config(service)
        result = await self._hub.recheck(service)
        current = self._hub.state.services[service]
        outcome = CheckOutcome(
            service=service,
            status=current.status,
            latency_ms=result.latency_ms,
            error_message=current.error_message,
            details=result.details,
            checked_at=current.checked_at or self._clock(),
        )
        await self.record(actor, "recheck", service, "ok", detail={"status": outcome.status})
        return outcome

    async def diagnose(self, service: str, actor: str) -> DiagnoseOutcome:
        svc = self._config(service)
        checker = self._hub.checker(service)
        started, begun = self._clock(), time.perf_counter()
        output: dict[str, Any] = {}
        error = None
        try:
            # an extended probe may take longer than a check, but not forever
            async with asyncio.timeout(svc.timeout_seconds * 3):
                output = await checker.diagnose()
        except TimeoutError:
            error = f"diagnose timed out after {svc.timeout_seconds * 3:g}s"
        except Exception as exc:
            log.exception("diagnose of %s raised", service)
            error = f"diagnose failed: {exc!r}"
        outcome = DiagnoseOutcome(
            service=service,
            kind=checker.kind,
            started_at=started,
            duration_ms=round((time.perf_counter() - begun) * 1000),
            output=output,
            error=error,
        )
        await self.record(
            actor, "diagnose", service, "error" if error else "ok", detail={"error": error}
        )
        return outcome

    async def restart(self, service: str, actor: str, *, confirmed: bool) -> RestartOutcome:
        svc = self._config(service)
        if not confirmed:
            await self.record(actor, "restart", service, "refused", detail={"why": "unconfirmed"})
            raise ActionError(
                400, 'restart is destructive: send {"confirm": true} in the body to confirm'
            )
        argv: list[str] | None = svc.restart
        if not argv:
            raise ActionError(409, f"no restart command configured for {service!r}")
        if service in self._restarting:
            raise ActionError(409, f"a restart of {service!r} is already running")
        self._restarting.add(service)
        try:
            outcome = await self._run_restart(service, argv)
        finally:
            self._restarting.discard(service)
        ok = outcome.exit_code == 0
        log.log(
            logging.INFO if ok else logging.WARNING,
            "restart of %s by %s: exit %s%s",
            service,
            actor,
            outcome.exit_code,
            " (timed out)" if outcome.timed_out else "",
        )
        await self.record(
            actor,
            "restart",
            service,
            "ok" if ok else "error",
            params={"argv": argv},
            detail={
                "exit_code": outcome.exit_code,
                "timed_out": outcome.timed_out,
                "output": outcome.output[-2000:],
            },
        )
        self._hub.poke_checks(service)
        return outcome

    async def _run_restart(self, service: str, argv: list[str]) -> RestartOutcome:
        begun = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - begun) * 1000)

        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return RestartOutcome(
                service=service, argv=argv, exit_code=None, duration_ms=took(), output=str(exc)
            )
        assert proc.stdout is not None
        reader = asyncio.create_task(_read_tail(proc.stdout, OUTPUT_LIMIT))
        timed_out = False
        try:
            async with asyncio.timeout(self.restart_timeout):
                await proc.wait()
        except TimeoutError:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        finally:
            if proc.returncode is None:  # cancelled: never leave the child behind
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        try:
            async with asyncio.timeout(5.0):
                output = await reader
        except TimeoutError:  # a grandchild kept the pipe open; keep what we have
            output = b""
        return RestartOutcome(
            service=service,
            argv=argv,
            exit_code=None if timed_out else proc.returncode,
            timed_out=timed_out,
            duration_ms=took(),
            output=output.decode("utf-8", "replace"),
        )

    async def logs(self, service: str, actor: str, lines: int) -> LogTail:
        svc = self._config(service)
        path: Path | None = svc.log_file
        if path is None:
            raise ActionError(404, f"no log_file configured for {service!r}")
        try:
            got, more, size = await asyncio.to_thread(tail_lines, path, lines)
        except OSError as exc:
            await self.record(
                actor, "logs", service, "error", params={"lines": lines}, detail={"error": str(exc)}
            )
            raise ActionError(404, f"cannot read {path}: {exc.strerror or exc}") from None
        await self.record(
            actor, "logs", service, "ok", params={"lines": lines}, detail={"returned": len(got)}
        )
        return LogTail(service=service, path=str(path), lines=got, more=more, size_bytes=size)
