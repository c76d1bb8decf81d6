"""Importing PySide6 without its per-import source scan.

PySide6 replaces ``__import__`` to support ``from __feature__ import snake_case``; as a side
effect, every module imported after it has its whole source read (``inspect.getsource``)
to see whether it mentions PySide6, and kept in ``linecache``. For the app that is every
module of pydantic, httpx, the protocol and, in the default mode, FastAPI, uvicorn and the
hub: ~480 files, ~19 MB of resident memory held for the process's lifetime, and file reads
on every import. Nothing here uses ``__feature__``, so every module is answered "does not
use it" without reading it, which is what the scan concludes for all of them anyway.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType

__all__ = ["import_pyside"]

log = logging.getLogger("app")

#: Where PySide6 keeps the scan (its embedded support package).
_FEATURE_MODULE = "shibokensupport.feature"


def _uses_no_feature(_module: ModuleType) -> bool:
    return False


def import_pyside() -> None:
    """Import PySide6's core and switch its source scan off (idempotent)."""
    import PySide6.QtCore  # noqa: F401 - loads shiboken and installs the import hook

    feature = sys.modules.get(_FEATURE_MODULE)
    if feature is None or not hasattr(feature, "_mod_uses_pyside"):
        log.debug("PySide6 has no import scan to switch off (%s)", _FEATURE_MODULE)
        return
    setattr(feature, "_mod_uses_pyside", _uses_no_feature)  # noqa: B010 - not in its stubs
