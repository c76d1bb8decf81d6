"""The real ``studio-status`` command in subprocesses: hub start, tokens, status, bad config."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.userenv import fresh_user_env


def env_for(tmp_path: Path) -> dict[str, str]:
    return fresh_user_env(tmp_path)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio_status", *args],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], float]]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio_status", "hub", "--port", "0"],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        ready = json.loads(line)
    except ValueError:
        proc.kill()
        pytest.fail(f"no ready line: {line!r} {proc.communicate()[1]}")
    yield ready["url"], proc, started
    proc.terminate()
    proc.communicate(timeout=20)  # reaps it and closes the pipes


def test_hub_with_defaults_serves_the_footer(
    tmp_path: Path, hub_process: tuple[str, subprocess.Popen[str], float]
) -> None:
    url, _proc, _started = hub_process
    created = cli(tmp_path, "hub", "token", "create", "--role", "admin", "--name", "test")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("ss_")
    deadline = time.monotonic() + 20
    services: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        body = httpx.get(
            f"{url}/api/v1/status/footer", headers={"Authorization": f"Bearer {token}"}
        ).json()
        services = body["data"]["services"]
        if all(s["status"] != "unknown" for s in services.values()):
            break
        time.sleep(0.05)
    # the embedded default watches this machine for real: itself, its bus, its disk
    assert set(services) == {"hub", "events", "disk"}
    # healthy, or degraded when a loaded CI machine makes a probe slow; never down/unknown
    assert all(s["status"] in {"healthy", "degraded"} for s in services.values()), services
    assert services["disk"]["status"] == "healthy"
    status = cli(tmp_path, "status", "--hub", url, "--token", token)
    assert status.returncode in (0, 1), status.stderr
    assert status.stdout.startswith("OK: ") and "Disk healthy" in status.stdout
    as_json = cli(tmp_path, "status", "--hub", url, "--token", token, "--json")
    assert json.loads(as_json.stdout)["data"]["services"]["disk"]["status"] == "healthy"
    listed = cli(tmp_path, "hub", "token", "list")
    assert "admin\tactive\ttest" in listed.stdout and token not in listed.stdout
    token_id = token.split("_")[1]
    assert cli(tmp_path, "hub", "token", "revoke", token_id).returncode == 0
    refused = cli(tmp_path, "status", "--hub", url, "--token", token)
    assert refused.returncode == 3 and refused.stdout.startswith("UNKNOWN: Token refused")


def test_status_exit_code_when_unreachable(tmp_path: Path) -> None:
    result = cli(tmp_path, "status", "--hub", "http://127.0.0.1:9")
    assert result.returncode == 3
    first = result.stdout.splitlines()[0]
    assert first.startswith("UNKNOWN: Hub http://127.0.0.1:9 unreachable: connection refused")


def test_status_accepts_an_address_without_scheme(tmp_path: Path) -> None:
    """``127.0.0.1:9`` is ``http://127.0.0.1:9`` (as a browser reads it): the answer is
    about that hub, not about a bad URL."""
    result = cli(tmp_path, "status", "--hub", "127.0.0.1:9", "--token", "x")
    assert result.returncode == 3
    assert result.stdout.startswith("UNKNOWN: Hub http://127.0.0.1:9 unreachable")


@pytest.mark.parametrize("address", ["ftp://hub", "http://", "hub:port", "two words:80"])
def test_status_refuses_a_bad_address_as_usage(tmp_path: Path, address: str) -> None:
    result = cli(tmp_path, "status", "--hub", address, "--token", "x")
    assert result.returncode == 3
    first = result.stdout.splitlines()[0]
    assert first.startswith("UNKNOWN: studio-status status: --hub") and "unreachable" not in first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[hub\nport = 1", "invalid TOML"),
        ("[hub]\nport = 'eighty'", "hub.port"),
        ("[[services]]\nname = 'x'\n[services.check]\nkind = 'teleport'", "services.0.check"),
        ("[[services]]\nname = 'Bad Name'\n[services.check]\nkind = 'disk'", "services.0.name"),
    ],
)
def test_bad_config_is_reported_plainly(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(text)
    result = cli(tmp_path, "hub", "--config", str(config))
    assert result.returncode == 2
    assert str(config) in result.stderr and expected in result.stderr
    assert config.read_text() == text  # never destroyed


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    result = cli(tmp_path, "hub", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "no such config file" in result.stderr


def _embedded_hub(tmp_path: Path, token: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio_status", "hub", "--embedded", *args],
        env={**env_for(tmp_path), "STUDIO_STATUS_BOOTSTRAP_TOKEN": token},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail("the hub exited before it was ready")
    return proc, json.loads(line)["url"]


def _stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()  # the embedded hub's cue to stop
    proc.wait(timeout=30)
    assert proc.stdout is not None
    proc.stdout.close()


def test_demo_has_its_own_database(tmp_path: Path) -> None:
    """The simulator's jobs must never be served as real by a plain hub afterwards."""
    token = "demo-bootstrap-token"
    demo, url = _embedded_hub(tmp_path, token, "--simulate")
    try:
        deadline = time.monotonic() + 30
        while True:  # the simulator pushes its first jobs within seconds
            body = json.loads(
                cli(tmp_path, "status", "--hub", url, "--token", token, "--json").stdout
            )
            jobs = body["data"]["jobs"]
            if jobs["running"] + jobs["queued"] > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert jobs["running"] + jobs["queued"] > 0, "the simulator should have pushed jobs"
    finally:
        _stop(demo)
    data = tmp_path / "data" / "studio-status"
    assert (data / "demo.sqlite3").exists() and not (data / "hub.sqlite3").exists()
    plain, url = _embedded_hub(tmp_path, token)
    try:
        body = json.loads(cli(tmp_path, "status", "--hub", url, "--token", token, "--json").stdout)
    finally:
        _stop(plain)
    assert body["data"]["jobs"]["running"] == 0 and body["data"]["jobs"]["queued"] == 0
    assert (data / "hub.sqlite3").exists()


REFUSED_PROBE = """
import asyncio, sys
from studio_status.cli import UNUSED_OPTIONAL_IMPORTS, refuse_unused_imports
refuse_unused_imports()
from studio_status.hub.api import create_app
from studio_status.hub.config import HubConfig
from studio_status.hub.service import Hub
config = HubConfig.model_validate({"hub": {"database": sys.argv[1] + "/hub.sqlite3"}})
app = create_app(Hub(config, []))  # every route: FastAPI asks about v1 models for each
assert app.openapi()["paths"], "no routes"
print(sorted(n for n in UNUSED_OPTIONAL_IMPORTS if sys.modules.get(n) is not None))
"""


def test_the_hub_runs_without_the_imports_it_refuses(tmp_path: Path) -> None:
    """trio and pydantic.v1 are only imported because they are installed: refused, FastAPI
    and httpcore fall back and every route and the API document still build."""
    done = subprocess.run(
        [sys.executable, "-c", REFUSED_PROBE, str(tmp_path)],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
