"""Single instance with real processes: a second launch raises the first and exits."""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.userenv import fresh_user_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")


def _env(tmp_path: Path) -> dict[str, str]:
    return fresh_user_env(tmp_path, PYTHONWARNINGS="error")


class App:
    """One ``studio-status`` process whose stderr lines are collected by a thread."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "studio_status", "--hub", "http://127.0.0.1:9", *args],
            env=_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def reap(self, limit: float = 30) -> int:
        """Wait for the exit, then close the pipe (the thread has read it to the end)."""
        code = self.proc.wait(timeout=limit)
        self._pump_thread.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code

    def wait_for(self, text: str, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while not any(text in line for line in self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                pytest.fail(f"no {text!r} in:\n{''.join(self.seen)}")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=min(remaining, 1)))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.reap(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.reap()


def test_second_launch_raises_the_first(tmp_path: Path) -> None:
    config = tmp_path / "config" / "studio-status" / "app.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[[profiles]]\nname = "Local"\n[[profiles]]\nname = "Other"\n')
    first = App(tmp_path)
    try:
        first.wait_for("strip shown")
        second = App(tmp_path)
        second.wait_for("already runs for this profile: raised it")
        assert second.reap() == 0
        first.wait_for("asked us to come forward")
        # another profile is another instance: it starts its own strip
        other = App(tmp_path, "--profile", "Other")
        try:
            other.wait_for("strip shown")
            assert other.proc.poll() is None
        finally:
            assert other.stop() == 0
    finally:
        assert first.stop() == 0
    # after the first quit, a new launch is the first again (the lock was released)
    again = App(tmp_path)
    try:
        again.wait_for("strip shown")
    finally:
        assert again.stop() == 0
