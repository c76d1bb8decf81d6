"""The app's log: stderr plus a rotated file under the platformdirs log folder, tokens redacted.

Why a file at all: a tray app has no terminal; when someone reports "the strip went grey at
3 am", the answer is in ``studio-status.log`` (1 MB × 5 files, rotated, so it never grows
without bound). Why redaction here and not at each call: one forgotten ``%s`` of a URL,
header or exception text must not put a bearer token on disk. Every token the app reads
is registered with :func:`redact`, and anything shaped like a hub token (``ss_…``) or a
``Bearer …`` header is masked too, in every handler this module installs.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

__all__ = ["LOG_NAME", "RedactingFilter", "default_log_dir", "redact", "redacted", "setup"]

LOG_NAME = "studio-status.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SHAPES = re.compile(r"(?i)(bearer\s+)[^\s\"',}]+|\bss_[A-Za-z0-9_\-]{8,}")
_secrets: set[str] = set()


def default_log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("studio-status"))


def redact(secret: str) -> None:
    """Never print ``secret`` in a log line from now on (short strings are not worth it)."""
    if len(secret) >= 6:
        _secrets.add(secret)


def redacted(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _SHAPES.sub(lambda m: (m.group(1) or "") + "***", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and its traceback text) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redacted(record.exc_text)
        return True


def setup(
    *, verbose: bool = False, log_dir: Path | None = None, stderr: bool = True
) -> Path | None:
    """Log to stderr and to a rotated file; returns the file (None if it cannot be opened)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        if getattr(handler, "_studio_status", False):
            root.removeHandler(handler)
            handler.close()
    redactor = RedactingFilter()
    formatter = logging.Formatter(FORMAT)
    if stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(formatter)
        console.addFilter(redactor)
        console._studio_status = True  # type: ignore[attr-defined]
        root.addHandler(console)
    folder = log_dir if log_dir is not None else default_log_dir()
    path: Path | None = folder / LOG_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        assert path is not None
        file = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError as exc:
        logging.getLogger("app").warning("cannot log to %s: %s", folder, exc)
        path = None
    else:
        file.setFormatter(formatter)
        file.addFilter(redactor)
        file._studio_status = True  # type: ignore[attr-defined]
        root.addHandler(file)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return path
