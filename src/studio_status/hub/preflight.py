"""What a valid config still needs from this machine, checked before anything starts.

The schema (:mod:`studio_status.hub.config`) says what a config may say; this says whether
it can work here: the programs a ``command`` check or a ``restart`` runs exist and may be
run, the TLS files are there, and the database path is a file the hub can write. Each
problem is one line naming the file, the field and the cause, so ``studio-status hub``
refuses to start rather than start a hub that fails later in a less telling way.
"""

from __future__ import annotations

import os
import shutil
import ssl
from pathlib import Path

from .checks.specs import CommandSpec
from .config import ConfigError, HubConfig

__all__ = ["check_database", "check_machine", "preflight"]


def preflight(config: HubConfig, origin: str) -> None:
    """Raise :class:`ConfigError` with the first problem; ``origin`` names the config file."""
    problems = check_machine(config)
    if problems:
        raise ConfigError(f"{origin}: {problems[0]}")


def check_machine(config: HubConfig) -> list[str]:
    problems: list[str] = []
    for i, service in enumerate(config.services):
        if isinstance(service.check, CommandSpec):
            problem = _program(service.check.argv[0])
            if problem:
                problems.append(f"services.{i}.check.argv: {problem}")
        if service.restart:
            problem = _program(service.restart[0])
            if problem:
                problems.append(f"services.{i}.restart: {problem}")
    problems += _tls(config)
    if isinstance(config.database(), Path):  # a PostgreSQL URL is checked by connecting
        problem = check_database(config.database_path())
        if problem:
            problems.append(f"hub.database: {problem}")
    return problems


def check_database(path: Path) -> str | None:
    """Why the hub could not keep its SQLite file at ``path`` (None: it can)."""
    if path.is_dir():
        return f"{path} is a directory; name the database file inside it"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"{path} cannot be written{_readonly(path)}"
        target = path.parent
    else:
        target = path.parent
        while not target.exists():
            target = target.parent
        if not target.is_dir():
            return f"{target} is not a directory"
    if not os.access(target, os.W_OK | os.X_OK):
        return f"cannot create files in {target}{_readonly(target)}"
    return None


def _readonly(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return " (read-only filesystem)"
    except OSError:
        pass
    return " (permission denied)"


def _program(name: str) -> str | None:
    if os.sep in name or (os.altsep and os.altsep in name):
        path = Path(name)
        if not path.exists():
            return f"program {name} does not exist"
        if path.is_dir() or not os.access(path, os.X_OK):
            return f"program {name} is not executable"
        return None
    if shutil.which(name) is None:
        return f"program {name!r} is not on PATH"
    return None


def _tls(config: HubConfig) -> list[str]:
    cert, key = config.hub.tls_certfile, config.hub.tls_keyfile
    if cert is None or key is None:
        return []
    problems = []
    for field, path in (("hub.tls_certfile", cert), ("hub.tls_keyfile", key)):
        if not path.is_file():
            problems.append(f"{field}: {path} does not exist")
        elif not os.access(path, os.R_OK):
            problems.append(f"{field}: {path} cannot be read (permission denied)")
    if problems:
        return problems
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        return [f"hub.tls_certfile/tls_keyfile: not a certificate and its key: {exc}"]
    return []
