"""One running app per user and profile: a second launch raises the first and exits.

Why a lock *and* an inbox: :class:`QLockFile` decides who is first without a race (two
launches at once from an autostart and a click), and notices a lock left by a crashed
run (it records the pid); the inbox folder is how the second launch reaches the first. The
names carry the user and a hash of the profile, so two users on one machine, or one user
running two profiles, never collide. Both live in the runtime folder (``$XDG_RUNTIME_DIR``
on Linux, private to the user), the inbox made private too, not a world-writable ``/tmp``
name.

Why a folder and not a local socket: the first instance watches it with
:class:`QFileSystemWatcher` (inotify, kqueue, ReadDirectoryChangesW: it wakes only when a
request arrives), and QtCore does it all; a local server needed QtNetwork, ~3 MB of every
running app for a message that comes once in a while.

Message: one JSON file ``{"cmd": "raise", "pid": ...}`` put in the inbox (written aside,
then renamed in, so it is never read half-written). The first instance reads it, removes
it, and emits :attr:`SingleInstance.raise_requested`; the second launch takes the file's
removal as the answer.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QLockFile, QObject, Signal

__all__ = ["SingleInstance", "instance_key", "runtime_dir"]

log = logging.getLogger("app.desktop")

#: A first instance that holds the lock may still be starting; wait this long for it.
HANDOFF_MS = 8000
#: How often the second launch looks whether its request was taken.
LOOK_SECONDS = 0.05


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
        key: the lock and inbox name.
        primary: True once we hold the lock and watch the inbox.
    """

    raise_requested = Signal(dict)

    def __init__(self, profile: str, *, folder: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder if folder is not None else runtime_dir()
        self.key = instance_key(profile)
        self.primary = False
        self._lock: QLockFile | None = None
        self._watcher: QFileSystemWatcher | None = None

    @property
    def inbox(self) -> Path:
        return self.folder / f"{self.key}.requests"

    def _make_inbox(self) -> None:
        self.inbox.mkdir(mode=0o700, parents=True, exist_ok=True)

    def claim(self) -> bool:
        """True if we are the first instance (and now watch the inbox); False if another
        runs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(self.folder / f"{self.key}.lock"))
        lock.setStaleLockTime(0)  # stale only if its pid is gone, never by age
        if not lock.tryLock(0):
            return False
        self._lock, self.primary = lock, True
        try:
            self._make_inbox()
        except OSError as exc:
            log.warning("single instance: no inbox at %s: %s", self.inbox, exc)
            return True
        watcher = QFileSystemWatcher([str(self.inbox)], self)
        watcher.directoryChanged.connect(self.on_inbox_changed)
        self._watcher = watcher
        self.on_inbox_changed()  # a request made while we were starting
        return True

    def hand_off(
        self, message: dict[str, object] | None = None, timeout_ms: int = HANDOFF_MS
    ) -> bool:
        """Ask the running instance to come forward; True if it took the request.

        Blocking on purpose: this runs before our own event loop starts, so there is no loop
        to nest (STYLE.md pitfall 1 is about nesting inside a running loop).
        """
        body = json.dumps({"cmd": "raise", "pid": os.getpid(), **(message or {})})
        name = f"{os.getpid()}-{secrets.token_hex(4)}.json"
        try:
            self._make_inbox()
            part = self.inbox / f".{name}"  # dot files are not read: still being written
            part.write_text(body, encoding="utf-8")
            request = part.replace(self.inbox / name)
        except OSError as exc:
            log.warning("single instance: cannot leave a request in %s: %s", self.inbox, exc)
            return False
        deadline = time.monotonic() + timeout_ms / 1000
        while request.exists():
            if time.monotonic() >= deadline:
                request.unlink(missing_ok=True)  # nobody took it: leave nothing behind
                return False
            time.sleep(LOOK_SECONDS)  # the first instance holds the lock but may be starting
        return True

    def on_inbox_changed(self, _path: str = "") -> None:
        try:
            entries = sorted(self.inbox.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.suffix != ".json":
                continue
            try:
                text = entry.read_text(encoding="utf-8")
                entry.unlink()  # the answer: the sender waits for the file to go
            except OSError:
                continue  # taken already, or not ours to read
            try:
                message = json.loads(text)
            except ValueError:
                log.warning("single instance: ignoring a malformed request")
                continue
            if not isinstance(message, dict) or message.get("cmd") != "raise":
                continue
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
        if self._watcher is not None:
            if watched := self._watcher.directories():  # empty when the folder went away
                self._watcher.removePaths(watched)
            self._watcher.deleteLater()
            self._watcher = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        self.primary = False
