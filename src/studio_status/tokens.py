"""Hub tokens per profile, in the OS keyring; never in the config file or the logs.

Service ``studio-status``, user = the profile's name. Why the keyring: a bearer token is a
password to the platform, and the settings file is plain text that people paste into bug
reports. Every token read or written is registered with :mod:`studio_status.logs`' redaction
filter, so even a stray ``log.info(url_with_token)`` prints ``***``.

Where no keyring backend exists (a bare X session, a container, a headless box), the store
says so plainly (:attr:`TokenStore.problem`) and refuses to save, unless the user opted in
to the fallback (``insecure_token_file = true``): a JSON file ``tokens-INSECURE.json`` in the
config folder, created 0600 and named for what it is. A plaintext "keyring" (keyrings.alt's
``PlaintextKeyring``) counts as no keyring, for the same reason.

Exceptions::

    TokenStoreError
      └── NoKeyring        no usable keyring and no opt-in to the file
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from studio_status import logs

__all__ = [
    "INSECURE_FILE",
    "SERVICE",
    "NoKeyring",
    "TokenStore",
    "TokenStoreError",
    "is_secure_backend",
]

log = logging.getLogger("app.config")

SERVICE = "studio-status"
INSECURE_FILE = "tokens-INSECURE.json"
_INSECURE_BACKENDS = {
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyrings.alt.file.PlaintextKeyring",
}

NO_KEYRING_MESSAGE = (
    "No system keyring is available (no Secret Service, KWallet, macOS Keychain or Windows "
    "Credential Locker), so tokens cannot be stored safely. Install and unlock a keyring "
    "(e.g. gnome-keyring or KWallet), or opt in to keeping tokens in a private file "
    "readable only by you (less safe)."
)


class TokenStoreError(Exception):
    """A token could not be read, stored or removed."""


class NoKeyring(TokenStoreError):
    """No usable keyring backend, and the insecure file was not opted in to."""


def _qualname(backend: object) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def is_secure_backend(backend: Any) -> bool:
    """True for a real keyring; False for keyring's fail/null backends and plaintext files."""
    inner = getattr(backend, "backends", None)
    if _qualname(backend) == "keyring.backends.chainer.ChainerBackend":
        return any(is_secure_backend(b) for b in inner or ())
    return _qualname(backend) not in _INSECURE_BACKENDS


class TokenStore:
    """Tokens by profile name.

    Args:
        backend: a keyring backend to use as is (tests pass keyrings.alt's file backend);
            None asks :func:`keyring.get_keyring` and accepts it only if it is secure.
        config_dir: where the opt-in insecure file goes.
        allow_insecure_file: the user's opt-in (``AppConfig.insecure_token_file``).

    Attributes:
        backend: the keyring backend in use, or None.
        problem: a sentence for the user when no keyring can be used, else None.
    """

    def __init__(
        self,
        backend: Any = None,
        *,
        config_dir: Path | None = None,
        allow_insecure_file: bool = False,
    ) -> None:
        # found on first use: importing keyring and asking it costs ~100 ms of start-up
        self._backend: Any = backend
        self._resolved = backend is not None
        self.allow_insecure_file = allow_insecure_file
        if config_dir is None:
            from studio_status.appconfig import default_config_dir

            config_dir = default_config_dir()
        self.insecure_path = config_dir / INSECURE_FILE

    @property
    def backend(self) -> Any:
        if not self._resolved:
            self._backend = _default_backend()
            self._resolved = True
        return self._backend

    @property
    def problem(self) -> str | None:
        """A sentence for the user when no keyring can be used, else None."""
        return None if self.backend is not None else NO_KEYRING_MESSAGE

    @property
    def description(self) -> str:
        """Where tokens go, for the settings window."""
        if self.backend is not None:
            return f"system keyring ({type(self.backend).__name__})"
        if self.allow_insecure_file:
            return f"private file {self.insecure_path} (insecure: opted in)"
        return "nowhere: no keyring"

    @property
    def usable(self) -> bool:
        return self.backend is not None or self.allow_insecure_file

    def get(self, profile: str) -> str | None:
        """The token for ``profile``, or None; registered for redaction in the logs."""
        if self.backend is not None:
            try:
                token: str | None = self.backend.get_password(SERVICE, profile)
            except Exception as exc:  # keyring raises many kinds (locked, D-Bus gone)
                raise TokenStoreError(f"cannot read the token for {profile!r}: {exc}") from exc
        elif self.allow_insecure_file:
            token = self._read_file().get(profile)
        else:
            return None
        if token:
            logs.redact(token)
        return token or None

    def set(self, profile: str, token: str) -> None:
        token = token.strip()
        if not token:
            self.delete(profile)
            return
        logs.redact(token)
        if self.backend is not None:
            try:
                self.backend.set_password(SERVICE, profile, token)
            except Exception as exc:
                raise TokenStoreError(f"cannot store the token for {profile!r}: {exc}") from exc
        elif self.allow_insecure_file:
            data = self._read_file()
            data[profile] = token
            self._write_file(data)
        else:
            raise NoKeyring(NO_KEYRING_MESSAGE)
        log.info("token for profile %r stored in the %s", profile, self.description)

    def delete(self, profile: str) -> None:
        if self.backend is not None:
            import keyring.errors

            try:
                self.backend.delete_password(SERVICE, profile)
            except keyring.errors.PasswordDeleteError:
                pass  # there was none
            except Exception as exc:
                raise TokenStoreError(f"cannot remove the token for {profile!r}: {exc}") from exc
        if self.insecure_path.exists():
            data = self._read_file()
            if data.pop(profile, None) is not None:
                self._write_file(data)

    def rename(self, old: str, new: str) -> None:
        """Move a token with its profile (the keyring user name is the profile name)."""
        if old == new:
            return
        token = self.get(old)
        if token is not None:
            self.set(new, token)
            self.delete(old)

    # -- the opt-in file ------------------------------------------------------------------

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.insecure_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise TokenStoreError(f"cannot read {self.insecure_path}: {exc}") from exc
        tokens = data.get("tokens", {}) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}

    def _write_file(self, tokens: dict[str, str]) -> None:
        body = {
            "warning": "INSECURE: hub tokens in plain text, kept here because no keyring was "
            "available and the user opted in. Delete this file to forget them.",
            "tokens": tokens,
        }
        folder = self.insecure_path.parent
        folder.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file 0600 from the start: never a moment where others can read
        fd, tmp = tempfile.mkstemp(prefix=".tokens.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(body, fh, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.insecure_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _default_backend() -> Any:
    try:
        import keyring
    except ImportError:  # pragma: no cover - a dependency, but a broken install must not crash
        return None
    backend = keyring.get_keyring()
    if not is_secure_backend(backend):
        log.info("no secure keyring backend (found %s)", _qualname(backend))
        return None
    return backend
