"""Shared pieces: figures and their table, process helpers, /proc readings, the probe file.

Every clock here is ``time.monotonic()`` (``CLOCK_MONOTONIC``), which is one clock for all
processes on a Linux machine, so a hub child's "accepted at" and the app child's "painted
at" can be subtracted.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(RuntimeError):
    """A benchmark could not run (not a missed target)."""


# -- figures ------------------------------------------------------------------------------


@dataclass
class Figure:
    """One row of the table.

    ``judge`` names the statistic compared with ``target``: "median", "tail" (p99 with
    ≥ 100 samples, else max) or "max". ``higher`` means bigger is better (throughput).
    """

    bench: str
    name: str
    unit: str
    samples: list[float]
    target: float | None = None
    judge: str = "tail"
    higher: bool = False
    method: str = ""
    note: str = ""
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def tail_label(self) -> str:
        return "p99" if len(self.samples) >= 100 else "max"

    @property
    def tail(self) -> float | None:
        if not self.samples:
            return None
        if len(self.samples) >= 100:
            return percentile(self.samples, 99)
        return max(self.samples)

    @property
    def judged(self) -> float | None:
        if not self.samples:
            return None
        if self.judge == "median":
            return self.median
        if self.judge == "max":
            return max(self.samples)
        return self.tail

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "ERROR"
        value = self.judged
        if self.target is None or value is None:
            return "-"
        ok = value >= self.target if self.higher else value <= self.target
        return "pass" if ok else "FAIL"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            n=len(self.samples),
            median=self.median,
            tail=self.tail,
            tail_label=self.tail_label,
            verdict=self.verdict,
        )
        if len(self.samples) > 50:
            data["samples"] = None  # keep --json small; the summary is what is tracked
        return data


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def target_text(fig: Figure) -> str:
    if fig.target is None:
        return "-"
    op = "≥" if fig.higher else "≤"
    stat = {"median": "median", "max": "max"}.get(fig.judge, fig.tail_label)
    return f"{stat} {op} {fmt(fig.target)}"


def table(figures: Sequence[Figure]) -> str:
    """The one table: figure, unit, n, median, p99/max, target, verdict."""
    header = ("figure", "unit", "n", "median", "p99/max", "target", "result")
    rows = [
        (
            f.name,
            f.unit,
            str(len(f.samples)),
            fmt(f.median),
            f"{fmt(f.tail)} ({f.tail_label})" if f.samples else "-",
            target_text(f),
            f.verdict,
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(lines)


def methods(figures: Sequence[Figure]) -> str:
    out = []
    for f in figures:
        text = f"- {f.name}: {f.method}"
        if f.note:
            text += f" [{f.note}]"
        if f.error:
            text += f" ERROR: {f.error}"
        out.append(text)
    return "\n".join(out)


# -- /proc --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcSample:
    at: float
    cpu: float  # seconds on CPU, all threads
    voluntary: int  # voluntary context switches, all threads (sleeps = wake-ups)
    involuntary: int
    rss: int  # bytes


def proc_sample(pid: int) -> ProcSample:
    """CPU (ns-precise schedstat), context switches over all threads, and RSS."""
    cpu = 0.0
    vol = invol = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            cpu += int((task / "schedstat").read_text().split()[0]) / 1e9
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    invol += int(line.split()[1])
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return ProcSample(time.monotonic(), cpu, vol, invol, rss)


def tree_sample(pid: int) -> ProcSample:
    """:func:`proc_sample` summed over ``pid`` and every process below it (an app that
    starts helpers is measured with them)."""
    samples = [proc_sample(pid)]
    for child in descendants(pid):
        with contextlib.suppress(OSError):  # it ended meanwhile
            samples.append(proc_sample(child))
    return ProcSample(
        time.monotonic(),
        sum(s.cpu for s in samples),
        sum(s.voluntary for s in samples),
        sum(s.involuntary for s in samples),
        sum(s.rss for s in samples),
    )


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from each process's parent in /proc/N/stat)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        out += children
        frontier += children
    return out


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment whose config, cache and data dirs live under ``home``."""
    env = dict(os.environ)
    for key in ("STUDIO_STATUS_TOKEN", "STUDIO_STATUS_BOOTSTRAP_TOKEN"):
        env.pop(key, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        PYTHONDONTWRITEBYTECODE="0",
    )
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[Any], grace: float = 8.0) -> None:
    """SIGTERM (the app and hub quit cleanly on it), then SIGKILL; never leaves it running."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"ssbench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.005
) -> Any:
    """Poll ``predicate`` until truthy (returned) or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class LineFile:
    """Reads JSON lines appended to a file by another process (the probe file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[dict[str, Any]] = []
        self._offset = 0
        self._partial = b""

    def poll(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        new = []
        for raw in complete:
            with contextlib.suppress(ValueError):
                new.append(json.loads(raw))
        self.lines += new
        return new

    def paints(self) -> list[dict[str, Any]]:
        return [x for x in self.lines if x.get("probe") == "paint"]

    def first(self, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        self.poll()
        return next((x for x in self.lines if pred(x)), None)

    def wait(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        found: dict[str, Any] = wait_for(lambda: self.first(pred), timeout, what)
        return found


@dataclass
class Context:
    """What every benchmark gets: the mode and where to put the app."""

    quick: bool
    display: str | None  # an Xvfb display, or None for QT_QPA_PLATFORM=offscreen
    log: Callable[[str], None]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        return f"xvfb {self.display}" if self.display else "offscreen"

    def qt_env(self) -> dict[str, str]:
        if self.display:
            return {"DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb"}
        return {"QT_QPA_PLATFORM": "offscreen"}
