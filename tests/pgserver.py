"""A real, throw-away PostgreSQL server for tests.

``postgres_server_fixture()`` makes a session-scoped fixture that runs ``initdb`` into a
fresh temporary directory, starts ``postgres`` on a free loopback port (its unix socket in
that directory too, so nothing outside it is touched), yields a :class:`PgServer` and stops
and deletes the cluster at the end. Tests that use it should carry ``@pytest.mark.postgres``;
they skip when the server binaries are not installed.

PostgreSQL refuses to run as root. When the tests run as root (containers, CI images), the
server is run as an unprivileged account (``postgres`` if it exists, else ``nobody``)
through ``subprocess``'s ``user``/``group`` switch, and the directory is handed to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

__all__ = [
    "NOT_FOUND_REASON",
    "PgServer",
    "find_pg_bindir",
    "postgres_server_fixture",
    "run_postgres",
]

NOT_FOUND_REASON = "PostgreSQL server binaries (initdb/pg_ctl) not found"
USER = "studio"
PASSWORD = "studio-test-password"
_START_ATTEMPTS = 3


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    socket_dir: Path
    bindir: Path

    @property
    def dsn(self) -> str:
        return self.dsn_with()

    def dsn_with(
        self, *, user: str | None = None, password: str | None = None, database: str | None = None
    ) -> str:
        """The DSN with some parts replaced, e.g. a wrong password for an auth-failure test."""
        user = quote(user or self.user, safe="")
        password = quote(self.password if password is None else password, safe="")
        database = quote(database or self.database, safe="")
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database}"


def find_pg_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's layout."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _unprivileged_account() -> pwd.struct_passwd | None:
    """The account to run the server as, or None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and no 'postgres' or 'nobody' account to run PostgreSQL")


class _Cluster:
    def __init__(self, bindir: Path, root: Path, account: pwd.struct_passwd | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self.account = account

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self.account is not None:
            kwargs.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            **kwargs,
        )

    def init(self) -> None:
        self.sockets.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.account is not None:
            for path in (self.root, self.sockets, pwfile):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        done = self.run(
            self.bindir / "initdb",
            "--pgdata", self.data,
            "--username", USER,
            "--pwfile", pwfile,
            "--auth-local", "trust",
            "--auth-host", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def start(self, port: int) -> subprocess.CompletedProcess[str]:
        options = " ".join(
            shlex.quote(o)
            for o in (
                "-p", str(port),
                "-k", str(self.sockets),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
                "-c", "synchronous_commit=off",
            )
        )  # fmt: skip
        return self.run(
            self.bindir / "pg_ctl", "start", "--pgdata", self.data, "--log", self.log,
            "--wait", "--timeout", "30", "--options", options,
        )  # fmt: skip

    def stop(self) -> None:
        self.run(self.bindir / "pg_ctl", "stop", "--pgdata", self.data, "--mode", "fast", "--wait")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no server log)"


@contextlib.contextmanager
def run_postgres(bindir: Path) -> Iterator[PgServer]:
    """Init, start, yield and finally stop and delete a cluster."""
    # Not pytest's tmp_path: its parents are private to root, and the server may not be root.
    root = Path(tempfile.mkdtemp(prefix="studio-status-pg-"))
    cluster = _Cluster(bindir, root, _unprivileged_account())
    try:
        cluster.init()
        for _attempt in range(_START_ATTEMPTS):
            # Another process may take the free port before the server binds it: retry.
            port = _free_port()
            done = cluster.start(port)
            if done.returncode == 0:
                break
        else:
            raise RuntimeError(
                f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{cluster.log_tail()}"
            )
        try:
            yield PgServer("127.0.0.1", port, USER, PASSWORD, "postgres", cluster.sockets, bindir)
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def postgres_server_fixture(
    *, scope: Any = "session", name: str = "postgres_server"
) -> Callable[..., Iterator[PgServer]]:
    """A pytest fixture yielding a running :class:`PgServer`; skips when PostgreSQL is absent."""

    @pytest.fixture(scope=scope, name=name)
    def _postgres_server() -> Iterator[PgServer]:
        bindir = find_pg_bindir()
        if bindir is None:
            pytest.skip(NOT_FOUND_REASON)
        with run_postgres(bindir) as server:
            yield server

    return _postgres_server
