"""The benchmark harness runs (``python -m bench``); no timing is asserted here.

The benchmarks themselves are not part of the suite: this runs the cheapest one with a
tiny count and checks that it yields figures and that the table and JSON render.
"""

from __future__ import annotations

import json

from bench.cli import BENCHES
from bench.core import Context, Figure, table


def test_cheapest_benchmark_yields_a_table() -> None:
    ctx = Context(quick=True, display=None, log=lambda _msg: None, extra={"tiny": True})
    figures = BENCHES["hub-uptime"](ctx)
    assert figures and all(isinstance(f, Figure) for f in figures)
    assert all(f.samples and f.error is None and f.method for f in figures)
    rendered = table(figures)
    assert all(f.name in rendered for f in figures)
    assert json.loads(json.dumps([f.to_json() for f in figures]))[0]["verdict"] in (
        "pass",
        "FAIL",
        "-",
    )
