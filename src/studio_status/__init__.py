"""Studio Status: a desktop status strip and tray, and the status hub it talks to."""

import sys

__all__ = ["__version__"]

__version__ = "0.1.0"

# ``import httpx`` also loads httpx's own command-line tool (click, rich, pygments: ~5 MB
# and ~60 ms at every start) whenever those are installed; nothing here runs it, and
# httpx falls back to a stub when the import fails.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
