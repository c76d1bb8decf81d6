"""Studio Status benchmarks: ``python -m bench [--quick] [--json] [--only NAME]``.

Not part of the test suite (pytest's ``testpaths`` is ``tests``); see README.md,
"Benchmarks", and ``bench/RESULTS.md`` for the last recorded run.
"""
