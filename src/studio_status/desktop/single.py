"""One running app per user and profile: a second launch raises the first and exits.

Why a lock *and* a socket: :class:`QLockFile` decides who is first without a race (two
launches at once from an autostart and a click), and notices a lock left by a crashed
run (it records the pid); the :class:`QLocalServer` is how the second launch reaches the
first. The names carry the user and a hash of the profile, so two users on one machine,
or one user running two profiles, never collide. The socket lives in the runtime folder
(``$XDG_RUNTIME_DIR`` on Linux), not in a world-writable ``/tmp`` name.

Message: one JSON line ``{"cmd": "raise", "pid": ...}``; the first instance answers
``{"ok": true}`` and emits :attr:`SingleInstance.raise_requested`.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance", "instance_key", "runtime_dir"]

log = logging.getLogger("app.desktop")

CONNECT_MS = 1500
#: A first instance that holds the lock may still be starting; try this long to reach it.
HANDOFF_MS = 8000


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base)
    return Path(tempfile.gettempdir())


def instance_key(profile: str, user: str | None = None) -> str:
    user = user or getpass.getuser()
    digest = hashlib.sha256(f"{user}\0{profile}".encode()).hexdigest()[:16]
    return f"studio-status-{digest}"


class SingleInstance(QObject):
    """Claims the instance for a profile, or hands off to the one that has it.

    Signals:
        raise_requested(dict): another launch asked us to come forward (its message).

    Attributes:
        key: the lock and socket name.
        primary: True once we hold the lock and listen.
    """

    raise_requested = Signal(dict)

    def __init__(self, profile: str, *, folder: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder if folder is not None else runtime_dir()
        self.key = instance_key(profile)
        self.primary = False
        self._lock: QLockFile | None = None
        self._server: QLocalServer | None = None

    @property
    def server_name(self) -> str:
        # a full path: the socket file goes where we choose, not into /tmp by default
        return str(self.folder / f"{self.key}.sock") if os.name != "nt" else self.key

    def claim(self) -> bool:
        """True if we are the first instance (and now listen); False if another runs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(self.folder / f"{self.key}.lock"))
        lock.setStaleLockTime(0)  # stale only if its pid is gone, never by age
        if not lock.tryLock(0):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.server_name)  # a socket file left by a crash
        if not server.listen(self.server_name):
            log.warning(
                "single instance: cannot listen on %s: %s", self.server_name, server.errorString()
            )
        server.newConnection.connect(self.on_server_new_connection)
        self._lock, self._server, self.primary = lock, server, True
        return True

    def hand_off(
        self, message: dict[str, object] | None = None, timeout_ms: int = HANDOFF_MS
    ) -> bool:
        """Ask the running instance to come forward; True if it answered.

        Blocking on purpose: this runs before our own event loop starts, so there is no loop
        to nest (STYLE.md pitfall 1 is about nesting inside a running loop).
        """
        import time

        body = json.dumps({"cmd": "raise", "pid": os.getpid(), **(message or {})}) + "\n"
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            sock = QLocalSocket()
            sock.connectToServer(self.server_name)
            if sock.waitForConnected(CONNECT_MS):
                sock.write(body.encode())
                sock.flush()
                ok = sock.waitForReadyRead(CONNECT_MS) and b'"ok"' in bytes(sock.readAll().data())
                sock.disconnectFromServer()
                if ok:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)  # the first instance holds the lock but is not listening yet

    def on_server_new_connection(self) -> None:
        assert self._server is not None
        while (sock := self._server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda s=sock: self._on_ready_read(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_ready_read(sock)

    def _on_ready_read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data())
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("single instance: ignoring a malformed message")
            return
        if not isinstance(message, dict) or message.get("cmd") != "raise":
            return
        sock.write(b'{"ok": true}\n')
        sock.flush()
        log.info("a second launch (pid %s) asked us to come forward", message.get("pid"))
        self.raise_requested.emit(message)

    def rekey(self, profile: str) -> bool:
        """Hold the key of ``profile`` instead (the app switched); False if another has it."""
        if instance_key(profile) == self.key:
            return True
        old = self.key
        self.release()
        self.key = instance_key(profile)
        if self.claim():
            return True
        self.key = old
        self.claim()
        return False

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        self.primary = False
