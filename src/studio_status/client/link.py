"""What is wrong with the link to the hub, in the user's words: one value every view shows.

A wrong token used to read "hub unreachable" on the strip while the log said 401. The network
code now classifies every failure once, here, into a :class:`LinkProblem` the store carries
(:attr:`StatusState.problem`); the strip, the tray, the windows' banners and
``studio-status status`` all say it with :meth:`LinkProblem.headline` and
:meth:`LinkProblem.advice`, so they can never disagree. No HTTP codes, no API paths: the
cause is what a person can act on ("connection refused", "the certificate has expired").

Pure: no I/O, no Qt, no httpx import (the exception chain is walked by type names and the
standard library's own exception types).
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum

from .errors import (
    BadResponse,
    ClientError,
    HubUnavailable,
    Incompatible,
    NotAllowed,
    NotFound,
    RateLimited,
    TlsFailure,
    Unauthorized,
)

__all__ = [
    "LinkProblem",
    "ProblemKind",
    "certificate_cause",
    "problem_from",
    "roles_text",
    "transport_error",
]


class ProblemKind(StrEnum):
    UNREACHABLE = "unreachable"  # nothing useful answered: refused, DNS, timeout, 5xx
    TOKEN_REFUSED = "token_refused"  # 401: the token is wrong, revoked or missing
    NOT_ALLOWED = "not_allowed"  # 403: the token's role may not see this
    TLS = "tls"  # the hub's certificate is not trusted
    TOO_OLD = "too_old"  # the hub speaks an older contract than this app
    TOO_NEW = "too_new"  # the hub speaks a newer contract than this app
    BAD_ANSWER = "bad_answer"  # something answered, but not as a hub does


_HEADLINES = {
    ProblemKind.UNREACHABLE: "Hub unreachable",
    ProblemKind.TOKEN_REFUSED: "Token refused",
    ProblemKind.NOT_ALLOWED: "Not allowed for this role",
    ProblemKind.TLS: "Hub certificate not trusted",
    ProblemKind.TOO_OLD: "Hub too old for this app",
    ProblemKind.TOO_NEW: "Hub too new for this app",
    ProblemKind.BAD_ANSWER: "Not a Studio Status hub",
}


@dataclass(frozen=True)
class LinkProblem:
    """Why the app has no live data from the hub.

    Attributes:
        kind: which of the cases it is; each has its own headline and advice.
        hub: the hub's URL, as configured (so two studios are never confused).
        cause: the reason in plain words ("connection refused"); no codes, no paths.
    """

    kind: ProblemKind
    hub: str
    cause: str = ""

    @property
    def headline(self) -> str:
        return _HEADLINES[self.kind]

    @property
    def needs_user(self) -> bool:
        """True when retrying will not help until the user acts (token, CA, an update)."""
        return self.kind is not ProblemKind.UNREACHABLE

    def advice(self, profile: str | None = None) -> str:
        """What to do about it; names the profile whose token or settings to change."""
        named = f" for profile “{profile}”" if profile else ""
        if self.kind is ProblemKind.TOKEN_REFUSED:
            return f"check the token{named} in Settings"
        if self.kind is ProblemKind.NOT_ALLOWED:
            return "ask an admin for a token with that role"
        if self.kind is ProblemKind.TLS:
            return f"set the CA file{named} in Settings (verify), or fix the hub's certificate"
        if self.kind is ProblemKind.TOO_OLD:
            return "update the hub"
        if self.kind is ProblemKind.TOO_NEW:
            return "update Studio Status on this computer"
        if self.kind is ProblemKind.BAD_ANSWER:
            return "check the hub address"
        return "retrying"

    def line(self, profile: str | None = None) -> str:
        """``Token refused by http://hub:8765 — check the token for profile “Local” in
        Settings``: the one sentence the strip's tooltip, the banners and ``status`` use."""
        what = self.headline
        if self.kind is ProblemKind.TOKEN_REFUSED:
            what = f"Token refused by {self.hub}"
        elif self.kind is ProblemKind.UNREACHABLE:
            what = f"Hub {self.hub} unreachable"
        else:
            what = f"{what} ({self.hub})"
        cause = f": {self.cause}" if self.cause else ""
        return f"{what}{cause} — {self.advice(profile)}"


def problem_from(exc: ClientError, hub: str) -> LinkProblem:
    """The problem a client error stands for."""
    if isinstance(exc, NotAllowed):
        return LinkProblem(ProblemKind.NOT_ALLOWED, hub, str(exc) if _plain(exc) else "")
    if isinstance(exc, RateLimited):
        wait = _wait_words(exc.retry_after)
        return LinkProblem(
            ProblemKind.TOKEN_REFUSED,
            hub,
            f"wrong, revoked or missing token; after too many tries the hub asks to wait {wait}",
        )
    if isinstance(exc, Unauthorized):
        return LinkProblem(ProblemKind.TOKEN_REFUSED, hub, "wrong, revoked or missing token")
    if isinstance(exc, Incompatible):
        kind = ProblemKind.TOO_NEW if exc.too_new else ProblemKind.TOO_OLD
        return LinkProblem(kind, hub, f"it speaks contract {exc.contract}")
    if isinstance(exc, TlsFailure):
        return LinkProblem(ProblemKind.TLS, hub, exc.cause)
    if isinstance(exc, NotFound):
        return LinkProblem(ProblemKind.BAD_ANSWER, hub, "no hub answers at this address")
    if isinstance(exc, HubUnavailable):
        return LinkProblem(ProblemKind.UNREACHABLE, hub, exc.cause)
    if isinstance(exc, BadResponse):
        return LinkProblem(ProblemKind.BAD_ANSWER, hub, "its answer is not a hub's")
    return LinkProblem(ProblemKind.UNREACHABLE, hub, str(exc))


def _wait_words(seconds: float) -> str:
    """``45 s``, ``2 min``: a wait as a person reads it."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def _plain(exc: BaseException) -> bool:
    """NotAllowed messages are built from the hub's words by :func:`roles_text`."""
    return bool(str(exc)) and "HTTP" not in str(exc) and "/" not in str(exc)


_ROLE_WORDS = {"admin": "admins", "creator": "creators", "reviewer": "reviewers"}


def roles_text(detail: str | None) -> str:
    """``requires role admin`` (the hub's 403 detail) → ``admins only``."""
    found = re.findall(r"\b(admin|creator|reviewer)\b", detail or "")
    if not found:
        return "this role may not see it"
    words = [_ROLE_WORDS[r] for r in dict.fromkeys(found)]
    return (" and ".join(words) if len(words) < 3 else ", ".join(words)) + " only"


# -- transport failures ---------------------------------------------------------------------

_CERT_CAUSES = {
    9: "the hub's certificate is not valid yet (check this computer's clock)",
    10: "the hub's certificate has expired",
    18: "the hub's certificate is self-signed",
    19: "the hub's certificate chain ends in a CA this computer does not trust",
    20: "the hub's certificate is signed by a CA this computer does not trust",
    21: "the hub's certificate is signed by a CA this computer does not trust",
    62: "the hub's certificate is for another host name",
    64: "the hub's certificate is for another IP address",
}


def certificate_cause(exc: ssl.SSLError) -> str:
    """The certificate problem in words, from OpenSSL's verify code (or its message)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        if code in _CERT_CAUSES:
            return _CERT_CAUSES[code]
        message = getattr(exc, "verify_message", None) or ""
        if "hostname mismatch" in message.lower() or "ip address mismatch" in message.lower():
            return "the hub's certificate is for another host name"
        return f"certificate check failed ({message or 'unknown reason'})"
    reason = (getattr(exc, "reason", None) or "").lower()
    if "wrong_version" in reason or "record_layer" in reason or "http_request" in reason:
        return "the hub does not speak https at this address (try http://)"
    return "the secure connection could not be set up"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 12:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def transport_error(exc: BaseException, what: str) -> HubUnavailable:
    """A :class:`HubUnavailable` (or :class:`TlsFailure`) for a failed connection attempt,
    with the cause in words: refused, host not found, timed out, certificate problem."""
    chain = _chain(exc)
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return TlsFailure(f"{what}: {link}", certificate_cause(link))
    for link in chain:
        cause = _os_cause(link)
        if cause is not None:
            return HubUnavailable(f"{what}: {cause} ({link})", cause)
    names = {type(link).__name__ for link in chain}
    if names & {"ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout", "TimeoutError"}:
        return HubUnavailable(f"{what}: timed out", "no answer in time")
    if names & {"RemoteProtocolError", "InvalidMessage", "InvalidHeader", "LocalProtocolError"}:
        return HubUnavailable(
            f"{what}: {exc}", "something other than a hub answers at this address"
        )
    return HubUnavailable(f"{what}: {exc or type(exc).__name__}", "the connection failed")


def _os_cause(exc: BaseException) -> str | None:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the hub running?)"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "the connection was reset"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        return "connection refused (is the hub running?)"
    return None
