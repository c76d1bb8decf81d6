"""Bad configuration through the real ``studio-status hub``: refused before anything starts.

Each case is one line on stderr naming the file, the field and the cause, exit status 2,
no ready line, and no database file created.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.smallfs import tmpfs
from tests.userenv import fresh_user_env


def run_hub(tmp_path: Path, config: str, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "hub.toml"
    path.write_text(config)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "studio_status",
            "hub",
            "--config",
            str(path),
            "--port",
            "0",
            *extra,
        ],
        env=fresh_user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refused(result: subprocess.CompletedProcess[str], tmp_path: Path, *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""  # no ready line: nothing started
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert str(tmp_path / "hub.toml") in line, line
    for word in words:
        assert word in line, line
    return line


def service(check: str, *, extra: str = "", name: str = "api") -> str:
    return f'[[services]]\nname = "{name}"\n{extra}\n[services.check]\n{check}\n'


def db(tmp_path: Path) -> str:
    return f'[hub]\ndatabase = "{tmp_path / "data" / "hub.sqlite3"}"\n'


def test_command_check_program_missing_or_not_executable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-plugin"
    result = run_hub(tmp_path, db(tmp_path) + service(f'kind = "command"\nargv = ["{missing}"]'))
    refused(result, tmp_path, "services.0.check.argv", str(missing), "does not exist")
    plain = tmp_path / "check_plain"
    plain.write_text("#!/bin/sh\nexit 0\n")  # not chmod +x
    result = run_hub(tmp_path, db(tmp_path) + service(f'kind = "command"\nargv = ["{plain}"]'))
    refused(result, tmp_path, "services.0.check.argv", "not executable")
    result = run_hub(
        tmp_path, db(tmp_path) + service('kind = "command"\nargv = ["check_nothing_here_xyz"]')
    )
    refused(result, tmp_path, "services.0.check.argv", "not on PATH")
    assert not (tmp_path / "data").exists()


def test_restart_program_missing(tmp_path: Path) -> None:
    config = db(tmp_path) + service(
        'kind = "tcp"\nhost = "127.0.0.1"\nport = 9',
        extra=f'restart = ["{tmp_path / "bin" / "restart-api"}", "--now"]',
    )
    refused(run_hub(tmp_path, config), tmp_path, "services.0.restart", "does not exist")


@pytest.mark.parametrize(
    ("health", "field"),
    [
        (
            '[[health.startup]]\nname = "up"\nkind = "service"\nservice = "apj"\n',
            "health.startup.0.service",
        ),
        (
            '[[health.maintenance]]\nservice = "apj"\nstart = 2030-01-01T00:00:00Z\n'
            "end = 2030-01-01T01:00:00Z\n",
            "health.maintenance.0.service",
        ),
        ('[health]\nconnectivity_service = "apj"\n', "health.connectivity_service"),
    ],
)
def test_unknown_service_named_in_health(tmp_path: Path, health: str, field: str) -> None:
    config = db(tmp_path) + service('kind = "tcp"\nhost = "127.0.0.1"\nport = 9') + health
    refused(run_hub(tmp_path, config), tmp_path, field, "'apj'", "services: api")


def test_duplicate_service_names_its_field(tmp_path: Path) -> None:
    check = 'kind = "tcp"\nhost = "127.0.0.1"\nport = 9'
    config = db(tmp_path) + service(check) + service(check, name="web") + service(check)
    refused(run_hub(tmp_path, config), tmp_path, "services.2.name", "duplicate", "'api'")


def test_tls_files_missing(tmp_path: Path) -> None:
    config = (
        db(tmp_path)
        + f'tls_certfile = "{tmp_path / "cert.pem"}"\ntls_keyfile = "{tmp_path / "key.pem"}"\n'
    )
    line = refused(run_hub(tmp_path, config), tmp_path, "hub.tls_certfile", "does not exist")
    assert "cannot listen" not in line
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    (tmp_path / "key.pem").write_text("not a key\n")
    refused(run_hub(tmp_path, config), tmp_path, "hub.tls_certfile", "not a certificate")


def test_database_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "data" / "hub.sqlite3").mkdir(parents=True)
    refused(run_hub(tmp_path, db(tmp_path)), tmp_path, "hub.database", "is a directory")


def test_database_on_a_read_only_filesystem(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data", read_only=True):
        refused(run_hub(tmp_path, db(tmp_path)), tmp_path, "hub.database", "read-only filesystem")


def test_token_create_says_which_database(tmp_path: Path) -> None:
    result = run_hub(tmp_path, db(tmp_path), "token", "create", "--role", "creator")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("ss_")  # stdout stays the token alone
    assert str(tmp_path / "data" / "hub.sqlite3") in result.stderr
