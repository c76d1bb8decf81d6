"""Failure causes in words, from the exception chains httpx and websockets really raise."""

from __future__ import annotations

import socket
import ssl

import pytest

from studio_status.client.errors import HubUnavailable, TlsFailure
from studio_status.client.link import LinkProblem, ProblemKind, roles_text, transport_error


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("inner", "cause"),
    [
        (socket.gaierror(-2, "Name or service not known"), "host name not found"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (TimeoutError(), "no answer in time"),
        (ConnectionResetError(104, "reset"), "the connection was reset"),
    ],
)
def test_unreachable_causes(inner: BaseException, cause: str) -> None:
    error = transport_error(_chained(RuntimeError("connect failed"), inner), "GET /x")
    assert type(error) is HubUnavailable and error.cause.startswith(cause)


def test_a_certificate_problem_is_a_tls_failure() -> None:
    inner = ssl.SSLCertVerificationError(1, "certificate verify failed")
    inner.verify_code = 10
    inner.verify_message = "certificate has expired"
    error = transport_error(_chained(RuntimeError("connect failed"), inner), "GET /x")
    assert isinstance(error, TlsFailure) and error.cause == "the hub's certificate has expired"


def test_plain_http_port_spoken_to_in_tls() -> None:
    inner = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    inner.reason = "WRONG_VERSION_NUMBER"
    error = transport_error(inner, "GET /x")
    assert isinstance(error, TlsFailure) and "try http://" in error.cause


def test_roles_in_words() -> None:
    assert roles_text("requires role admin") == "admins only"
    assert roles_text("requires role admin or creator") == "admins and creators only"
    assert roles_text(None) == "this role may not see it"


def test_every_problem_has_words_without_codes() -> None:
    for kind in ProblemKind:
        line = LinkProblem(kind, "http://hub:8765", "a cause").line("Studio")
        assert "http://hub:8765" in line and "a cause" in line
        assert "HTTP" not in line and "401" not in line and "403" not in line
