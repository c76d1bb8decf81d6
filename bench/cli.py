"""``python -m bench``: run the benchmarks, print one table (or JSON), optionally record it."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from . import app_benches, hub_benches, replica_benches
from .core import ROOT, Context, Figure, methods, table
from .procs import xvfb

Bench = Callable[[Context], list[Figure]]

#: Cheapest first; ``--only`` takes these names (comma-separated).
BENCHES: dict[str, Bench] = {
    "hub-uptime": hub_benches.bench_uptime,
    "hub-noargs": hub_benches.bench_hub_noargs,
    "floor": app_benches.bench_floor,
    "app-start": app_benches.bench_start,
    "app-default": app_benches.bench_default,
    "app-latency": app_benches.bench_latency,
    "app-burst": app_benches.bench_burst,
    "hub-footer": hub_benches.bench_footer,
    "hub-fanout": hub_benches.bench_fanout,
    "app-memory": app_benches.bench_memory,
    "app-idle": app_benches.bench_idle,
    "hub-schedule": hub_benches.bench_schedule,
    "replicas": replica_benches.bench_replicas,
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"load average at start {load}"
    )


def run(
    names: Sequence[str], *, quick: bool, offscreen: bool, log: Callable[[str], None]
) -> tuple[list[Figure], str]:
    figures: list[Figure] = []
    with xvfb() if not offscreen else _none() as display:
        ctx = Context(quick=quick, display=display, log=log)
        for name in names:
            log(f"bench: {name} ({ctx.platform}{', quick' if quick else ''}) ...")
            started = time.monotonic()
            try:
                figures += BENCHES[name](ctx)
            except Exception as exc:  # one broken benchmark must not hide the others
                figures.append(Figure(name, name, "-", [], method="did not run", error=repr(exc)))
            log(f"bench: {name} done in {time.monotonic() - started:.1f} s")
        return figures, ctx.platform


class _none:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


#: RESULTS.md keeps the hand-written analysis between these across records.
ANALYSIS_START, ANALYSIS_END = "<!-- analysis -->", "<!-- /analysis -->"
#: README.md's benchmark table lives between these; a record replaces it.
README_START, README_END = "<!-- bench:record -->", "<!-- /bench:record -->"


def between(text: str, start: str, end: str) -> str | None:
    """What ``text`` holds between the markers (exclusive), or None without them."""
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        return None
    return text[i + len(start) : j]


def replace_between(text: str, start: str, end: str, new: str) -> str:
    """``text`` with what lies between the markers replaced by ``new``; the markers stay."""
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers {start} … {end} not found")
    return text[: i + len(start)] + new + text[j:]


def run_line(*, quick: bool, took: float, platform_name: str) -> str:
    return (
        f"Run on {date.today().isoformat()} with `python -m bench{' --quick' if quick else ''}`"
        f" ({took:.0f} s); app on {platform_name}."
    )


def results_md(
    figures: Sequence[Figure],
    *,
    quick: bool,
    platform_name: str,
    took: float,
    host: str,
    analysis: str | None = None,
) -> str:
    """The whole RESULTS.md; ``analysis`` (what was tried, the floors) is carried over from
    the previous record, since only a person can write it."""
    failed = [f for f in figures if f.verdict in ("FAIL", "ERROR")]
    lines = [
        "# Benchmark results",
        "",
        run_line(quick=quick, took=took, platform_name=platform_name),
        "",
        f"Machine: {host}.",
        "",
        "This file is replaced by `python -m bench --record` (the analysis between the "
        "markers is kept); it is not a log.",
        "",
        table(figures),
        "",
        "## Missed targets",
        "",
    ]
    lines += [f"- **{f.name}**: {f.error or 'see the table'}" for f in failed] or ["None."]
    lines += ["", ANALYSIS_START + (analysis if analysis is not None else "\n") + ANALYSIS_END]
    lines += ["", "## How each figure is measured", "", methods(figures), ""]
    return "\n".join(lines)


def readme_block(
    figures: Sequence[Figure], *, quick: bool, platform_name: str, took: float, host: str
) -> str:
    """README's table section, regenerated from the same run as RESULTS.md."""
    return "\n".join(
        [
            "",
            f"{run_line(quick=quick, took=took, platform_name=platform_name)} Machine: {host}. "
            "How each figure is measured, and what was tried for the misses: "
            "[bench/RESULTS.md](bench/RESULTS.md).",
            "",
            table(figures),
            "",
        ]
    )


def record(
    figures: Sequence[Figure], *, quick: bool, platform_name: str, took: float, host: str
) -> list[Path]:
    """Replace bench/RESULTS.md (keeping its analysis) and README.md's table."""
    results, readme = ROOT / "bench" / "RESULTS.md", ROOT / "README.md"
    previous = results.read_text() if results.exists() else ""
    analysis = between(previous, ANALYSIS_START, ANALYSIS_END)
    results.write_text(
        results_md(
            figures,
            quick=quick,
            platform_name=platform_name,
            took=took,
            host=host,
            analysis=analysis,
        )
    )
    block = readme_block(figures, quick=quick, platform_name=platform_name, took=took, host=host)
    readme.write_text(replace_between(readme.read_text(), README_START, README_END, block))
    return [results, readme]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--quick", action="store_true", help="shorter windows and counts, every figure (~5 min)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    p.add_argument("--offscreen", action="store_true", help="QT_QPA_PLATFORM=offscreen, not Xvfb")
    p.add_argument("--record", action="store_true", help="replace bench/RESULTS.md with this run")
    args = p.parse_args(argv)
    names = list(BENCHES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHES]
        if unknown:
            p.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.monotonic()
    host = machine()
    figures, platform_name = run(names, quick=args.quick, offscreen=args.offscreen, log=log)
    took = time.monotonic() - started
    if args.json:
        print(
            json.dumps(
                {
                    "date": date.today().isoformat(),
                    "machine": host,
                    "quick": args.quick,
                    "platform": platform_name,
                    "seconds": round(took, 1),
                    "figures": [f.to_json() for f in figures],
                },
                indent=2,
            )
        )
    else:
        print(table(figures))
        print()
        print(methods(figures))
        print(f"\n{len(figures)} figures in {took:.0f} s; app on {platform_name}")
    if args.record:
        for out in record(
            figures, quick=args.quick, platform_name=platform_name, took=took, host=host
        ):
            log(f"bench: wrote {out}")
    return 1 if any(f.verdict == "ERROR" for f in figures) else 0
