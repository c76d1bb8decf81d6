"""The ComfyUI source against the real capture, replayed through a loopback server.

The recorded socket messages go over a real WebSocket to the source's own socket, the
recorded HTTP bodies answer its polls, and a real hub receives what it pushes. The test
waits for the source to have handled each message (and any poll it triggered) before the
next one: no sleeps, the same order every run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from studio_status.hub.bus import Subscriber
from studio_status.hub.sources.comfyui import ComfyUISource
from studio_status.hub.sources.specs import ComfyUISourceSpec, SourcesConfig
from studio_status.protocol import JobInfo, JobStatus, Role
from tests.hub.comfyreplay import ReplayComfyUI, load_capture, socket_messages
from tests.hubrunner import run_hub

RUN1 = "4981064e-21fb-491e-8f64-44f630b34ee8"  # fresh run, SaveImage
RUN2 = "493f3786-a3a6-4235-9a77-da1a00827365"  # the same prompt again: all cached
RUN3B = "755867cb-7dea-48f3-930c-8ffefac75982"  # ZeroDivisionError
RUN4 = "c4ae9295-7036-4d7d-9e18-6905e32ade6a"  # interrupted
RUN5 = "29935c0d-ad6f-4572-89f5-85a47fe3cd96"  # pending behind RUN4, then success
RUN6 = "446e4188-1bf9-47e3-a6a0-f5fa25635a05"  # no client_id: broadcast, no end message
SUBMITTER = "cfe69f37aa584acda00107b179ec1f05"


def job(pid: str) -> str:
    return f"comfyui:box:{pid}"


def sources(url: str) -> SourcesConfig:
    spec = ComfyUISourceSpec(
        name="box",
        url=url,
        poll_seconds=3600,
        reconnect_initial_seconds=0.05,  # type: ignore[arg-type]
    )
    return SourcesConfig(comfyui=[spec])


async def settle(source: ComfyUISource, messages: int) -> None:
    """Until the source has handled ``messages`` socket messages and no poll is due."""
    async with asyncio.timeout(10):
        while not (source.tracker.stats.messages >= messages and source.idle):
            source.changed.clear()
            await source.changed.wait()


async def replay(
    server: ReplayComfyUI, source: ComfyUISource, *, monitor: bool, until: float | None = None
) -> int:
    n = 0
    for record in socket_messages(server.records, monitor=monitor):
        if until is not None and record["t"] > until:
            break
        if record["dir"] == "http":
            server.take(record)
            continue
        if n == 3:
            # a preview frame: 4-byte big-endian type, then the image; dropped unread
            await server.send(b"\x00\x00\x00\x01" + b"\x89PNG" + bytes(2048))
        await server.send(record["msg"])
        n += 1
        await settle(source, n)
    return n


def drain(sub: Subscriber) -> list[tuple[str, dict[str, object]]]:
    out = []
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
        out.append((event.type, event.data))
    return out


def finished(source_jobs: list[JobInfo]) -> dict[str, JobInfo]:
    return {j.id: j for j in source_jobs}


async def test_submitter_socket_replay_gives_jobs_progress_and_outcomes(tmp_path: Path) -> None:
    server = await ReplayComfyUI(load_capture()).start()
    try:
        async with run_hub(tmp_path, [], sources=sources(server.url)) as h:
            source = h.hub.sources[0]
            assert isinstance(source, ComfyUISource)
            sub = h.hub.bus.subscribe(Role.ADMIN, ["jobs", "job_progress"])
            await server.wait_connected()
            await settle(source, 0)
            n = await replay(server, source, monitor=False)
            assert source.tracker.stats.messages == n  # binary frames are not messages
            # RUN6 had no client id: no end message reached any socket; the next poll
            # finds it gone from the queue and reads its outcome from /history
            assert job(RUN6) in h.hub.jobs.jobs
            source.kick()
            await settle(source, n)

            done = finished(list(h.hub.jobs.recent))
            assert not h.hub.jobs.jobs
            assert done[job(RUN1)].status is JobStatus.COMPLETED
            assert done[job(RUN1)].progress == 100.0
            assert done[job(RUN1)].worker == "box" and done[job(RUN1)].type == "comfyui"
            assert done[job(RUN2)].status is JobStatus.COMPLETED
            assert done[job(RUN3B)].status is JobStatus.FAILED
            assert done[job(RUN3B)].error == (
                "ZeroDivisionError: float division by zero (node 1 ComfyMathExpression)"
            )
            assert done[job(RUN4)].status is JobStatus.CANCELLED
            assert done[job(RUN4)].error == "interrupted (node 3 ColorTransfer)"
            assert done[job(RUN5)].status is JobStatus.COMPLETED
            assert done[job(RUN6)].status is JobStatus.COMPLETED

            tracker = source.tracker
            assert tracker.outcome(RUN2) is not None and tracker.outcome(RUN2).cached  # type: ignore[union-attr]
            assert not tracker.outcome(RUN1).cached  # type: ignore[union-attr]
            assert not tracker.outcome(RUN6).cached  # type: ignore[union-attr]

            events = drain(sub)
            progress: dict[str, list[object]] = {}
            statuses: dict[str, list[object]] = {}
            for kind, data in events:
                if kind == "job.progress":
                    progress.setdefault(str(data["job_id"]), []).append(data["progress"])
                else:
                    j = data["job"]
                    assert isinstance(j, dict)
                    statuses.setdefault(str(j["id"]), []).append(j["status"])
            # only what ComfyUI sent: no numbers for the all-cached run or the failed one
            assert progress == {
                job(RUN1): [25.0, 100.0],
                job(RUN4): [2.1],
                job(RUN5): [50.0, 100.0],
                job(RUN6): [33.3, 100.0],
            }
            assert statuses[job(RUN1)] == ["running", "completed"]
            assert statuses[job(RUN4)] == ["running", "cancelled"]
            assert statuses[job(RUN3B)] == ["running", "failed"]

            assert server.origin_refused == 0
            assert server.client_ids and server.client_ids[0] not in (
                SUBMITTER,
                "statushub-monitor",
            )
            assert f"/history/{RUN6}" in server.requests
    finally:
        await server.close()


async def test_monitor_socket_polls_and_reconnects_after_a_restart(tmp_path: Path) -> None:
    """What a monitor really sees of other clients' prompts: ``status`` on its socket, the
    queue and job listing by polling, broadcast progress of a prompt without client id."""
    server = await ReplayComfyUI(load_capture()).start()
    try:
        async with run_hub(tmp_path, [], sources=sources(server.url)) as h:
            source = h.hub.sources[0]
            assert isinstance(source, ComfyUISource)
            await server.wait_connected()
            await settle(source, 0)
            # up to the first status after the "/queue (while running)" snapshot
            n = await replay(server, source, monitor=True, until=2.5076)
            running, pending = h.hub.jobs.jobs[job(RUN4)], h.hub.jobs.jobs[job(RUN5)]
            assert running.status is JobStatus.RUNNING
            assert running.progress is None  # ComfyUI told this socket no number
            assert pending.status is JobStatus.QUEUED and pending.queue_position == 1

            port = server.port
            await server.close()
            async with asyncio.timeout(10):
                while source.connected:
                    source.changed.clear()
                    await source.changed.wait()
            # ComfyUI comes back empty: the prompts it had are gone
            server = await ReplayComfyUI(load_capture(), fresh=True).start(port)
            await server.wait_connected()
            await settle(source, n)
            async with asyncio.timeout(10):
                while h.hub.jobs.jobs:
                    source.changed.clear()
                    await source.changed.wait()
            done = finished(list(h.hub.jobs.recent))
            assert done[job(RUN4)].status is JobStatus.LOST
            assert done[job(RUN4)].error == "ComfyUI restarted; its queue and history went with it"
            assert done[job(RUN5)].status is JobStatus.LOST
            # it ended, as far as anyone knows, when ComfyUI was last heard from
            assert done[job(RUN4)].finished_at is not None
            assert done[job(RUN4)].finished_at <= done[job(RUN4)].stalled_since  # type: ignore[operator]
            assert source.connects == 2 and server.origin_refused == 0
    finally:
        await server.close()
