"""PySide6's import scan is switched off: later imports are not read and kept in memory."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import pytest

from studio_status.qtimport import import_pyside


def test_modules_imported_after_pyside_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import PySide6.QtCore  # noqa: F401

    feature = sys.modules["shibokensupport.feature"]
    # put the scan back afterwards: the rest of the suite runs with PySide6 as shipped
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "scanned_before.py").write_text("import PySide6\nVALUE = 1\n")
    (tmp_path / "scanned_after.py").write_text("import PySide6\nVALUE = 2\n")
    try:
        __import__("scanned_before")  # the import statement, which PySide6 hooks
        # as shipped: the whole source is read and kept
        assert str(tmp_path / "scanned_before.py") in linecache.cache
        import_pyside()
        import_pyside()  # idempotent
        assert __import__("scanned_after").VALUE == 2
        assert str(tmp_path / "scanned_after.py") not in linecache.cache
        assert feature.pyside_feature_dict["scanned_after"] == -1  # "uses no __feature__"
    finally:
        for name in ("scanned_before", "scanned_after"):
            sys.modules.pop(name, None)
        linecache.clearcache()
