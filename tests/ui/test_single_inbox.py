"""The single-instance hand-off in one process: the first instance watches its inbox (Qt's
file watcher, driven by the Qt loop here), a second launch's request is taken and
answered by its removal. The real two-process run is ``test_single_instance.py``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio_status.desktop.single import SingleInstance


def _hand_off_in_thread(second: SingleInstance, timeout_ms: int) -> list[bool]:
    answer: list[bool] = []
    threading.Thread(target=lambda: answer.append(second.hand_off(timeout_ms=timeout_ms))).start()
    return answer


def test_a_request_is_taken_and_raised(qtbot: QtBot, tmp_path: Path) -> None:
    first, second = (SingleInstance("Studio", folder=tmp_path) for _ in range(2))
    try:
        assert first.claim() and first.primary
        assert not second.claim()
        with qtbot.waitSignal(first.raise_requested, timeout=10_000) as raised:
            answer = _hand_off_in_thread(second, 10_000)
        qtbot.waitUntil(lambda: bool(answer), timeout=10_000)
        assert answer == [True]
        assert raised.args[0]["cmd"] == "raise"
        assert list(first.inbox.iterdir()) == []  # nothing left behind
        assert oct(first.inbox.stat().st_mode & 0o777) == "0o700"
    finally:
        first.release()


def test_nobody_answering_leaves_nothing_behind(tmp_path: Path) -> None:
    first, second = (SingleInstance("Studio", folder=tmp_path) for _ in range(2))
    try:
        assert first.claim()
        first.release()  # the lock is free now, but claim it again without watching
        assert first.claim()
        first._watcher.blockSignals(True)  # type: ignore[union-attr]  # a hung first instance
        assert second.hand_off(timeout_ms=200) is False
        assert list(first.inbox.iterdir()) == []
    finally:
        first.release()


@pytest.mark.expect_warnings
def test_a_request_made_while_starting_and_a_malformed_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = SingleInstance("Studio", folder=tmp_path)
    key.inbox.mkdir(parents=True)
    (key.inbox / "1-early.json").write_text('{"cmd": "raise", "pid": 1}')
    (key.inbox / "2-bad.json").write_text("{not json")
    (key.inbox / ".3-half.json").write_text('{"cmd": "ra')  # still being written: left
    first = SingleInstance("Studio", folder=tmp_path)
    seen: list[dict[str, object]] = []
    first.raise_requested.connect(seen.append)
    try:
        assert first.claim()
        assert seen == [{"cmd": "raise", "pid": 1}]
        assert sorted(p.name for p in first.inbox.iterdir()) == [".3-half.json"]
        assert "ignoring a malformed request" in caplog.text
    finally:
        first.release()


def test_rekey_moves_to_another_profile(tmp_path: Path) -> None:
    a, b = SingleInstance("One", folder=tmp_path), SingleInstance("Two", folder=tmp_path)
    try:
        assert a.claim() and b.claim()  # two profiles, two instances
        assert not a.rekey("Two")  # held by the other: a keeps its own
        assert a.primary and a.key == SingleInstance("One", folder=tmp_path).key
        b.release()
        assert a.rekey("Two") and a.key == b.key
    finally:
        a.release()
        b.release()
