"""The real CLI's --version and --help, as a terminal user sees them (80 columns)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studio_status import __version__


def cli(*args: str) -> str:
    env = dict(os.environ, COLUMNS="80")
    out = subprocess.run(
        [sys.executable, "-m", "studio_status", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return out.stdout


def test_version() -> None:
    assert cli("--version").strip() == f"studio-status {__version__}"


@pytest.mark.parametrize("args", [("--help",), ("status", "--help")])
def test_help_fits_the_terminal_and_is_plain_text(args: tuple[str, ...]) -> None:
    text = cli(*args)
    assert "``" not in text and ":mod:" not in text  # no reStructuredText
    assert all(len(line) < 80 for line in text.splitlines()), text
    assert "examples:" in text
    # no sentence cut off mid-way (the old description ended in a dangling comma)
    description = text.split("\n\n")[1]
    assert description.rstrip().endswith("."), description


def test_main_help_names_every_command_and_the_way_to_settings() -> None:
    text = cli("--help")
    for command in ("demo", "hub", "status", "install-desktop", "autostart", "config"):
        assert f"    {command} " in text
    assert "--version" in text
    assert "tray icon's menu" in text


def test_status_help_lists_only_what_applies() -> None:
    text = cli("status", "--help")
    for option in ("--hub", "--token", "--profile", "--json"):
        assert option in text
    for app_only in ("--web-url", "--smoke-exit"):
        assert app_only not in text
    for word in ("OK", "WARNING", "CRITICAL", "UNKNOWN"):
        assert word in text
