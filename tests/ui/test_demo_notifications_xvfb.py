"""Ten minutes of the demo, counted where the user sees them: the real app (``studio-status
demo``, its embedded hub, the simulator's real plant and checks) on an X server (Xvfb) with
a tray (trayer), and dunst owning ``org.freedesktop.Notifications`` on a private session
bus. ``dbus-monitor`` counts every ``Notify`` call: each is a popup (a replacement is a
close and a new ``Notify``, so each counts).

Ten real minutes is too long for a test, so the demo runs at ``--speed``: the process's one
clock (:mod:`studio_status.pace`) runs that many times real time, and everything that
decides a notification (the simulator's steps, the checks' rhythm, the hub's flap tick, the
notification policy's holds and the tray's timer) follows it. Demo time is measured with the
app's own pace, which it logs (``demo pace: N times real time from <epoch>``): a real
instant ``t`` is demo time ``epoch + N * (t - epoch)``. The ceiling and why it is humane
are in the README ("What the strip tells you"); the pure-rules count of the same script is
``test_notify_demo_rate.py``.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from tests.userenv import fresh_user_env

from .notifyserver import NotificationServer, notification_server
from .test_notify_demo_rate import CEILING_PER_10_MIN

NEEDED = ("dbus-daemon", "dbus-monitor", "dunst", "dunstctl", "trayer", "Xvfb")
MISSING = [p for p in NEEDED if shutil.which(p) is None]
pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"{', '.join(MISSING)} not installed "
        "(apt-get install dbus-daemon dbus-bin dunst trayer xvfb)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
SPEED = 20
DEMO_SECONDS = 600
#: the policy's burst window (ui/notify.py BURST): never two popups closer in demo time
BURST_SECONDS = 4.0
#: what a real instant may be off in demo time: a timer's and a D-Bus send's latency (a
#: few ms real) times the speed
SLACK_SECONDS = 1.0
#: after going live, only a summary may be said this early (catch-up settles, burst waits)
EARLY_SECONDS = 10.0

_STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
_RECORD = re.compile(rf"^{_STAMP} (\w+) ([\w.]+): (.*)$")


@dataclass
class Record:
    at: datetime  # real UTC
    level: str
    logger: str
    message: str


def read_log(path: Path) -> list[Record]:
    """The app's log records (a message may span lines: a notice's body has newlines)."""
    records: list[Record] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _RECORD.match(line)
        if m is None:
            if records:
                records[-1].message += "\n" + line
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
        records.append(Record(at, m.group(2), m.group(3), m.group(4)))
    return records


@dataclass
class Pace:
    speed: float
    epoch: datetime

    def demo(self, real: datetime) -> float:
        """A real instant as demo seconds since the epoch."""
        return (real - self.epoch).total_seconds() * self.speed

    def real_at(self, demo: float) -> float:
        """The real wall time (``time.time()``) at which the demo reaches ``demo``."""
        return self.epoch.timestamp() + demo / self.speed


def find_pace(records: list[Record]) -> Pace | None:
    for r in records:
        m = re.match(r"demo pace: ([\d.]+) times real time from (\S+) ", r.message)
        if m:
            return Pace(float(m.group(1)), datetime.fromisoformat(m.group(2)))
    return None


@dataclass
class Popup:
    at: datetime  # real UTC, as the bus saw the call
    title: str


_CALL = re.compile(r"^method call time=([\d.]+) .*member=Notify$")


def read_monitor(path: Path) -> list[Popup]:
    """``Notify`` calls as dbus-monitor printed them; the summary is the call's third
    string (app name, [replaces id,] icon, summary, body)."""
    popups: list[Popup] = []
    strings: list[str] | None = None
    at = 0.0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _CALL.match(line)
        if m:
            strings, at = [], float(m.group(1))
            continue
        if strings is not None and line.startswith("   string "):
            strings.append(line.removeprefix("   string ").strip().strip('"'))
            if len(strings) == 3:
                popups.append(Popup(datetime.fromtimestamp(at, UTC), strings[2]))
                strings = None
    return popups


def wait_for(cond: object, what: str, limit: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        if proc.poll() is not None:
            pytest.fail(f"{what}: the process ended ({proc.returncode})")
        time.sleep(0.05)
    pytest.fail(f"{what}: not within {limit:g} s")


@pytest.fixture
def desktop(display: str) -> Iterator[NotificationServer]:
    """Xvfb with a tray host and dunst on a private bus."""
    with notification_server(display) as server:
        server.start_dunst()
        trayer = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"],
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield server
        finally:
            trayer.terminate()
            trayer.wait(10)


def test_ten_demo_minutes_raise_a_humane_number_of_notifications(
    desktop: NotificationServer, tmp_path: Path
) -> None:
    watched = tmp_path / "notify.txt"
    with watched.open("wb") as out:
        monitor = subprocess.Popen(
            [
                "dbus-monitor",
                "--address",
                desktop.address,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    runtime = Path(tempfile.mkdtemp(prefix="ss-run-"))  # short: the instance lock's socket
    env = fresh_user_env(
        tmp_path / "user",
        QT_QPA_PLATFORM="xcb",
        DISPLAY=desktop.display,
        DBUS_SESSION_BUS_ADDRESS=desktop.address,
        XDG_RUNTIME_DIR=str(runtime),
        TZ="UTC",  # the log's times are read as UTC
    )
    env.pop("WAYLAND_DISPLAY", None)
    log_file = tmp_path / "user" / "state" / "studio-status" / "log" / "studio-status.log"
    err = tmp_path / "app.stderr"
    app: subprocess.Popen[bytes] | None = None
    try:
        # the monitor is listening once it says so (its first line, NameAcquired)
        wait_for(lambda: watched.stat().st_size > 0, "dbus-monitor", 10, monitor)
        with err.open("wb") as stderr:
            app = subprocess.Popen(
                [sys.executable, "-m", "studio_status", "demo", "--speed", str(SPEED)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        live: list[Record] = []

        def went_live() -> bool:
            if log_file.exists():
                live[:] = [r for r in read_log(log_file) if "event stream live" in r.message]
            return bool(live)

        wait_for(went_live, "the app's event stream", 60, app)
        records = read_log(log_file)
        pace = find_pace(records)
        assert pace is not None, "the app did not log its pace"
        assert pace.speed == SPEED
        start = pace.demo(live[0].at)
        # ten minutes of the demo's own time from the moment it was live
        wait_for(
            lambda: time.time() >= pace.real_at(start + DEMO_SECONDS), "ten demo minutes", 90, app
        )
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0, err.read_text()
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        monitor.terminate()
        monitor.wait(10)
        shutil.rmtree(runtime, ignore_errors=True)

    records = read_log(log_file)
    told = [r for r in records if r.logger == "ui.tray" and r.message.startswith("notify: ")]
    popups = read_monitor(watched)
    lines = "\n".join(f"{pace.demo(p.at) - start:6.1f} s  {p.title}" for p in popups)
    # the app says what it sent, and the notification server got exactly that
    titles = [r.message.removeprefix("notify: ").split(" — ")[0] for r in told]
    assert [p.title for p in popups] == titles, f"bus:\n{lines}\nlog: {titles}"
    # a humane number (the README's ceiling, for ten minutes of the demo)
    assert 0 < len(popups) <= CEILING_PER_10_MIN, f"{len(popups)} popups:\n{lines}"
    # never two within the burst window of each other (demo time)
    times = [pace.demo(p.at) for p in popups]
    close = [
        (a - start, b - start) for a, b in pairwise(times) if b - a < BURST_SECONDS - SLACK_SECONDS
    ]
    assert not close, f"popups closer than {BURST_SECONDS:g} s: {close}\n{lines}"
    # nothing replayed at start: only a summary may come this early
    early = [p.title for p, t in zip(popups, times, strict=True) if t - start < EARLY_SECONDS]
    assert all(" down: " in t or " degraded: " in t for t in early), f"early: {early}\n{lines}"
    # and every kind the demo is there to show, merged bursts included ("Also: ...")
    said = "\n".join(r.message for r in told)
    assert re.search(r" is (down|degraded)\b", said), lines
    assert " recovered" in said, lines
    assert "Cloud GPU pod error" in said, lines
    assert "Cloud GPU budget exceeded" in said, lines
    # the app ended cleanly: nothing went wrong on the way
    problems = [f"{r.logger}: {r.message}" for r in records if r.level in ("ERROR", "CRITICAL")]
    assert not problems, "\n".join(problems)
    print(f"\n{len(popups)} notifications in {DEMO_SECONDS} demo seconds:\n{lines}")
