"""Tokens in a real keyring backend (keyrings.alt's file keyring), the fallback, redaction."""

from __future__ import annotations

import logging
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from studio_status import logs
from studio_status.tokens import (
    INSECURE_FILE,
    SERVICE,
    NoKeyring,
    TokenStore,
    is_secure_backend,
)

keyrings_file = pytest.importorskip("keyrings.alt.file", reason="needs keyrings.alt (test extra)")


@pytest.fixture
def file_keyring(tmp_path: Path) -> Any:
    """keyrings.alt's file backend in a temp folder: a real backend, on disk, no D-Bus."""
    backend = keyrings_file.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    return backend


def test_set_get_delete_rename_in_a_real_backend(file_keyring: Any, tmp_path: Path) -> None:
    store = TokenStore(file_keyring, config_dir=tmp_path / "config")
    assert store.get("Studio") is None
    store.set("Studio", "ss_abc_secretsecret")
    assert store.get("Studio") == "ss_abc_secretsecret"
    assert file_keyring.get_password(SERVICE, "Studio") == "ss_abc_secretsecret"
    store.rename("Studio", "Prod")
    assert store.get("Studio") is None and store.get("Prod") == "ss_abc_secretsecret"
    # a fresh store on the same backend file sees it (it is really stored)
    again = keyrings_file.PlaintextKeyring()
    again.file_path = file_keyring.file_path
    assert TokenStore(again, config_dir=tmp_path).get("Prod") == "ss_abc_secretsecret"
    store.delete("Prod")
    store.delete("Prod")  # deleting what is not there is fine
    assert store.get("Prod") is None
    store.set("Other", "   ")  # blank means remove, never store a blank token
    assert store.get("Other") is None
    assert not (tmp_path / "config").exists()  # nothing written beside the config


def test_plaintext_and_fail_backends_are_not_secure(file_keyring: Any) -> None:
    from keyring.backends import fail

    assert not is_secure_backend(file_keyring)
    assert not is_secure_backend(fail.Keyring())


def test_no_keyring_says_so_and_refuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keyring.backends import fail

    monkeypatch.setattr("keyring.get_keyring", fail.Keyring)
    store = TokenStore(config_dir=tmp_path)
    assert store.backend is None and not store.usable
    assert store.problem is not None and "No system keyring" in store.problem
    assert "opt in" in store.problem
    with pytest.raises(NoKeyring):
        store.set("Local", "ss_x_secretsecret")
    assert store.get("Local") is None
    assert not (tmp_path / INSECURE_FILE).exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_opt_in_file_is_private_and_marked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keyring.backends import fail

    monkeypatch.setattr("keyring.get_keyring", fail.Keyring)
    store = TokenStore(config_dir=tmp_path, allow_insecure_file=True)
    assert store.usable and "insecure" in store.description
    store.set("Local", "ss_x_secretsecret")
    store.set("Studio", "ss_y_secretsecret")
    path = tmp_path / INSECURE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "INSECURE" in path.read_text()
    assert TokenStore(config_dir=tmp_path, allow_insecure_file=True).get("Local") == (
        "ss_x_secretsecret"
    )
    store.delete("Local")
    assert store.get("Local") is None and store.get("Studio") == "ss_y_secretsecret"


def test_tokens_never_reach_the_log_file(
    file_keyring: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    path = logs.setup(log_dir=tmp_path / "logs", stderr=False)
    try:
        assert path == tmp_path / "logs" / logs.LOG_NAME
        store = TokenStore(file_keyring, config_dir=tmp_path)
        store.set("Studio", "opaque-token-without-shape")
        token = store.get("Studio")
        log = logging.getLogger("app.test")
        log.info("connecting with %s", token)
        log.info("header Authorization: Bearer abc.def.ghi")
        log.info("hub token ss_0123456789_abcdefghij")
        try:
            raise RuntimeError(f"refused {token}")
        except RuntimeError:
            log.exception("failed")
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    text = path.read_text()
    assert "connecting with ***" in text and "Bearer ***" in text and "hub token ***" in text
    assert "opaque-token-without-shape" not in text
    assert "abc.def.ghi" not in text and "0123456789_abcdefghij" not in text
    assert "RuntimeError: refused ***" in text


def test_log_file_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    path = logs.setup(log_dir=tmp_path, stderr=False)
    try:
        for i in range(200):
            logging.getLogger("app.test").info("line %d %s", i, "x" * 40)
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    assert path is not None and path.stat().st_size <= 2000
    assert (tmp_path / f"{logs.LOG_NAME}.1").exists()
    assert not (tmp_path / f"{logs.LOG_NAME}.6").exists()
