"""Relay every prompt's execution events to Studio Status sockets (no ComfyUI import here).

ComfyUI sends a prompt's ``execution_start``, ``executing``, ``progress``, ``progress_state``,
``executed`` and the end messages only to the socket whose ``clientId`` submitted it. A
monitor with its own socket (the Studio Status hub) therefore sees other clients' prompts
only as ``status`` counts. :func:`install` wraps the server's ``send_json`` — the one place
every JSON message to a socket passes, in the server's event loop — so that each such
message for one client is also sent to every socket whose client id starts with
:data:`PREFIX`. Nothing else changes: the submitting client gets exactly what it got
before, other browser tabs get nothing new, binary previews are not relayed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["PREFIX", "RELAYED", "Relay", "install"]

log = logging.getLogger("studio_status_relay")

#: the client id prefix of the hub's ComfyUI sockets (``studiostatus-<hex>``)
PREFIX = "studiostatus-"

#: the per-prompt messages ComfyUI sends only to the submitter
RELAYED = frozenset(
    {
        "execution_start",
        "execution_cached",
        "executing",
        "progress",
        "progress_state",
        "executed",
        "execution_success",
        "execution_error",
        "execution_interrupted",
    }
)

SendJson = Callable[..., Awaitable[None]]


class _Socket(Protocol):
    async def send_json(self, data: Any) -> None: ...


class _Server(Protocol):
    sockets: dict[str, Any]
    send_json: SendJson


class Relay:
    """The wrapper around one server's ``send_json``; ``relayed`` counts copies sent."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.original: SendJson = server.send_json
        self.relayed = 0

    async def send_json(self, event: Any, data: Any, sid: str | None = None) -> None:
        await self.original(event, data, sid)
        if sid is None or sid.startswith(PREFIX) or event not in RELAYED:
            return  # broadcast already reached everyone; a relay socket's own messages
        message = {"type": event, "data": data}
        for client, ws in list(self.server.sockets.items()):
            if not client.startswith(PREFIX):
                continue
            try:
                await ws.send_json(message)
                self.relayed += 1
            except (ConnectionError, RuntimeError, OSError) as exc:  # a closing socket
                log.debug("studio status relay: %s: %s", client, exc)


def install(server: _Server) -> Relay:
    """Wrap ``server.send_json`` once (a second call returns the installed relay)."""
    current = getattr(server.send_json, "__self__", None)
    if isinstance(current, Relay):
        return current
    relay = Relay(server)
    server.send_json = relay.send_json
    log.info("studio status relay: forwarding prompt events to %s* sockets", PREFIX)
    return relay
