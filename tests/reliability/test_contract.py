"""Contract fuzzing: schemathesis against the hub's own OpenAPI document, per role.

The whole of ``schemathesis run --checks all`` runs against a live hub as an admin, a
creator and without a token (bounded, deterministic); the per-role test below checks what
the CLI cannot: the status each role must get.

Every operation gets a few generated requests, each sent as an admin, a creator, with no
token and with a revoked one: never a 5xx, every documented response matching its schema,
401 without a valid token and 403 for a creator on admin routes. Bounded (few examples,
no shrinking) so the whole run stays within seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from studio_status.hub.config import ServiceConfig

from .threadhub import hub_in_thread

PUBLIC = {("GET", "/health")}
EXAMPLES = 3
EXAMPLES_PER_OPERATION = 8
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    service = ServiceConfig.model_validate(
        {
            "name": "api",
            "interval_seconds": 3600,
            # a closed port: checks are quick and the route has a real service to talk about
            "check": {"kind": "tcp", "host": "127.0.0.1", "port": 9},
            "log_file": str(tmp / "api.log"),
        }
    )
    (tmp / "api.log").write_text("one\ntwo\n")
    with hub_in_thread(tmp, [service]) as (running, tokens, _loop):
        yield running.url, tokens


def contract_problems(case: Any, url: str, tokens: dict[str, str]) -> list[str]:
    problems = []
    label = case.operation.label
    public = (case.operation.method.upper(), case.operation.path) in PUBLIC
    admin_only = case.operation.path.startswith("/admin/")
    for who in ("admin", "creator", "none", "revoked"):
        token = tokens.get(who)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(base_url=url, headers=headers, timeout=10)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # a group of failures, each naming a check
            if not isinstance(exc, Exception | BaseExceptionGroup):
                raise
            failures = getattr(exc, "exceptions", [exc])
            problems += [
                f"{label} as {who}: {response.status_code} {type(f).__name__}: "
                + " | ".join(str(f).splitlines()[:3])
                for f in failures
            ]
        status = response.status_code
        if who in ("none", "revoked") and not public and status != 401:
            problems.append(f"{label} as {who}: {status}, not 401")
        elif who == "creator" and admin_only and status != 403:
            problems.append(f"{label} as creator: {status}, not 403")
        elif who == "admin" and status in (401, 403):
            problems.append(f"{label} as admin: {status}")
    return problems


def test_contract_per_role(fuzz_hub: tuple[str, dict[str, str]]) -> None:
    url, tokens = fuzz_hub
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            problems.extend(contract_problems(case, url, tokens))

        run()
    assert problems == [], "\n".join(dict.fromkeys(problems))


@pytest.fixture(scope="module")
def cli_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("cli-fuzz")
    (tmp / "api.log").write_text("one\ntwo\n")
    service = ServiceConfig.model_validate(
        {
            "name": "api",
            "interval_seconds": 3600,
            "check": {"kind": "tcp", "host": "127.0.0.1", "port": 9},
            "log_file": str(tmp / "api.log"),
            "restart": [sys.executable, "-c", "pass"],
        }
    )
    with hub_in_thread(tmp, [service]) as (running, tokens, _loop):
        yield running.url, tokens


@pytest.mark.timeout(600)
@pytest.mark.parametrize("who", ["admin", "creator", "none"])
def test_schemathesis_run_all_checks_finds_nothing(
    cli_hub: tuple[str, dict[str, str]], who: str, tmp_path: Path
) -> None:
    """``schemathesis run --checks all`` against the running hub, as each caller: no server
    error, no undocumented status, no valid request refused, no invalid one accepted.

    Bounded: ``EXAMPLES_PER_OPERATION`` cases per operation in the examples, fuzzing and
    stateful phases, deterministic, one worker (about 20 s a role on an idle machine). The
    coverage phase is left out: its boundary cases do not pass through the hooks, and
    break the rules across fields the document states in words (start == end), which the
    hooks (``fuzzhooks.py``) make generated bodies respect."""
    url, tokens = cli_hub
    token = tokens.get(who)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.reliability.fuzzhooks",
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            *(["-H", f"Authorization: Bearer {token}"] if token else []),
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--phases",
            "examples,fuzzing,stateful",
            "--generation-deterministic",
            "--workers",
            "1",
            "--suppress-health-check",
            "all",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        env=env,
        cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested is not None and int(tested.group(1)) >= 40, result.stdout[-3000:]
