"""Errors raised by the hub client; httpx and websockets errors never escape on their own.

Exception tree::

    ClientError              anything that went wrong talking to the hub
    ├── Unauthorized         the hub refused the token (HTTP 401/403, socket error
    │   │                    "unauthorized" or close code 4401); retrying will not help
    │   │                    until the token changes
    │   ├── RateLimited      refused, and the hub asks to wait before the next try (too
    │   │                    many refused logins from this address: socket ``rate_limited``
    │   │                    / close 4429, or HTTP 429 on a read); ``retry_after`` seconds
    │   └── NotAllowed       HTTP 403: the token is good, its role may not do this
    ├── HubUnavailable       the hub could not be reached or answered 5xx / timed out;
    │   │                    worth retrying with backoff; ``cause`` says why in plain words
    │   ├── TlsFailure       the hub's certificate was not trusted (``cause`` names why)
    │   └── NotFound         HTTP 404: not a hub, or a hub without this route (an older
    │                        hub) or without this resource (a service that is gone)
    ├── Incompatible         the hub speaks another contract (too old or too new)
    └── BadResponse          the hub answered, but not in the contract's shape;
                             ``protocol_error`` holds the :class:`ProtocolError` if any

The tree lets the network code decide between "retry soon", "back off hard" and "log and
carry on"; :func:`studio_status.client.link.problem_from` turns any of them into the one
:class:`~studio_status.client.link.LinkProblem` every view shows.
"""

from __future__ import annotations

import re

from studio_status.protocol import ProtocolError

__all__ = [
    "BadResponse",
    "ClientError",
    "HubUnavailable",
    "Incompatible",
    "NotAllowed",
    "NotFound",
    "RateLimited",
    "TlsFailure",
    "Unauthorized",
]


class ClientError(Exception):
    """Root of every error the client raises."""


class Unauthorized(ClientError):
    """The hub refused our credentials."""


class RateLimited(Unauthorized):
    """The hub refused the token and, its allowance of refused logins from this address
    spent, asks us to wait ``retry_after`` seconds: a new try before then is refused
    unread and only prolongs the wait.

    Only refused tokens are charged (reads with a valid token are never limited), so this
    is the token-refused case, not an unreachable hub.
    """

    #: what the hub's wait is taken as when it names none
    DEFAULT_WAIT = 60.0

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after if retry_after and retry_after > 0 else self.DEFAULT_WAIT

    @staticmethod
    def wait_in(text: str | None) -> float | None:
        """The seconds in the hub's "… retry in 42 s" (its socket error and close reason)."""
        found = re.search(r"retry in (\d+(?:\.\d+)?) s", text or "")
        return float(found.group(1)) if found else None


class NotAllowed(Unauthorized):
    """HTTP 403: the hub knows the token, but its role may not see this."""


class HubUnavailable(ClientError):
    """The hub did not answer usefully (refused, timed out, 5xx, connection dropped).

    Attributes:
        cause: why, in the user's words ("connection refused", "host name not found"),
            without URLs or HTTP codes; the message may say more for the log.
    """

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause or message


class TlsFailure(HubUnavailable):
    """The TLS handshake failed: ``cause`` names the certificate problem."""


class NotFound(HubUnavailable):
    """HTTP 404. Still a :class:`HubUnavailable` for the footer poll (a proxy page on the
    wrong port says 404 too), but a detail window can say "this hub has no such page"."""


class Incompatible(ClientError):
    """The hub's contract number is outside what this app speaks.

    Attributes:
        contract: the hub's contract number.
        too_new: True when the hub is newer than the app (update the app), else older.
    """

    def __init__(self, contract: int, *, too_new: bool) -> None:
        side = "newer" if too_new else "older"
        super().__init__(f"the hub speaks contract {contract}, {side} than this app supports")
        self.contract = contract
        self.too_new = too_new


class BadResponse(ClientError):
    """The hub answered with something that does not fit the contract.

    Attributes:
        protocol_error: the underlying :class:`ProtocolError`, or None when the problem is
            not the body (an unexpected HTTP status, say).
        cause: the hub's own words for a refusal ("no restart command configured"), if any.
    """

    def __init__(
        self,
        message: str,
        protocol_error: ProtocolError | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.protocol_error = protocol_error
        self.cause = cause
