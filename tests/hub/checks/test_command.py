from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from studio_status.hub.checks.command import CommandChecker, PluginOutput, parse_plugin_output
from studio_status.hub.checks.specs import CommandSpec
from studio_status.protocol import HealthStatus
from tests.hub.checks.helpers import BOUND, TIMEOUT

PY = sys.executable


def plugin(tmp_path: Path, code: str) -> list[str]:
    """A real plugin: a Python script written to tmp_path and run by this interpreter."""
    script = tmp_path / "check_thing.py"
    script.write_text(code)
    return [PY, str(script)]


async def run(
    argv: list[str], budget: float = TIMEOUT * 4
) -> tuple[HealthStatus, str | None, dict]:
    result = await CommandChecker(CommandSpec(argv=argv), budget).check()
    assert isinstance(result.latency_ms, int)
    return result.status, result.error_message, result.details


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (0, HealthStatus.HEALTHY),
        (1, HealthStatus.DEGRADED),
        (2, HealthStatus.DOWN),
        (3, HealthStatus.UNKNOWN),
    ],
)
async def test_exit_codes_map_to_statuses(tmp_path: Path, code: int, status: HealthStatus) -> None:
    label = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code]
    argv = plugin(
        tmp_path,
        f"import sys\nprint('{label} - queue depth 7 | depth=7;5;10')\n"
        f"print('second line, long output')\nsys.exit({code})\n",
    )
    got, message, details = await run(argv)

    assert got is status
    assert details["exit_code"] == code
    assert details["output"] == f"{label} - queue depth 7"
    assert details["perfdata"] == "depth=7;5;10"
    assert message == (None if code == 0 else f"{label} - queue depth 7")


async def test_exit_code_outside_the_convention_is_unknown(tmp_path: Path) -> None:
    status, message, _ = await run(plugin(tmp_path, "import sys\nprint('oops')\nsys.exit(7)\n"))

    assert status is HealthStatus.UNKNOWN
    assert message == "plugin exited with unexpected code 7: oops"


async def test_message_falls_back_to_stderr(tmp_path: Path) -> None:
    code = "import sys\nsys.stderr.write('CRITICAL - cannot open /dev/nvidia0\\n')\nsys.exit(2)\n"
    status, message, _ = await run(plugin(tmp_path, code))

    assert status is HealthStatus.DOWN
    assert message == "CRITICAL - cannot open /dev/nvidia0"


async def test_failure_without_output_says_so(tmp_path: Path) -> None:
    status, message, _ = await run([PY, "-c", "raise SystemExit(2)"])

    assert status is HealthStatus.DOWN
    assert message == "plugin exited with code 2 and no output"


async def test_argv_is_not_run_through_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    argv = [PY, "-c", "import sys; print(sys.argv[1])", f"x; touch {marker}"]
    status, _, details = await run(argv)

    assert status is HealthStatus.HEALTHY
    assert details["output"] == f"x; touch {marker}"
    assert not marker.exists()


async def test_missing_executable_is_unknown(tmp_path: Path) -> None:
    missing = str(tmp_path / "check_nothing")
    status, message, details = await run([missing, "-w", "1"])

    assert status is HealthStatus.UNKNOWN
    assert message == f"plugin not found: {missing}"
    assert details == {"argv": [missing, "-w", "1"]}


async def test_non_executable_file_is_unknown(tmp_path: Path) -> None:
    script = tmp_path / "check_noexec"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    status, message, _ = await run([str(script)])

    assert status is HealthStatus.UNKNOWN
    assert message == f"plugin not executable: {script}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def _exited(pid: int, budget: float = 5.0) -> None:
    """Returns once ``pid`` (not our child: it was the plugin's) has exited."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited = asyncio.Event()
    loop.add_reader(fd, exited.set)  # a pidfd becomes readable when its process exits
    try:
        async with asyncio.timeout(budget):
            await exited.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


@pytest.mark.skipif(
    not hasattr(os, "pidfd_open") or not Path("/proc/self/stat").exists(),
    reason="needs Linux pidfds and /proc to follow the plugin's processes",
)
async def test_hung_plugin_and_its_children_are_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    status, message, _ = await run(plugin(tmp_path, code), budget=TIMEOUT * 2)
    elapsed = time.monotonic() - started

    assert status is HealthStatus.DOWN
    assert message == f"plugin timed out after {TIMEOUT * 2:g} s and was killed"
    assert elapsed < BOUND + TIMEOUT
    # The plugin got as far as starting its child before the timeout, or the test is void.
    plugin_pid, child_pid = map(int, pids.read_text().split())
    assert not _alive(plugin_pid)
    await _exited(child_pid)  # SIGKILL lands asynchronously: wait for it, do not poll
    assert not _alive(child_pid)


def test_parse_plugin_output() -> None:
    assert parse_plugin_output(b"OK - fine | a=1\nmore\n") == PluginOutput(
        "OK - fine", "more", "a=1"
    )
    assert parse_plugin_output(b"OK - fine\n") == PluginOutput("OK - fine")
    assert parse_plugin_output(b"") == PluginOutput("")
    assert parse_plugin_output(b"\n\n  DISK WARNING \n") == PluginOutput("DISK WARNING")
    assert parse_plugin_output(b"\xff bad bytes") == PluginOutput("\ufffd bad bytes")


def test_long_output_and_its_perfdata_are_kept() -> None:
    """The plugin API's full shape: status | perfdata, long output lines, then | and more
    perfdata lines to the end."""
    raw = (
        b"DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
        b"/ 15272 MB (77%);\n"
        b"/boot 68 MB (69%);\n"
        b"/home 69357 MB (27%);\n"
        b"/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
        b"/home=69357MB;253404;253409;0;253414\n"
        b"/var/log=818MB;970;975;0;980\n"
    )
    parsed = parse_plugin_output(raw)
    assert parsed.message == "DISK OK - free space: / 3326 MB (56%);"
    assert parsed.long_output == (
        "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);"
    )
    assert parsed.perfdata == (
        "/=2643MB;5948;5958;0;5968 /boot=68MB;88;93;0;98"
        " /home=69357MB;253404;253409;0;253414 /var/log=818MB;970;975;0;980"
    )


async def test_long_output_reaches_the_details(tmp_path: Path) -> None:
    code = (
        "import sys\nprint('WARNING - 2 of 5 queues slow | slow=2;1;3')\n"
        "print('render: 40 s behind')\nprint('encode: 12 s behind | lag=40s lag2=12s')\n"
        "sys.exit(1)\n"
    )
    status, message, details = await run(plugin(tmp_path, code))
    assert status is HealthStatus.DEGRADED
    assert message == "WARNING - 2 of 5 queues slow"
    assert details["long_output"] == "render: 40 s behind\nencode: 12 s behind"
    assert details["perfdata"] == "slow=2;1;3 lag=40s lag2=12s"


async def test_hung_plugin_reports_what_it_printed(tmp_path: Path) -> None:
    code = (
        "import sys, time\nprint('CRITICAL - waiting on the license server', flush=True)\n"
        "print('tried 10.0.0.5:27000', flush=True)\ntime.sleep(60)\n"
    )
    status, message, details = await run(plugin(tmp_path, code), budget=TIMEOUT * 2)
    assert status is HealthStatus.DOWN
    assert message == (
        f"plugin timed out after {TIMEOUT * 2:g} s and was killed;"
        " it had printed: CRITICAL - waiting on the license server"
    )
    assert details["long_output"] == "tried 10.0.0.5:27000"
    assert details["argv"][-1].endswith("check_thing.py") and details["pid"] > 0
