"""Errors raised while reading the wire contract.

Exception tree::

    ProtocolError            anything read from the wire that does not fit the contract
    └── MessageTooLarge      a frame larger than the contract allows, refused before parsing

Callers catch :class:`ProtocolError` at the edge (socket reader, REST client) and log it;
the contract never lets a pydantic or json error escape on its own.
"""

from __future__ import annotations

__all__ = ["MessageTooLarge", "ProtocolError"]


class ProtocolError(ValueError):
    """Data from the wire that does not match the contract.

    Attributes:
        what: the kind of message being read (``"event"``, ``"footer"``...).
        detail: a short, human readable reason naming the offending field where known.
    """

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"malformed {what}: {detail}")
        self.what = what
        self.detail = detail


class MessageTooLarge(ProtocolError):
    """A frame over the size limit; refused unread so a hostile peer cannot exhaust memory."""
