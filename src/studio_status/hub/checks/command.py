"""Nagios-style plugin checker.

Any of the thousands of existing ``check_*`` plugins can watch a service this way. The
contract is Nagios's: exit 0/1/2/3 means OK/WARNING/CRITICAL/UNKNOWN, the first line of
standard output is the status text, and anything after a ``|`` on it is performance data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

from studio_status.hub.checks._common import Clock, GuardedChecker, elapsed_ms, format_seconds
from studio_status.hub.checks.base import CheckResult
from studio_status.hub.checks.specs import CommandSpec
from studio_status.protocol import HealthStatus

__all__ = ["EXIT_STATUS", "CommandChecker", "parse_plugin_output"]

EXIT_STATUS: dict[int, HealthStatus] = {
    0: HealthStatus.HEALTHY,
    1: HealthStatus.DEGRADED,
    2: HealthStatus.DOWN,
    3: HealthStatus.UNKNOWN,
}

_OUTPUT_LIMIT = 4096
# Room to kill and reap a plugin that overran, before the guard gives up on us.
_KILL_GRACE = 2.0


def parse_plugin_output(raw: bytes) -> tuple[str, str | None]:
    """The status text and performance data from a plugin's first output line."""
    text = raw[:_OUTPUT_LIMIT].decode("utf-8", errors="replace")
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    message, sep, perfdata = first.partition("|")
    return message.strip(), (perfdata.strip() or None) if sep else None


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

        try:
            async with asyncio.timeout(self.timeout):
                stdout, stderr = await proc.communicate()
        except TimeoutError:
            await _kill(proc)
            return CheckResult(
                HealthStatus.DOWN,
                elapsed_ms(start, self.clock),
                f"plugin timed out after {format_seconds(self.timeout)} and was killed",
                self.base_details(),
            )
        except BaseException:
            await _kill(proc)
            raise
        latency = elapsed_ms(start, self.clock)

        code = proc.returncode if proc.returncode is not None else -1
        message, perfdata = parse_plugin_output(stdout)
        if not message:
            message, perfdata = parse_plugin_output(stderr)
        details: dict[str, Any] = {**self.base_details(), "exit_code": code, "output": message}
        if perfdata is not None:
            details["perfdata"] = perfdata

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


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """Kill the plugin (and its process group on POSIX) and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
    # Reaping also lets asyncio close the pipe transports instead of warning about them.
    await proc.wait()
