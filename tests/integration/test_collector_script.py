"""The example collector (scripts/collect_status.py) feeds a real hub."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from studio_status.protocol.systems import SystemSnapshotIn
from tests.hubrunner import run_hub

SCRIPT = Path(__file__).parents[2] / "scripts" / "collect_status.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("collect_status", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snapshot_fits_the_ingest_schema(tmp_path: Path) -> None:
    collector = load()
    snap = collector.build_snapshot([str(tmp_path), str(tmp_path / "missing")], host="Node 7")
    parsed = SystemSnapshotIn.model_validate(snap)
    assert parsed.login_nodes[0].name == "Node 7"
    assert [f.available for f in parsed.filesystems] == [True, False]
    assert collector.system_name("GPU-Box_1.lab!") == "gpu-box_1.lab"


async def test_collector_posts_to_a_hub(tmp_path: Path) -> None:
    collector = load()
    async with run_hub(tmp_path, []) as h:
        snap = collector.build_snapshot([str(tmp_path)])
        answer = await asyncio.to_thread(collector.post, h.url, h.admin_token, "ws-7", snap)
        assert answer["data"]["system"] == "ws-7" and answer["data"]["created"] is True
        assert h.hub.state.services["ws-7"].kind == "system"
        with pytest.raises(RuntimeError, match="401"):
            await asyncio.to_thread(collector.post, h.url, "wrong", "ws-7", snap)
