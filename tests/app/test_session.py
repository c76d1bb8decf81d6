"""Profile sessions: per-profile caches, and the store forgetting the old hub on a switch."""

from __future__ import annotations

from pathlib import Path

from studio_status.client.state import ConnectionState, StatusStore
from studio_status.protocol import Role
from studio_status.session import DEMO_HUB, OWN_HUB, cache_path
from tests.ui.factories import footer, snapshot


def test_cache_path_per_profile_and_hub(tmp_path: Path) -> None:
    a, b = cache_path("Studio A", tmp_path), cache_path("Studio/B", tmp_path)
    assert a != b and a.parent == tmp_path == b.parent
    assert a.name.startswith("footer-Studio_A-") and "/" not in b.name
    assert cache_path("..", tmp_path).name.startswith("footer-profile-")
    # --hub pointing elsewhere, and the demo's hub, never read the profile's own cache
    own = cache_path("Local", tmp_path, hub=OWN_HUB)
    assert own != cache_path("Local", tmp_path, hub="http://10.0.0.2:8765")
    assert own != cache_path("Local", tmp_path, hub=DEMO_HUB)
    assert cache_path("L", tmp_path, hub="http://h:1/") == cache_path(
        "L", tmp_path, hub="http://H:1"
    )


def test_store_reset_forgets_everything_but_counts_on() -> None:
    store = StatusStore()
    seen: list[int] = []
    store.subscribe(lambda s: seen.append(s.version))
    store.apply_snapshot(snapshot(Role.ADMIN, data=footer()))
    store.set_connection(ConnectionState.LIVE)
    before = store.state
    assert before.footer is not None
    store.reset()
    after = store.state
    assert after.footer is None and after.role is None and after.history == {}
    assert after.connection is ConnectionState.CONNECTING and after.stale
    assert after.version > before.version and seen[-1] == after.version
