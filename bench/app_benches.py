"""App benchmarks: start-up, idle cost, event-to-pixel latency, burst, memory over time.

Each runs the real app (:mod:`bench.appchild` → ``studio_status.cli.main``) in a child
process against a real hub child on loopback, reads the strip's paint probe
(``STUDIO_STATUS_PAINT_PROBE``) and the hub's "accepted at" stamps, both on
``CLOCK_MONOTONIC``.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from pathlib import Path
from typing import Any

from studio_status.protocol import HealthStatus
from studio_status.ui.formats import STATUS_GLYPHS

from .core import (
    PY,
    ROOT,
    BenchError,
    Context,
    Figure,
    LineFile,
    descendants,
    isolated_env,
    proc_sample,
    stop_process,
    tree_sample,
    wait_for,
    workdir,
)
from .procs import AppChild, HubChild, Proxy

MB = 1024 * 1024


def _live(app: AppChild, hub: HubChild, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until the strip painted live data at or after the hub's current seq."""
    seq = hub.command(cmd="seq")["seq"]
    return app.wait_paint(seq, timeout, "the strip to paint live data")


# -- start-up -----------------------------------------------------------------------------


def bench_start(ctx: Context) -> list[Figure]:
    runs = 2 if ctx.quick else 7
    cold_first: list[float] = []
    cold_data: list[float] = []
    cold_loop: list[float] = []
    warm_first: list[float] = []
    warm_loop: list[float] = []
    warm_had_data = True
    with workdir("start") as tmp, HubChild(tmp / "hub") as hub:
        for i in range(runs):
            home = tmp / f"cold-{i}"  # a fresh home: no cached snapshot, no settings
            with AppChild(home, ctx.qt_env(), hub_url=hub.url, token=hub.token) as app:
                first = app.probe.wait(lambda x: x.get("probe") == "paint", 30, "first paint")
                loop = app.probe.wait(lambda x: x.get("mark") == "loop", 5, "loop mark")
                data = _live(app, hub)
                cold_first.append((first["t"] - app.started) * 1000)
                cold_loop.append((first["t"] - loop["t"]) * 1000)
                cold_data.append((data["t"] - app.started) * 1000)
                time.sleep(0.3)  # let the client write its snapshot cache
        warm_home = tmp / f"cold-{runs - 1}"  # has the cache the last cold run wrote
        for _ in range(runs):
            with AppChild(warm_home, ctx.qt_env(), hub_url=hub.url, token=hub.token) as app:
                first = app.probe.wait(lambda x: x.get("probe") == "paint", 30, "first paint")
                loop = app.probe.wait(lambda x: x.get("mark") == "loop", 5, "loop mark")
                warm_had_data &= bool(first.get("data"))
                warm_first.append((first["t"] - app.started) * 1000)
                warm_loop.append((first["t"] - loop["t"]) * 1000)
                _live(app, hub)
    clock = "CLOCK_MONOTONIC; start = just before spawn"
    paint = "end = first Paint event reaching the strip (paint probe)"
    return [
        Figure(
            "app-start",
            "start cold → first paint",
            "ms",
            cold_first,
            method=f"{clock}; {paint}; fresh HOME/XDG dirs (no cache, no settings)",
        ),
        Figure(
            "app-start",
            "start cold → live data painted",
            "ms",
            cold_data,
            method=f"{clock}; end = first paint with the hub's current seq",
        ),
        Figure(
            "app-start",
            "start warm → first paint",
            "ms",
            warm_first,
            target=400,
            judge="median",
            method=f"{clock}; {paint}; cached snapshot present"
            + ("" if warm_had_data else " (BUT the first paint had no data)"),
        ),
        Figure(
            "app-start",
            "loop start → first paint (cold+warm)",
            "ms",
            cold_loop + warm_loop,
            target=200,
            judge="max",
            method="from the qasync loop's first run_until_complete to the first strip paint",
        ),
    ]


# -- idle ---------------------------------------------------------------------------------


def bench_idle(ctx: Context) -> list[Figure]:
    window = 15.0 if ctx.quick else 60.0
    slice_s = 5.0
    with (
        workdir("idle") as tmp,
        HubChild(tmp / "hub", "--heartbeat", "15") as hub,
        AppChild(tmp / "app", ctx.qt_env(), hub_url=hub.url, token=hub.token) as app,
    ):
        _live(app, hub)
        time.sleep(3.0)  # settle: the snapshot, the cache write, first layout
        samples = [proc_sample(app.pid)]
        for _ in range(round(window / slice_s)):
            time.sleep(slice_s)
            app.check_alive()
            samples.append(proc_sample(app.pid))
        age = samples[-1].at - app.started
    cpu = [(b.cpu - a.cpu) / (b.at - a.at) * 60 for a, b in itertools.pairwise(samples)]
    wakeups = [(b.voluntary - a.voluntary) / (b.at - a.at) for a, b in itertools.pairwise(samples)]
    total_cpu = (samples[-1].cpu - samples[0].cpu) / (samples[-1].at - samples[0].at) * 60
    note = f"--quick: {window:g} s window" if ctx.quick else ""
    return [
        Figure(
            "app-idle",
            "idle CPU (live, 15 s heartbeats)",
            "s/min",
            cpu,
            target=0.15,
            judge="median",
            method=f"/proc/PID/task/*/schedstat over {window:g} s in {slice_s:g} s slices "
            f"after live + 3 s; whole window {total_cpu:.3f} s/min",
            note=note,
        ),
        Figure(
            "app-idle",
            "idle wake-ups",
            "1/s",
            wakeups,
            method="voluntary context switches/s, all threads (each sleep ends in a wake-up)",
            note=note,
        ),
        Figure(
            "app-idle",
            f"RSS after {age:.0f} s",
            "MB",
            [samples[-1].rss / MB],
            target=90,
            judge="max",
            method="/proc/PID/statm resident pages at the end of the idle window",
            note=note,
        ),
    ]


# -- event to pixel -----------------------------------------------------------------------


def _match(changes: list[list[float]], paints: list[dict[str, Any]]) -> list[float]:
    """For each (seq, t): ms until the first paint showing seq or later."""
    out = []
    paints = [p for p in paints if p.get("seq") is not None]
    i = 0
    for seq, t, *_ in changes:
        while i < len(paints) and paints[i]["seq"] < seq:
            i += 1
        if i == len(paints):
            raise BenchError(f"no paint for seq {seq}")
        out.append((paints[i]["t"] - t) * 1000)
    return out


def bench_latency(ctx: Context) -> list[Figure]:
    count = 200 if ctx.quick else 400
    gap = 0.03 if ctx.quick else 0.06
    with (
        workdir("latency") as tmp,
        HubChild(tmp / "hub") as hub,
        AppChild(tmp / "app", ctx.qt_env(), hub_url=hub.url, token=hub.token) as app,
    ):
        _live(app, hub)
        time.sleep(1.0)
        reply = hub.command(cmd="flip", count=count, gap=gap)
        changes = reply["changes"]
        app.wait_paint(int(changes[-1][0]), 10, "the last change painted")
        app.probe.poll()
        paints = app.probe.paints()
        latencies = _match(changes, paints)
    return [
        *_none_leak(paints),
        Figure(
            "app-latency",
            "event → pixel",
            "ms",
            latencies,
            target=50,
            method=f"{count} status changes {gap * 1000:g} ms apart via Hub.record() in the hub "
            "child; start = monotonic just before record(), end = first strip Paint with "
            "last_seq ≥ the change's seq (includes ≤ 25 ms repaint coalescing)",
        ),
    ]


def _none_leak(paints: list[dict[str, Any]]) -> list[Figure]:
    """None references lost per strip repaint (the probe's ``none_refs``)."""
    if len(paints) < 20 or "none_refs" not in paints[0]:
        return []
    lost = (paints[0]["none_refs"] - paints[-1]["none_refs"]) / (len(paints) - 1)
    guard = 1 << 40
    real = paints[0]["none_refs"] - (guard if paints[0]["none_refs"] > guard else 0)
    until = real / lost if lost > 0 else None
    return [
        Figure(
            "app-latency",
            "None refs lost per strip repaint",
            "refs",
            [lost],
            target=0,
            judge="max",
            method=f"sys.getrefcount(None) at each probed paint, {len(paints)} paints; "
            "on Python < 3.12 a loss aborts the app (none_dealloc) after ~"
            + (f"{until:,.0f} repaints" if until else "never")
            + "; the bench's app child adds 2**40 refs so it can run (BENCH_NONE_GUARD)",
        )
    ]


# -- burst --------------------------------------------------------------------------------


def bench_burst(ctx: Context) -> list[Figure]:
    runs = 1 if ctx.quick else 5
    stalls: list[float] = []
    finals: list[float] = []
    gcs: list[float] = []
    with (
        workdir("burst") as tmp,
        HubChild(tmp / "hub", "--services", "200") as hub,
        AppChild(
            tmp / "app", ctx.qt_env(), hub_url=hub.url, token=hub.token, lag_monitor=True
        ) as app,
    ):
        _live(app, hub)
        time.sleep(1.0)
        for _ in range(runs):
            reply = hub.command(cmd="burst", events=10_000, seconds=1.0)
            final = app.wait_shown(int(reply["last_sent_seq"]), 60, "the burst's final state")
            time.sleep(0.3)
            app.probe.poll()
            lags = [
                x["gap"] - 0.005
                for x in app.probe.lines
                if x.get("mark") == "lag" and reply["t0"] <= x["t"] <= final["t"] + 0.3
            ]
            stalls.append(max(lags, default=0.0) * 1000)
            gcs += [
                x["ms"]
                for x in app.probe.lines
                if x.get("mark") == "gc" and reply["t0"] <= x["t"] <= final["t"] + 0.3
            ]
            finals.append((final["t"] - reply["t0"]) * 1000)
            time.sleep(1.0)
    return [
        Figure(
            "app-burst",
            "burst 10k events/1 s: longest UI stall",
            "ms",
            stalls,
            target=50,
            judge="max",
            method="a 5 ms call_later chain on the app's qasync loop; stall = tick gap − 5 ms, "
            "worst from the first event to 0.3 s after the final paint; one sample per burst; "
            f"garbage collections over 5 ms meanwhile: {len(gcs)}, longest "
            f"{max(gcs, default=0.0):.0f} ms",
        ),
        Figure(
            "app-burst",
            "burst 10k events/1 s: time to final state",
            "ms",
            finals,
            method="from the first burst event accepted to the strip's paint of last_seq ≥ the "
            "seq of the burst's last event the app is sent, or its render of that state when "
            "it changed nothing on screen (store and strip both show the final state)",
        ),
    ]


# -- memory -------------------------------------------------------------------------------


def bench_memory(ctx: Context) -> list[Figure]:
    events = 1_000 if ctx.quick else 20_000
    reconnects = 10 if ctx.quick else 200
    per_cycle = events // reconnects // 2  # two events (health + footer) per change
    with workdir("memory") as tmp, HubChild(tmp / "hub") as hub:
        proxy = Proxy(hub.port)
        try:
            url = f"http://127.0.0.1:{proxy.port}"
            with AppChild(tmp / "app", ctx.qt_env(), hub_url=url, token=hub.token) as app:
                _live(app, hub)
                # warm-up: one cycle of everything, so caches and pools exist before the baseline
                for _ in range(3):
                    _cycle(app, hub, proxy, max(1, per_cycle))
                time.sleep(2.0)
                before = proc_sample(app.pid).rss
                start = hub.command(cmd="seq")["seq"]
                stuck = sum(_cycle(app, hub, proxy, per_cycle) for _ in range(reconnects))
                sent = hub.command(cmd="seq")["seq"] - start
                time.sleep(2.0)
                after = proc_sample(app.pid).rss
        finally:
            proxy.close()
    note = f"--quick: {events} events, {reconnects} reconnects" if ctx.quick else ""
    return [
        Figure(
            "app-memory",
            f"RSS growth over {sent} events + {reconnects} reconnects",
            "MB",
            [(after - before) / MB],
            target=5,
            judge="max",
            method="RSS after − RSS before (after a warm-up); reconnects forced by a loopback "
            "proxy aborting the app's connections; each cycle waits for the paint and the "
            "reconnect",
            note=note,
        ),
        Figure(
            "app-memory",
            "changes not painted within 2 s of a resume",
            "count",
            [float(stuck)],
            target=0,
            judge="max",
            method=f"over the {reconnects} reconnects: a change made right after the app's new "
            "connection was accepted, not painted within 2 s (then retried with another)",
            note=note,
        ),
    ]


def _cycle(app: AppChild, hub: HubChild, proxy: Proxy, changes: int) -> int:
    """Changes, then a forced reconnect; returns how many post-reconnect changes were not
    painted within 2 s (each is retried with a fresh change, at most 10 times)."""
    reply = hub.command(cmd="flip", count=changes, gap=0.0)
    last = int(reply["changes"][-1][0])
    app.wait_paint(last, 20, "a cycle's changes painted")
    accepted = proxy.accepted
    proxy.drop_all()
    wait_for(lambda: proxy.accepted > accepted, 20, "the app to reconnect")
    # the app is live again once a fresh change reaches the strip: through the resumed
    # stream (its seq) or through the footer poll that runs while the socket is down (the
    # text shows the new state, painted after the change was made)
    for missed in range(10):
        seq, made, status = hub.command(cmd="flip", count=1, gap=0.0)["changes"][-1]
        glyph = STATUS_GLYPHS[HealthStatus(status)]
        try:
            app.wait_paint(
                int(seq),
                2.0,
                "a change after the reconnect",
                shows=(float(made), f"{glyph} Svc 0"),
            )
        except BenchError:
            app.check_alive()
            continue
        return missed
    raise BenchError("no change reached the strip in 10 tries after a reconnect")


# -- the default mode: the app with its own hub -------------------------------------------


def _live_paint(x: dict[str, Any]) -> bool:
    """A paint of state from the live stream (the snapshot sets a seq; a cached footer
    has none)."""
    return x.get("probe") == "paint" and x.get("seq") is not None


def bench_default(ctx: Context) -> list[Figure]:
    """``studio-status`` as most people run it: no hub URL, so it runs its own hub.

    Every figure is for all the app's processes together (:func:`tree_sample`), so a hub
    run as a child process would be counted as well as one in the app's own process.
    """
    warm_runs = 2 if ctx.quick else 5
    window = 15.0 if ctx.quick else 60.0
    slice_s = 5.0
    cold_live: list[float] = []
    warm_first: list[float] = []
    warm_live: list[float] = []
    with workdir("default") as tmp:
        home = tmp / "home"  # one user: the cold run leaves the cache and the hub's database
        for run in range(1 + warm_runs):
            app = AppChild(home, ctx.qt_env(), hub_url=None, token=None, tag=f"run-{run}")
            try:
                first = app.probe.wait(lambda x: x.get("probe") == "paint", 30, "first paint")
                live = app.probe.wait(_live_paint, 30, "live data painted")
                if run == 0:
                    cold_live.append((live["t"] - app.started) * 1000)
                    time.sleep(0.5)  # let the client write its snapshot cache
                    continue
                warm_first.append((first["t"] - app.started) * 1000)
                warm_live.append((live["t"] - app.started) * 1000)
                if run < warm_runs:
                    continue
                time.sleep(3.0)  # settle: the cache write, the hub's first checks
                samples = [tree_sample(app.pid)]
                for _ in range(round(window / slice_s)):
                    time.sleep(slice_s)
                    app.check_alive()
                    samples.append(tree_sample(app.pid))
                age = samples[-1].at - app.started
                processes = 1 + len(descendants(app.pid))
            finally:
                app.close()
    pairs = list(itertools.pairwise(samples))
    cpu = [(b.cpu - a.cpu) / (b.at - a.at) * 60 for a, b in pairs]
    wakeups = [(b.voluntary - a.voluntary) / (b.at - a.at) for a, b in pairs]
    total_cpu = (samples[-1].cpu - samples[0].cpu) / (samples[-1].at - samples[0].at) * 60
    note = f"--quick: {warm_runs} warm runs, {window:g} s window" if ctx.quick else ""
    every = f"all processes ({processes} at the end: the app and whatever it started)"
    clock = "CLOCK_MONOTONIC from just before spawn"
    return [
        Figure(
            "app-default",
            "default mode: launch cold → live data painted",
            "ms",
            cold_live,
            method=f"`studio-status` with no hub URL (its own hub), fresh HOME; {clock} to the "
            "first strip paint of live data (a snapshot's seq)",
            note=note,
        ),
        Figure(
            "app-default",
            "default mode: launch warm → first paint",
            "ms",
            warm_first,
            method=f"the same HOME again (snapshot cache and hub database present); {clock} "
            "to the first strip paint",
            note=note,
        ),
        Figure(
            "app-default",
            "default mode: launch warm → live data painted",
            "ms",
            warm_live,
            target=1000,
            judge="median",
            method=f"the same HOME again; {clock} to the first strip paint of live data from "
            "its own hub",
            note=note,
        ),
        Figure(
            "app-default",
            "default mode: idle CPU, all processes",
            "s/min",
            cpu,
            target=0.06,
            judge="median",
            method=f"schedstat of every thread of {every}, over {window:g} s in "
            f"{slice_s:g} s slices after live + 3 s; whole window {total_cpu:.3f} s/min; the "
            "hub checks its three default services every 30 s meanwhile",
            note=note,
        ),
        Figure(
            "app-default",
            "default mode: idle wake-ups, all processes",
            "1/s",
            wakeups,
            target=4,
            judge="median",
            method=f"voluntary context switches/s of every thread of {every}",
            note=note,
        ),
        Figure(
            "app-default",
            f"default mode: RSS after {age:.0f} s, all processes",
            "MB",
            [samples[-1].rss / MB],
            target=120,
            judge="max",
            method=f"/proc/N/statm resident pages summed over {every} at the end of the idle "
            "window",
            note=note,
        ),
    ]


# -- the floor: a bare PySide6 window -----------------------------------------------------


def _floor_runs(
    ctx: Context, tmp: Path, runs: int, hold: float, *args: str
) -> tuple[list[float], float, float]:
    """``runs`` launches of the floor child; warm starts (ms), and RSS (MB) with its age
    (s) of the last one, held ``hold`` s from launch."""
    starts: list[float] = []
    rss = age = 0.0
    for run in range(runs):
        probe = LineFile(tmp / f"floor-{'-'.join(args)}-{run}.jsonl")
        env = isolated_env(tmp / "home", **ctx.qt_env())
        started = time.monotonic()
        proc = subprocess.Popen(
            [PY, "-m", "bench.floorchild", str(probe.path), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            painted = probe.wait(lambda x: x.get("probe") == "paint", 30, "the bare paint")
            if run > 0:  # the first run warms the file cache, as the app's cold run does
                starts.append((painted["t"] - started) * 1000)
            if run == runs - 1:
                time.sleep(max(0.0, hold - (time.monotonic() - started)))
                sample = proc_sample(proc.pid)
                rss, age = sample.rss / MB, sample.at - started
        finally:
            stop_process(proc)
    return starts, rss, age


def bench_floor(ctx: Context) -> list[Figure]:
    """What any PySide6 app on this machine pays: start and RSS of a bare window, and the
    RSS of that window with the libraries the app is built on, so the app's own figures
    can be read against them (measured in the same run)."""
    runs = 3 if ctx.quick else 6
    hold = 15.0 if ctx.quick else 60.0
    with workdir("floor") as tmp:
        starts, rss, age = _floor_runs(ctx, tmp, runs, hold)
        _, libs_rss, libs_age = _floor_runs(ctx, tmp, 2, hold, "--libraries")
    note = f"--quick: {runs - 1} runs, RSS at {hold:g} s" if ctx.quick else ""
    return [
        Figure(
            "floor",
            "floor: bare PySide6 window, launch warm → first paint",
            "ms",
            starts,
            method="`python -m bench.floorchild`: import QtWidgets, QApplication, one "
            "1280×28 QWidget shown; CLOCK_MONOTONIC from just before spawn to its first "
            "Paint event (first of the runs dropped: it warms the file cache)",
            note=note,
        ),
        Figure(
            "floor",
            f"floor: bare PySide6 window, RSS after {age:.0f} s",
            "MB",
            [rss],
            method="/proc/PID/statm resident pages of the bare window, idle in Qt's loop",
            note=note,
        ),
        Figure(
            "floor",
            f"floor: bare window + the app's libraries, RSS after {libs_age:.0f} s",
            "MB",
            [libs_rss],
            method="`python -m bench.floorchild --libraries`: the bare window run by a qasync "
            "loop, holding asyncio, qasync, pydantic (one model validated), an httpx client, "
            "the websockets client and a tray icon, the app's refused imports refused; "
            "/proc/PID/statm at the end (second launch)",
            note=note,
        ),
    ]
