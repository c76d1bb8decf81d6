#!/usr/bin/env python3
"""Example collector: post this machine's own figures to a Studio Status hub as a system.

It shows how to feed ``POST /api/v1/status/{system}`` (seed 004). A real HPC collector
would read ``sinfo``/``squeue``/``lfs df`` instead; the shape of what it sends is the same.
Standard library only, so it runs on a login node as it is:

    export STUDIO_STATUS_TOKEN=ss_...          # an admin token (manage-status)
    python scripts/collect_status.py --hub http://hub:8765 --system workstation-7 --fs /data
    python scripts/collect_status.py --dry-run            # print the snapshot, send nothing

Run it from cron every 5 minutes (``*/5 * * * *``) or with ``--interval 300``. If it stops,
the hub shows the system ``unknown`` after ``[systems] stale_after_seconds`` (10 min).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

FULL_PERCENT = 95.0  # a filesystem this full is reported degraded


def system_name(raw: str) -> str:
    """A hub system name from a host name: lower case, only [a-z0-9_.-]."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", raw.lower()).strip("-.") or "localhost"
    return name[:64]


def memory_percent() -> float | None:
    """Used memory from /proc/meminfo (Linux); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f)}
        return round(100 * (1 - info["MemAvailable"] / info["MemTotal"]), 1)
    except (OSError, KeyError, ValueError, ZeroDivisionError):
        return None


def filesystem(path: str) -> dict[str, Any]:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return {"name": path, "available": False}
    percent = round(100 * usage.used / usage.total, 1) if usage.total else 0.0
    return {
        "name": path,
        "available": True,
        "degraded": percent >= FULL_PERCENT,
        "capacity_tb": round(usage.total / 1e12, 4),
        "used_tb": round(usage.used / 1e12, 4),
        "utilization_percent": percent,
    }


def build_snapshot(paths: list[str], *, host: str | None = None) -> dict[str, Any]:
    """This machine as one system: one login node, one node of compute, its filesystems."""
    host = host or socket.gethostname()
    cpus = os.cpu_count() or 1
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:  # not on every platform
        load = None
    cpu = None if load is None else round(min(100.0, 100 * load / cpus), 1)
    return {
        "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "availability": "online",
        "login_nodes": [{"name": host, "available": True, "load": load, "cpu_percent": cpu}],
        "compute": [
            {"name": "local", "nodes_total": 1, "nodes_available": 1, "cores_per_node": cpus}
        ],
        "utilization": {"cpu_percent": cpu, "memory_percent": memory_percent()},
        "filesystems": [filesystem(p) for p in paths],
    }


def post(hub: str, token: str, system: str, snapshot: dict[str, Any], timeout: float = 10) -> Any:
    """Send one snapshot; returns the hub's answer, raises RuntimeError naming the problem."""
    request = urllib.request.Request(
        f"{hub.rstrip('/')}/api/v1/status/{system}",
        data=json.dumps(snapshot).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise RuntimeError(f"hub answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(f"cannot reach the hub at {hub}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hub", default=os.environ.get("STUDIO_STATUS_HUB", "http://127.0.0.1:8765")
    )
    parser.add_argument("--system", default=system_name(socket.gethostname()))
    parser.add_argument(
        "--fs",
        action="append",
        default=[],
        metavar="PATH",
        help="a filesystem to report (repeatable; default /)",
    )
    parser.add_argument(
        "--interval", type=float, default=0, help="post every N seconds instead of once"
    )
    parser.add_argument("--dry-run", action="store_true", help="print, do not send")
    args = parser.parse_args(argv)
    token = os.environ.get("STUDIO_STATUS_TOKEN", "")
    if not args.dry_run and not token:
        parser.error("set STUDIO_STATUS_TOKEN to a hub token with the manage-status permission")
    while True:
        snapshot = build_snapshot(args.fs or ["/"])
        if args.dry_run:
            print(json.dumps(snapshot, indent=2))
        else:
            try:
                answer = post(args.hub, token, args.system, snapshot)
                print(f"{args.system}: {answer['data']['status']}", flush=True)
            except RuntimeError as exc:
                print(f"{args.system}: {exc}", file=sys.stderr, flush=True)
                if not args.interval:
                    return 1
        if not args.interval:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
