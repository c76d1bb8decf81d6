"""Replaying both ComfyUI scenario captures through the hub: its jobs agree with ``/queue``
at every recorded instant (see :mod:`tests.integration.comfyhub`), with and without hub
restarts in the middle of every phase."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.comfyhub import POLL, VERSIONS, Scenario


@pytest.mark.parametrize("version", VERSIONS)
async def test_hub_agrees_with_queue_through_every_scenario(version: str, tmp_path: Path) -> None:
    async with Scenario(version, tmp_path) as sc:
        await sc.replay.run_until(sc.capture.end + 2, sc.check)
        assert sc.agreement.misses == [], "\n".join(sc.agreement.misses or [])
        assert sc.agreement.checked > 300
        assert sc.hub is not None
        assert not sc.hub.hub.jobs.jobs  # nothing left active at the end


#: phases with prompts in the queue whose middle gets a hub restart
RESTART_PHASES = [
    "queue_four",
    "between_prompts_gap",
    "delete_from_queue",
    "interrupt",
    "runtime_failure",
    "cached",
    "no_client_id",
    "server_restart",
]


@pytest.mark.parametrize("version", VERSIONS)
async def test_hub_restarts_mid_scenario_keep_the_agreement(version: str, tmp_path: Path) -> None:
    """The hub is stopped and started again (same database) in the middle of every phase,
    with half a second of the recording passing while it is away: it adopts what it had
    (queued at their places, running), and agrees with /queue again within one poll."""
    async with Scenario(version, tmp_path) as sc:
        spans = sc.capture.phase_spans()
        for phase in RESTART_PHASES:
            start, end = spans[phase]
            middle = start + (end - start) / 3
            await sc.replay.run_until(middle, sc.check)
            await sc.stop_hub()
            await sc.replay.run_until(middle + 0.5, sc.check)  # missed while away
            await sc.start_hub()
            sc.blind_until = sc.clock.t + POLL
        await sc.replay.run_until(sc.capture.end + 2, sc.check)
        assert sc.agreement.misses == [], "\n".join(sc.agreement.misses or [])
        assert sc.agreement.checked > 250
        assert sc.hub is not None
        assert not sc.hub.hub.jobs.jobs
