"""The optional ComfyUI extension (``integrations/comfyui/studio_status_relay``).

Its relay runs here on a stand-in for ComfyUI's ``PromptServer`` (ComfyUI itself is not
installed): the messages the capture's submitter got alone go through it, and the hub,
which only has its own socket, then knows every prompt's start, progress and end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio_status.hub.sources.comfyui import CLIENT_PREFIX
from studio_status.protocol import JobStatus, Role
from tests.hub.comfyscenario import load_relay
from tests.integration.comfyhub import VERSIONS, Scenario


class _Ws:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []

    async def send_json(self, data: Any) -> None:
        self.got.append(data)


class _Closing(_Ws):
    async def send_json(self, data: Any) -> None:
        raise ConnectionResetError("closing")


class _Server:
    """ComfyUI's PromptServer as the relay touches it: ``sockets`` and ``send_json``."""

    def __init__(self) -> None:
        self.sockets: dict[str, Any] = {
            "browser": _Ws(),
            f"{CLIENT_PREFIX}hub": _Ws(),
            f"{CLIENT_PREFIX}gone": _Closing(),
            "other-tab": _Ws(),
        }
        self.sent: list[tuple[str, Any, str | None]] = []

    async def send_json(self, event: str, data: Any, sid: str | None = None) -> None:
        self.sent.append((event, data, sid))


async def test_relay_copies_one_clients_prompt_events_to_hub_sockets_only() -> None:
    relay_module = load_relay()
    assert relay_module.PREFIX == CLIENT_PREFIX  # the hub's socket id is what it looks for
    server = _Server()
    relay = relay_module.install(server)
    assert relay_module.install(server) is relay  # installing twice wraps once
    progress = {"value": 1, "max": 6, "prompt_id": "p", "node": "2"}
    await server.send_json("progress", progress, "browser")
    await server.send_json("status", {"status": {}}, "browser")  # a greeting: not a prompt's
    await server.send_json("status", {"status": {}})  # broadcast: everyone has it already
    await server.send_json("executing", {"node": "3", "prompt_id": "p"}, f"{CLIENT_PREFIX}hub")
    hub = server.sockets[f"{CLIENT_PREFIX}hub"]
    assert hub.got == [{"type": "progress", "data": progress}]
    assert server.sockets["other-tab"].got == []
    assert [s[0] for s in server.sent] == ["progress", "status", "status", "executing"]
    assert relay.relayed == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_with_the_relay_other_clients_prompts_show_real_progress(
    version: str, tmp_path: Path
) -> None:
    async with Scenario(version, tmp_path, relay=True) as sc:
        await sc.replay.run_until(sc.capture.end + 2, sc.check)
        assert sc.agreement.misses == [], "\n".join(sc.agreement.misses or [])
        assert sc.hub is not None and sc.relay is not None
        assert sc.relay.relay.relayed > 300
        by_label = {
            sc.capture.labels.get(j.id.rsplit(":", 1)[1]): j for j in sc.hub.hub.jobs.recent
        }
        for label in ("Q1", "Q2", "G1", "D1", "I3", "C1", "R4"):
            job = by_label[label]
            assert job.status is JobStatus.COMPLETED and job.progress == 100.0, label
        assert by_label["I1"].status is JobStatus.CANCELLED
        assert by_label["F2"].status is JobStatus.FAILED
        assert "IndexError" in (by_label["F2"].error or "")
        assert by_label["C2"].cached


@pytest.mark.parametrize("version", VERSIONS)
async def test_with_the_relay_a_running_prompt_has_an_eta(version: str, tmp_path: Path) -> None:
    """Midway through I1 (20 steps over 10 s) the hub has its progress and an ETA; without
    the relay it could only show an indeterminate bar."""
    async with Scenario(version, tmp_path, relay=True) as sc:
        pid = next(p for p, label in sc.capture.labels.items() if label == "I2")
        start = next(
            t
            for t, m in sc.capture.targeted
            if m["type"] == "execution_start" and m["data"]["prompt_id"] == pid
        )
        await sc.replay.run_until(start + 1.9)
        assert sc.hub is not None
        job = sc.hub.hub.jobs.jobs[f"comfyui:box:{pid}"]
        assert job.progress is not None and 10 <= job.progress <= 20
        assert job.eta_seconds is not None and 6 <= job.eta_seconds <= 10
        # I3 waits behind it: the footer's ETA counts it, from this box's typical run
        footer = sc.hub.hub.state.footer(Role.ADMIN).jobs
        assert (footer.running, footer.queued, footer.eta_covers) == (1, 1, "all")
        assert footer.eta_seconds is not None and footer.eta_seconds > job.eta_seconds
    async with Scenario(version, tmp_path / "plain") as plain:
        await plain.replay.run_until(start + 1.9)
        assert plain.hub is not None
        assert plain.hub.hub.jobs.jobs[f"comfyui:box:{pid}"].progress is None
