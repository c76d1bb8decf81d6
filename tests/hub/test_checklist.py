"""The startup checklist on a real store: required vs optional, latching, overrides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from studio_status.hub.checklist import READINESS_EVENT, StartupRunner, default_startup
from studio_status.hub.config import ServiceConfig
from studio_status.hub.health_settings import HealthSettings
from studio_status.hub.store import create_store
from studio_status.hub.store.sqlite import SqlStore
from studio_status.protocol import HealthStatus, ServiceHealth
from studio_status.protocol.checklist import ReadinessChanged, StartupCheckState
from tests.hub.checks.servers import free_port, tcp_listener
from tests.hub.fakeclock import FakeClock


@pytest.fixture
async def store(database: Path | str) -> AsyncIterator[SqlStore]:
    s = create_store(database)
    await s.open()
    yield s
    await s.close()


class Published:
    def __init__(self) -> None:
        self.events: list[tuple[str, BaseModel]] = []

    def __call__(self, event_type: str, data: BaseModel) -> None:
        self.events.append((event_type, data))

    @property
    def flips(self) -> list[bool]:
        out = []
        for event_type, data in self.events:
            assert event_type == READINESS_EVENT and isinstance(data, ReadinessChanged)
            out.append(data.ready)
        return out


def svc(name: str, kind: str = "tcp") -> ServiceConfig:
    check: dict[str, object] = {"kind": "tcp", "host": "127.0.0.1", "port": 1}
    if kind == "comfyui":
        check = {"kind": "comfyui", "urls": ["http://127.0.0.1:1"]}
    if kind == "workers":
        check = {"kind": "workers", "urls": ["http://127.0.0.1:1"]}
    return ServiceConfig.model_validate({"name": name, "check": check})


def health(name: str, status: HealthStatus, **details: object) -> ServiceHealth:
    return ServiceHealth(name=name, status=status, details=details, error_message="boom")


def runner(store: SqlStore, startup: list[dict[str, object]], pub: Published) -> StartupRunner:
    settings = HealthSettings.model_validate({"startup": startup})
    return StartupRunner(
        settings.startup,
        [svc("comfy", "comfyui"), svc("workers", "workers")],
        store,
        clock=FakeClock(),
        publish=pub,
    )


async def test_required_checks_gate_ready_and_latch(store: SqlStore, tmp_path: Path) -> None:
    model = tmp_path / "model.safetensors"
    pub = Published()
    r = runner(
        store,
        [
            {"name": "migrations", "kind": "migrations"},
            {"name": "models", "kind": "files", "paths": [str(model)]},
            {"name": "comfy", "kind": "service", "service": "comfy"},
            {"name": "workers", "kind": "service", "service": "workers", "min_online": 2},
            {"name": "extra", "kind": "files", "paths": ["/nonexistent"], "required": False},
        ],
        pub,
    )
    assert not r.ready and r.blocking == ["migrations", "models", "comfy", "workers"]
    await r.run_once()
    assert r.checks["migrations"].state is StartupCheckState.PASSED
    assert r.checks["models"].state is StartupCheckState.FAILED
    assert str(model) in (r.checks["models"].error or "")
    assert r.checks["comfy"].state is StartupCheckState.PENDING  # no live reading yet
    r.observe("comfy", health("comfy", HealthStatus.DOWN))
    assert r.checks["comfy"].state is StartupCheckState.FAILED
    r.observe("comfy", health("comfy", HealthStatus.DEGRADED))
    assert r.checks["comfy"].state is StartupCheckState.PASSED
    r.observe("comfy", health("comfy", HealthStatus.DOWN))  # pre-flight: stays passed
    assert r.checks["comfy"].state is StartupCheckState.PASSED
    r.observe("workers", health("workers", HealthStatus.HEALTHY, online=1, total=3))
    assert r.checks["workers"].state is StartupCheckState.FAILED
    assert "1 online, need 2" in (r.checks["workers"].error or "")
    r.observe("workers", health("workers", HealthStatus.HEALTHY, online=2, total=3))
    assert r.blocking == ["models"] and not r.ready and pub.flips == []
    model.write_bytes(b"weights")
    await r.run_once()
    assert r.ready and r.ready_at is not None
    assert r.checks["extra"].state is StartupCheckState.FAILED  # optional: does not block
    assert pub.flips == [True]


async def test_override_unblocks_and_is_kept(store: SqlStore) -> None:
    pub = Published()
    r = runner(store, [{"name": "models", "kind": "files", "paths": ["/nope/m.bin"]}], pub)
    await r.run_once()
    assert not r.ready
    check = r.override("models", "alice (id1)", "models are on the new share")
    assert check.state is StartupCheckState.OVERRIDDEN
    assert check.override is not None and check.override.by == "alice (id1)"
    assert r.ready and pub.flips == [True]
    await r.run_once()  # overridden checks are not run again
    assert r.checks["models"].state is StartupCheckState.OVERRIDDEN
    with pytest.raises(KeyError):
        r.override("nope", "alice", "typo")


async def test_probe_check_runs_a_real_checker(store: SqlStore) -> None:
    pub = Published()
    async with tcp_listener() as port:
        r = runner(
            store,
            [
                {
                    "name": "db-port",
                    "kind": "probe",
                    "check": {"kind": "tcp", "host": "127.0.0.1", "port": port},
                },
                {
                    "name": "closed",
                    "kind": "probe",
                    "required": False,
                    "timeout_seconds": 2,
                    "check": {"kind": "tcp", "host": "127.0.0.1", "port": free_port()},
                },
            ],
            pub,
        )
        await r.run_once()
    assert r.checks["db-port"].state is StartupCheckState.PASSED
    assert r.checks["closed"].state is StartupCheckState.FAILED and r.ready


def test_default_checklist() -> None:
    specs = default_startup([svc("comfy", "comfyui"), svc("workers", "workers"), svc("disk")])
    assert [(s.name, s.kind, s.required) for s in specs] == [
        ("migrations", "migrations", True),
        ("comfy-reachable", "service", True),
        ("workers-online", "service", True),
        ("disk-reachable", "service", False),
    ]


def test_no_required_checks_is_ready_at_once(store: SqlStore) -> None:
    r = runner(store, [], Published())
    assert r.ready and r.blocking == []
