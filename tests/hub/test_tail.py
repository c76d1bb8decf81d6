"""Reading the end of a log file without loading it."""

from __future__ import annotations

import time
from pathlib import Path

from studio_status.hub.actions import tail_lines


def test_last_lines_of_a_large_file_quickly(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    with log.open("w", encoding="utf-8") as f:
        for i in range(300_000):
            f.write(f"2026-03-02 line {i:06d} {'x' * 40}\n")
    begun = time.perf_counter()
    lines, more, size = tail_lines(log, 100)
    assert time.perf_counter() - begun < 0.2
    assert len(lines) == 100 and more
    assert lines[0].startswith("2026-03-02 line 299900 ")
    assert lines[-1].startswith("2026-03-02 line 299999 ")
    assert size == log.stat().st_size


def test_small_files_and_edges(tmp_path: Path) -> None:
    f = tmp_path / "f.log"
    f.write_bytes(b"")
    assert tail_lines(f, 100) == ([], False, 0)
    f.write_bytes(b"a\nb\nc")  # no final newline: the last line still counts
    assert tail_lines(f, 2) == (["b", "c"], True, 5)
    assert tail_lines(f, 3) == (["a", "b", "c"], False, 5)
    f.write_bytes(b"a\r\nb\r\n\xff\xfe\n")
    lines, more, _ = tail_lines(f, 10)
    assert lines == ["a", "b", "\ufffd\ufffd"] and not more
    # exactly at block boundaries
    f.write_bytes(b"".join(f"{i:03d}\n".encode() for i in range(50)))
    assert tail_lines(f, 10, block=4)[0] == [f"{i:03d}" for i in range(40, 50)]


def test_one_endless_line_is_not_read_whole(tmp_path: Path) -> None:
    f = tmp_path / "one.log"
    f.write_bytes(b"y" * 100_000)
    lines, more, size = tail_lines(f, 5, block=1000, max_bytes=10_000)
    assert more and size == 100_000
    assert lines == ["y" * 10_000]
