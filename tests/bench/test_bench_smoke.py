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


def test_a_record_keeps_the_analysis_and_regenerates_the_readme_table() -> None:
    from bench.cli import (
        ANALYSIS_END,
        ANALYSIS_START,
        README_END,
        README_START,
        ROOT,
        between,
        readme_block,
        replace_between,
        results_md,
    )

    figures = [Figure("x", "a figure", "ms", [1.0, 2.0], target=1.5, judge="max", method="m")]
    kw = {"quick": True, "platform_name": "offscreen", "took": 3.0, "host": "2 cores"}
    analysis = "\n## Missed targets (analysis)\n\nWhat was tried.\n"
    first = results_md(figures, analysis=analysis, **kw)  # type: ignore[arg-type]
    assert between(first, ANALYSIS_START, ANALYSIS_END) == analysis
    again = results_md(figures, analysis=between(first, ANALYSIS_START, ANALYSIS_END), **kw)  # type: ignore[arg-type]
    assert again == first and "| a figure" in again and "FAIL" in again
    # the project's README carries the markers, and the block between them is replaced
    readme = (ROOT / "README.md").read_text()
    assert between(readme, README_START, README_END) is not None
    block = readme_block(figures, **kw)  # type: ignore[arg-type]
    replaced = replace_between(readme, README_START, README_END, block)
    assert between(replaced, README_START, README_END) == block
    assert replaced.replace(block, "") == readme.replace(
        between(readme, README_START, README_END) or "", ""
    )
