"""The environment of a user who has never run Studio Status, for the app and CLI as
subprocesses: every folder the app writes to lives under one test folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fresh_user_env"]


def fresh_user_env(root: Path, **extra: str) -> dict[str, str]:
    """``os.environ`` without our own variables (a developer's token or profile must not
    leak into a test), with HOME and the XDG folders under ``root``, Qt offscreen; then
    ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_STATUS")}
    runtime = root / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(root),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_RUNTIME_DIR=str(runtime),
    )
    env.update(extra)
    return env
