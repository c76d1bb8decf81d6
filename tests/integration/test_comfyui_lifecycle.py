"""Each of the job-lifecycle bugs of issue 14, replayed from the real scenario captures.

The hub runs on loopback with a ComfyUI source; :mod:`tests.hub.comfyscenario` plays a
capture to it on a clock the test moves (see :mod:`tests.integration.comfyhub`). Labels
(Q1, D3, R1, …) are the capture's, as ``README-scenarios.md`` lists them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from studio_status.client.state import StatusStore
from studio_status.protocol import (
    Event,
    JobInfo,
    JobStatus,
    Role,
    SnapshotMessage,
    Topic,
    parse_server_message,
)
from tests.hub.comfyscenario import T0
from tests.integration.comfyhub import POLL, VERSIONS, Scenario

pytestmark = pytest.mark.parametrize("version", VERSIONS)


def ids(sc: Scenario) -> dict[str, str]:
    return {label: pid for pid, label in sc.capture.labels.items()}


def job(sc: Scenario, label: str) -> JobInfo:
    """The hub's job of a prompt, active or finished."""
    assert sc.hub is not None
    job_id = f"comfyui:box:{ids(sc)[label]}"
    board = sc.hub.hub.jobs
    found = board.jobs.get(job_id) or next((j for j in board.recent if j.id == job_id), None)
    assert found is not None, f"{label} unknown to the hub"
    return found


def at(t: float) -> Any:
    return T0 + timedelta(seconds=t)


def first(sc: Scenario, label: str, kind: str, sock: str = "submitter") -> float:
    """When the recording shows ``kind`` of prompt ``label`` on a socket."""
    pid = ids(sc)[label]
    return next(
        r["t"]
        for r in sc.capture.records
        if r["dir"] == "recv"
        and r["sock"] == sock
        and r["msg"]["type"] == kind
        and r["msg"]["data"].get("prompt_id") == pid
    )


async def test_1_a_restarted_hub_adopts_jobs_as_they_were(version: str, tmp_path: Path) -> None:
    """Q1 running, Q2–Q4 queued at 1–3 when the hub restarts: they come back so, and
    Q2's real start later is seen (it gets a start time; the footer counts it running)."""
    async with Scenario(version, tmp_path) as sc:
        await sc.replay.run_until(first(sc, "Q1", "execution_start") + 1.0)
        before = {label: job(sc, label) for label in ("Q1", "Q2", "Q3", "Q4")}
        await sc.restart_hub()
        after = {label: job(sc, label) for label in ("Q1", "Q2", "Q3", "Q4")}
        assert after["Q1"].status is JobStatus.RUNNING
        assert after["Q1"].started_at == before["Q1"].started_at is not None
        assert [after[q].status for q in ("Q2", "Q3", "Q4")] == [JobStatus.QUEUED] * 3
        assert [after[q].queue_position for q in ("Q2", "Q3", "Q4")] == [1, 2, 3]
        q2_start = first(sc, "Q2", "execution_start")
        await sc.replay.run_until(q2_start + POLL)
        q2 = job(sc, "Q2")
        assert q2.status is JobStatus.RUNNING and q2.started_at is not None
        assert at(q2_start - 0.5) <= q2.started_at <= at(q2_start + POLL)
        assert sc.hub is not None and sc.hub.hub.state.footer(Role.ADMIN).jobs.running == 1
        assert [job(sc, q).queue_position for q in ("Q3", "Q4")] == [1, 2]


async def test_2_every_prompt_that_ran_is_seen_running(version: str, tmp_path: Path) -> None:
    """Starts hidden by ComfyUI's pause (a status with an unchanged count) are seen: every
    prompt that ran has a start time within one poll of its real start, G2 included."""
    async with Scenario(version, tmp_path) as sc:
        await sc.replay.run_until(sc.capture.end + 2)
        for label in ("Q1", "Q2", "Q3", "Q4", "G1", "G2", "G3", "D1", "I1", "I2", "I3", "F1"):
            started = job(sc, label).started_at
            real = first(sc, label, "execution_start")
            assert started is not None, f"{label} never seen running"
            assert at(real - 0.5) <= started <= at(real + POLL), label
        # the monitor's socket saw only `status` for them: the polls found the starts
        assert job(sc, "G2").status is JobStatus.COMPLETED


async def test_3_positions_reach_socket_clients_coalesced(version: str, tmp_path: Path) -> None:
    """A client on the event socket keeps the hub's queue positions as the queue moves
    (Q3, Q4 move up twice without a status change of their own), and one event carries
    every move of its interval."""
    async with Scenario(version, tmp_path) as sc:
        assert sc.hub is not None
        hub = sc.hub.hub
        token = await sc.hub.token(Role.CREATOR)
        store = StatusStore()
        moves: list[dict[str, Any]] = []
        async with sc.hub.socket(token, [Topic.JOBS, Topic.FOOTER]) as ws:
            snapshot = parse_server_message(await ws.recv())
            assert isinstance(snapshot, SnapshotMessage)
            store.apply_snapshot(snapshot)
            end = first(sc, "Q4", "execution_start") + 0.1
            checks = 0
            while sc.clock.t < end:
                await sc.replay.run_until(min(sc.clock.t + 0.5, end))
                hub.flush_moves()  # what the coalescing timer would send by now
                hub_places = {
                    j.id: j.queue_position
                    for j in hub.jobs.jobs.values()
                    if j.status is JobStatus.QUEUED
                }
                async with asyncio.timeout(5):  # until the client shows what the hub does
                    while hub_places != {
                        j.id: j.queue_position
                        for j in store.state.jobs.values()
                        if j.status is JobStatus.QUEUED
                    }:
                        message = parse_server_message(await ws.recv())
                        if isinstance(message, Event):
                            store.apply_event(message)
                            if message.type == "job.queue_changed":
                                moves.append(message.data["positions"])
                checks += 1
        assert checks > 5
        q3, q4 = (f"comfyui:box:{ids(sc)[q]}" for q in ("Q3", "Q4"))
        assert {q3: 1, q4: 2} in moves  # both moved in one event
        assert len(moves) <= 3


async def test_4_and_5_deleted_prompts_are_cancelled_and_places_stay_unique(
    version: str, tmp_path: Path
) -> None:
    """D3 deleted from the queue, then D2, D4, D5 cleared: each is cancelled (not failed),
    says why, and the remaining prompts never share a place (checked at every step)."""
    async with Scenario(version, tmp_path) as sc:
        _, end = sc.capture.phase_spans()["delete_from_queue"]

        async def unique(_: float) -> None:
            assert sc.hub is not None
            places = [
                j.queue_position
                for j in sc.hub.hub.jobs.jobs.values()
                if j.status is JobStatus.QUEUED and j.queue_position is not None
            ]
            assert sorted(places) == list(range(1, len(places) + 1))

        await sc.replay.run_until(end, unique)
        for label in ("D2", "D3", "D4", "D5"):
            gone = job(sc, label)
            assert gone.status is JobStatus.CANCELLED, label
            assert gone.error is not None and "removed from ComfyUI's queue" in gone.error
            assert gone.started_at is None
        assert job(sc, "D1").status is JobStatus.COMPLETED


async def test_6_a_down_source_stalls_its_jobs_at_once_and_they_end_lost(
    version: str, tmp_path: Path
) -> None:
    """ComfyUI killed with R1 running, R2, R3 queued: within one poll they are stalled (not
    counted as running or queued); when it answers again with an empty queue they end as
    lost, as of when it was last heard from, so R1's duration excludes the outage."""
    async with Scenario(version, tmp_path) as sc:
        assert sc.capture.down is not None
        broke, back = sc.capture.down
        await sc.replay.run_until(broke + POLL)
        assert sc.hub is not None
        for label in ("R1", "R2", "R3"):
            stalled = job(sc, label)
            assert stalled.stalled_since is not None and stalled.stalled_since <= at(broke)
            assert "refuses connections" in (stalled.stall_reason or "")
        footer = sc.hub.hub.state.footer(Role.ADMIN).jobs
        assert (footer.running, footer.queued, footer.stalled) == (0, 0, 3)
        await sc.replay.run_until(back + 2 * POLL)
        r1 = job(sc, "R1")
        assert r1.status is JobStatus.LOST
        assert r1.error == "ComfyUI restarted; its queue and history went with it"
        assert r1.finished_at is not None and r1.started_at is not None
        assert r1.finished_at <= at(broke)
        assert (r1.finished_at - r1.started_at).total_seconds() < 4  # killed 2.5 s in
        assert job(sc, "R2").status is JobStatus.LOST
        assert job(sc, "R2").started_at is None


async def test_7_socket_reconnects_and_jobs_api_is_asked_again_once_it_answers(
    version: str, tmp_path: Path
) -> None:
    """The outage grew the socket's backoff to 16 s; once a poll is answered the socket
    reconnects at once, and whether /api/jobs exists is asked again."""
    async with Scenario(version, tmp_path) as sc:
        assert sc.capture.down is not None
        _, back = sc.capture.down
        await sc.replay.run_until(back + 3 * POLL)
        source = sc.source
        assert source is not None
        answered = min(t for t, path in sc.server.requests if t >= back)
        reconnect = min(t for t, client in sc.server.connects if t >= back)
        assert reconnect - answered < 0.3
        assert source.connected
        asked = [p for t, p in sc.server.requests if t >= back and p.startswith("/api/jobs?")]
        assert asked, "the jobs API was not asked for again"


async def test_8_a_fully_cached_prompt_says_so(version: str, tmp_path: Path) -> None:
    async with Scenario(version, tmp_path) as sc:
        _, end = sc.capture.phase_spans()["cached"]
        await sc.replay.run_until(end)
        c1, c2 = job(sc, "C1"), job(sc, "C2")
        assert c2.status is JobStatus.COMPLETED and c2.cached
        assert c1.status is JobStatus.COMPLETED and not c1.cached


async def test_prompts_have_names_and_other_clients_progress_is_what_reached_us(
    version: str, tmp_path: Path
) -> None:
    """Names: the prompt's main node and queue number. N1 (no client id) broadcast its
    progress, so the monitor knows it; the others sent theirs to their submitter only."""
    async with Scenario(version, tmp_path) as sc:
        _, end = sc.capture.phase_spans()["no_client_id"]
        await sc.replay.run_until(end)
        q1 = job(sc, "Q1")
        assert q1.name is not None and q1.name.startswith("SlowProgress #")
        assert job(sc, "N1").progress == 100.0
