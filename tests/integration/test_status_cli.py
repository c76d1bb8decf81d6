"""``studio-status status`` against a real hub in each state, token from flag or profile."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio_status.tokens import TokenStore
from tests.hub.checks.servers import free_port

from .test_cli import cli, env_for

STATES = {0: "healthy", 1: "degraded", 2: "down"}
WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL"}


@pytest.fixture
def hub_in_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    """A hub whose one service is a Nagios-style plugin exiting with the given code."""
    code: int = request.param
    config = tmp_path / "hub.toml"
    config.write_text(
        "[[services]]\n"
        'name = "plugin"\n'
        'label = "Plugin"\n'
        "interval_seconds = 3600\n"
        "[services.check]\n"
        'kind = "command"\n'
        f"argv = {json.dumps([sys.executable, '-c', f'raise SystemExit({code})'])}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio_status", "hub", "--port", "0", "--config", str(config)],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        url = json.loads(line)["url"]
    except ValueError:
        proc.kill()
        pytest.fail(f"no ready line: {line!r} {proc.communicate()[1]}")
    try:
        created = cli(
            tmp_path, "hub", "--config", str(config), "token", "create", "--role", "admin"
        )
        assert created.returncode == 0, created.stderr
        yield url, created.stdout.strip(), code
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def _status(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + 20
    while True:  # the first check runs as the hub starts; wait until it has a verdict
        result = cli(tmp_path, "status", *args)
        if "unknown" not in result.stdout or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.mark.parametrize("hub_in_state", list(STATES), indirect=True)
def test_exit_code_follows_the_state(tmp_path: Path, hub_in_state: tuple[str, str, int]) -> None:
    url, token, code = hub_in_state
    result = _status(tmp_path, "--hub", url, "--token", token)
    assert result.returncode == code, (result.stdout, result.stderr)
    line = result.stdout.strip()
    assert line.startswith(f"{WORDS[code]}: Plugin {STATES[code]}")
    assert len(line.splitlines()) == 1
    assert "RUNNING" not in line and "within_budget" not in line
    as_json = _status(tmp_path, "--hub", url, "--token", token, "--json")
    assert as_json.returncode == code
    body = json.loads(as_json.stdout)
    assert body["data"]["services"]["plugin"]["status"] == STATES[code]


@pytest.mark.parametrize("hub_in_state", [1], indirect=True)
def test_hub_and_token_come_from_the_profile(
    tmp_path: Path, hub_in_state: tuple[str, str, int]
) -> None:
    url, token, _code = hub_in_state
    folder = tmp_path / "config" / "studio-status"  # XDG_CONFIG_HOME of the child
    folder.mkdir(parents=True, exist_ok=True)
    # two replicas of one hub named, the first of them unreachable: the next one answers
    urls = f"http://127.0.0.1:{free_port()}, {url}"
    (folder / "app.toml").write_text(
        'active_profile = "Studio"\ninsecure_token_file = true\n'
        f'[[profiles]]\nname = "Local"\n[[profiles]]\nname = "Studio"\nhub_url = "{urls}"\n'
    )
    # no keyring in the child: the opt-in file is where the app would have put the token
    TokenStore(None, config_dir=folder, allow_insecure_file=True).set("Studio", token)
    result = _status(tmp_path)
    assert result.returncode == 1, result.stderr
    assert token not in result.stdout + result.stderr
    named = _status(tmp_path, "--profile", "Studio")
    assert named.returncode == 1
    # the same on the command line, as people type addresses
    listed = _status(tmp_path, "--hub", f"127.0.0.1:{free_port()}, {url}", "--token", token)
    assert listed.returncode == 1, listed.stderr
    wrong = cli(tmp_path, "status", "--profile", "Nope")
    assert wrong.returncode == 3 and "no profile named 'Nope'" in wrong.stderr
    # a non-admin sees no services: healthy as far as it can tell, never "down"
    refused = cli(tmp_path, "status", "--hub", url, "--token", "ss_bad_token")
    assert refused.returncode == 3
    assert refused.stdout.startswith(f"UNKNOWN: Token refused by {url}")
    assert "UNREACHABLE" not in refused.stdout + refused.stderr
    # the profile's own token, refused: the advice names the profile
    TokenStore(None, config_dir=folder, allow_insecure_file=True).set("Studio", "ss_x_wrong")
    named_refused = cli(tmp_path, "status")
    assert named_refused.returncode == 3
    assert "check the token for profile “Studio”" in named_refused.stdout.splitlines()[0]
