"""The demo's simulated plant: real loopback services that the studio script steers.

The simulator does not fake check results: it runs small HTTP services on 127.0.0.1 (two
ComfyUI instances answering ``/system_stats`` in ComfyUI's own shape, a database health
endpoint, four GPU workers) and the hub's ordinary checkers probe them. When the script
says "comfyui-2 slow", that instance really answers slowly and the real ComfyUI checker
reports it degraded. Jobs, workflows and pods go through the hub's push path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from studio_status import pace
from studio_status.hub.cloud import budget_summary
from studio_status.hub.config import ServiceConfig
from studio_status.hub.service import Hub
from studio_status.protocol import utcnow

from .simulator import DEMO_BUDGET_CENTS, StudioScript

__all__ = ["SimulatedPlant", "budget_summary", "run_simulation"]

log = logging.getLogger("hub.simulator")

#: a slow answer's time in the demo; the database reads degraded beyond half of it (1000
#: ms), ComfyUI beyond three quarters (1500 ms)
SLOW_SECONDS = 2.0
DATABASE_DEGRADED = 0.5
COMFYUI_DEGRADED = 0.75
#: however fast the demo runs, a slow answer takes at least this long in real time (its
#: thresholds follow): a busy machine's scheduling, tens of milliseconds, must never read
#: as a slow service. At 20 times real time a slow check then takes 6 s of the demo, not 2.
SLOW_REAL_FLOOR = 0.3


def slow_seconds() -> float:
    """How long a slow answer takes, in real seconds (paced, down to the floor)."""
    return max(pace.real(SLOW_SECONDS), min(SLOW_SECONDS, SLOW_REAL_FLOOR))


BUDGET_PER_HOUR_USD = DEMO_BUDGET_CENTS / 100  # the demo's cap when the config sets none
#: steps a late simulator makes at once to keep its grid (a longer gap: it slept)
CATCH_UP_STEPS = 30


def _system_stats(instance: int) -> bytes:
    """A ``/system_stats`` body in ComfyUI 0.33's shape (see the recorded capture)."""
    gib = 1024**3
    return json.dumps(
        {
            "system": {
                "os": "posix",
                "ram_total": 64 * gib,
                "ram_free": 41 * gib,
                "comfyui_version": "0.33.0",
                "python_version": "3.11.7",
                "pytorch_version": "2.9.1",
                "embedded_python": False,
                "argv": ["main.py"],
            },
            "devices": [
                {
                    "name": f"cuda:0 NVIDIA GeForce RTX 4090 (sim {instance})",
                    "type": "cuda",
                    "index": 0,
                    "vram_total": 24 * gib,
                    "vram_free": (9 + 4 * instance) * gib,
                    "torch_vram_total": 20 * gib,
                    "torch_vram_free": 8 * gib,
                }
            ],
        }
    ).encode()


class _Endpoint:
    """One tiny HTTP service on loopback whose behaviour the script sets."""

    def __init__(self, name: str, body: bytes) -> None:
        self.name = name
        self.body = body
        self.mode = "ok"
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                await reader.readuntil(b"\r\n\r\n")
            if self.mode == "slow":
                await asyncio.sleep(slow_seconds())
            status = "503 Service Unavailable" if self.mode == "down" else "200 OK"
            body = b'{"error": "simulated outage"}' if self.mode == "down" else self.body
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # the hub stops during a slow answer: the connection ends here, quietly (a
            # handler that ends cancelled is logged as an error by asyncio's streams)
            pass
        finally:
            writer.close()


class SimulatedPlant:
    def __init__(self) -> None:
        self.endpoints: dict[str, _Endpoint] = {
            "comfyui-1": _Endpoint("comfyui-1", _system_stats(1)),
            "comfyui-2": _Endpoint("comfyui-2", _system_stats(2)),
            "database": _Endpoint("database", b'{"status": "ok", "engine": "postgres 15"}'),
            **{f"worker-{i}": _Endpoint(f"worker-{i}", b'{"status": "ok"}') for i in range(1, 5)},
        }

    async def start(self) -> None:
        for endpoint in self.endpoints.values():
            await endpoint.start()

    async def close(self) -> None:
        for endpoint in self.endpoints.values():
            await endpoint.close()

    def set(self, service: str, mode: str) -> None:
        self.endpoints[service].mode = mode

    def services(self, interval: float = 5.0) -> list[ServiceConfig]:
        """The studio's services as the hub watches them: ordinary checks of real endpoints.

        A sped-up demo answers slowly in its own time (:func:`slow_seconds`), so the latency
        that reads degraded follows it; the checks' timeouts stay real.
        """
        e = self.endpoints

        def paced_ms(share: float) -> int:
            return round(slow_seconds() * share * 1000)

        raw = [
            {
                "name": "comfyui",
                "label": "ComfyUI",
                "check": {
                    "kind": "comfyui",
                    "urls": [e["comfyui-1"].url, e["comfyui-2"].url],
                    "degraded_ms": paced_ms(COMFYUI_DEGRADED),
                },
            },
            {
                "name": "database",
                "label": "DB",
                "check": {
                    "kind": "http",
                    "url": f"{e['database'].url}/health",
                    "degraded_ms": paced_ms(DATABASE_DEGRADED),
                },
            },
            {
                "name": "workers",
                "label": "Workers",
                "check": {
                    "kind": "workers",
                    "urls": [e[f"worker-{i}"].url + "/health" for i in range(1, 5)],
                    "degraded_below": 1.0,
                    "down_below": 0.5,
                },
            },
        ]
        return [
            ServiceConfig.model_validate({**r, "interval_seconds": interval, "timeout_seconds": 4})
            for r in raw
        ]


async def run_simulation(
    hub: Hub,
    script: StudioScript,
    plant: SimulatedPlant,
    *,
    interval: float = 1.0,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Drive the studio: one script step per ``interval`` of the hub's time (``sleep``, by
    default the hub's: a sped-up demo's steps keep its pace), applied through real paths.

    Steps are dated on a fixed grid (start + k intervals), not when the loop happens to
    wake: the script's random draws depend on the time between steps, so a late wake would
    make the same seed another studio. A loop that fell behind catches up step by step, up
    to :data:`CATCH_UP_STEPS` (beyond, a machine that slept: the grid moves on from now).
    """
    sleep = sleep or hub.sleep
    hub.simulated = True
    cloud = hub.cloud.settings
    if cloud.budget_per_hour is None and cloud.budget_per_month is None:
        hub.cloud.settings = cloud.model_copy(update={"budget_per_hour": BUDGET_PER_HOUR_USD})
    await hub.cloud.apply("simulated", [])
    # a script starts afresh: the jobs an earlier run left active will never move again
    hub.abandon_jobs("simulator", "the simulator restarted; it does not continue earlier jobs")
    start = clock()
    n = 0
    while True:
        behind = (clock() - start).total_seconds() - n * interval
        if behind > CATCH_UP_STEPS * interval:  # it slept: the grid moves on from now
            start += timedelta(seconds=behind)
        step = script.step(start + timedelta(seconds=n * interval))
        n += 1
        for job in step.jobs:
            hub.push_job(job, source="simulator")
        for wf in step.workflows:
            hub.push_workflow(wf)
        for setting in step.plant:
            plant.set(setting.service, setting.mode)
            log.info("simulated %s is now %s", setting.service, setting.mode)
            hub.poke_checks()
        if step.pods:  # the provider-neutral push path, like any other cloud
            await hub.cloud.apply("simulated", script.pods)
        await sleep(max(0.0, (start - clock()).total_seconds() + n * interval))
