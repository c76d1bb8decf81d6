"""Errors raised by the hub client; httpx and websockets errors never escape on their own.

Exception tree::

    ClientError              anything that went wrong talking to the hub
    ├── Unauthorized         the hub refused the token (HTTP 401/403, socket error
    │                        "unauthorized" or close code 4401); retrying will not help
    │                        until the token changes
    ├── HubUnavailable       the hub could not be reached or answered 5xx / timed out;
    │   │                    worth retrying with backoff
    │   └── NotFound         HTTP 404: not a hub, or a hub without this route (an older
    │                        hub) or without this resource (a service that is gone)
    └── BadResponse          the hub answered, but not in the contract's shape;
                             ``protocol_error`` holds the :class:`ProtocolError` if any

Views only ever see :attr:`StatusClient.last_error` (a string); the tree exists so the
network code can decide between "retry soon", "back off hard" and "log and carry on".
"""

from __future__ import annotations

from studio_status.protocol import ProtocolError

__all__ = ["BadResponse", "ClientError", "HubUnavailable", "NotFound", "Unauthorized"]


class ClientError(Exception):
    """Root of every error the client raises."""


class Unauthorized(ClientError):
    """The hub refused our credentials."""


class HubUnavailable(ClientError):
    """The hub did not answer usefully (refused, timed out, 5xx, connection dropped)."""


class NotFound(HubUnavailable):
    """HTTP 404. Still a :class:`HubUnavailable` for the footer poll (a proxy page on the
    wrong port says 404 too), but a detail window can say "this hub has no such page"."""


class BadResponse(ClientError):
    """The hub answered with something that does not fit the contract.

    Attributes:
        protocol_error: the underlying :class:`ProtocolError`, or None when the problem is
            not the body (an unexpected HTTP status, say).
    """

    def __init__(self, message: str, protocol_error: ProtocolError | None = None) -> None:
        super().__init__(message)
        self.protocol_error = protocol_error
