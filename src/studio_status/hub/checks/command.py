"""Nagios-style plugin checker.

Any of the thousands of existing ``check_*`` plugins can watch a service this way. The
contract is Nagios's plugin API: exit 0/1/2/3 means OK/WARNING/CRITICAL/UNKNOWN; the first
line of standard output is the status text, and anything after a ``|`` on it performance
data; the lines after it are the long output, and after a ``|`` among them come more
performance data, to the end. All three are kept (``output``, ``long_output``,
``perfdata``). A plugin that overruns its timeout is killed with what it started, and what
it had printed by then is reported with the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms, format_seconds
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import CommandSpec
from studio_status.protocol import HealthStatus

__all__ = ["EXIT_STATUS", "CommandChecker", "PluginOutput", "parse_plugin_output"]

EXIT_STATUS: dict[int, HealthStatus] = {
    0: HealthStatus.HEALTHY,
    1: HealthStatus.DEGRADED,
    2: HealthStatus.DOWN,
    3: HealthStatus.UNKNOWN,
}

_OUTPUT_LIMIT = 4096
# Room to kill and reap a plugin that overran, before the guard gives up on us.
_KILL_GRACE = 2.0


@dataclass(frozen=True)
class PluginOutput:
    message: str
    long_output: str | None = None
    perfdata: str | None = None


def parse_plugin_output(raw: bytes) -> PluginOutput:
    """The status text, long output and performance data of a plugin's output."""
    text = raw[:_OUTPUT_LIMIT].decode("utf-8", errors="replace").strip()
    if not text:
        return PluginOutput("")
    first, _, rest = text.partition("\n")
    message, _, perf_first = first.partition("|")
    long_text, _, perf_rest = rest.partition("|")
    perf = [p.strip() for p in (perf_first, *perf_rest.splitlines()) if p.strip()]
    return PluginOutput(
        message.strip(), long_text.strip() or None, " ".join(perf) if perf else None
    )


class CommandChecker(GuardedChecker):
    kind = "command"
    outer_grace = _KILL_GRACE

    def __init__(
        self, spec: CommandSpec, timeout: float, *, clock: Clock = time.perf_counter
    ) -> None:
        super().__init__(timeout, clock=clock)
        self.spec = spec

    def base_details(self) -> dict[str, Any]:
        return {"argv": list(self.spec.argv)}

    async def probe(self, start: float) -> CheckResult:
        argv = self.spec.argv
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Its own process group, so a timeout also kills what the plugin started.
                start_new_session=os.name == "posix",
            )
        except (FileNotFoundError, PermissionError) as exc:
            # The plugin is misconfigured; that says nothing about the service it watches.
            reason = "not found" if isinstance(exc, FileNotFoundError) else "not executable"
            return CheckResult(
                HealthStatus.UNKNOWN,
                elapsed_ms(start, self.clock),
                f"plugin {reason}: {argv[0]}",
                self.base_details(),
            )

        # read as it comes, so a plugin that hangs still tells what it printed so far
        assert proc.stdout is not None and proc.stderr is not None
        stdout, stderr = bytearray(), bytearray()
        readers = [
            asyncio.ensure_future(_collect(proc.stdout, stdout)),
            asyncio.ensure_future(_collect(proc.stderr, stderr)),
        ]
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.gather(*readers)
                await proc.wait()
        except TimeoutError:
            await _kill(proc, readers)
            details = {**self.base_details(), "pid": proc.pid}
            details.update(_described(bytes(stdout), bytes(stderr)))
            said = f"; it had printed: {details['output']}" if details.get("output") else ""
            return CheckResult(
                HealthStatus.DOWN,
                elapsed_ms(start, self.clock),
                f"plugin timed out after {format_seconds(self.timeout)} and was killed{said}",
                details,
            )
        except BaseException:
            await _kill(proc, readers)
            raise
        latency = elapsed_ms(start, self.clock)

        code = proc.returncode if proc.returncode is not None else -1
        details = {**self.base_details(), "exit_code": code}
        details.update(_described(bytes(stdout), bytes(stderr)))
        message = details["output"]

        status = EXIT_STATUS.get(code, HealthStatus.UNKNOWN)
        if code < 0:
            message = f"plugin killed by signal {-code}" + (f": {message}" if message else "")
        elif code not in EXIT_STATUS:
            message = f"plugin exited with unexpected code {code}" + (
                f": {message}" if message else ""
            )
        elif not message:
            message = f"plugin exited with code {code} and no output"
        if status is HealthStatus.HEALTHY:
            return CheckResult(status, latency, None, details)
        return CheckResult(status, latency, message, details)


def _described(stdout: bytes, stderr: bytes) -> dict[str, Any]:
    """``output`` (the status line), ``long_output`` and ``perfdata`` from stdout, else
    from stderr (a plugin that only complains there still says why)."""
    parsed = parse_plugin_output(stdout)
    if not parsed.message:
        parsed = parse_plugin_output(stderr)
    out: dict[str, Any] = {"output": parsed.message}
    if parsed.long_output is not None:
        out["long_output"] = parsed.long_output
    if parsed.perfdata is not None:
        out["perfdata"] = parsed.perfdata
    return out


async def _collect(stream: asyncio.StreamReader, into: bytearray) -> None:
    """Read to EOF, keeping at most what is parsed (the rest is drained, not held)."""
    while chunk := await stream.read(65536):
        room = _OUTPUT_LIMIT - len(into)
        if room > 0:
            into += chunk[:room]


async def _kill(
    proc: asyncio.subprocess.Process, readers: Sequence[asyncio.Future[None]] = ()
) -> None:
    """Kill the plugin (and its process group on POSIX) and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
    # Reaping also lets asyncio close the pipe transports instead of warning about them.
    await proc.wait()
    for reader in readers:
        # the group is dead: the pipes reach EOF at once, unless a process escaped the group
        if not reader.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 0.5)
            reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await reader
