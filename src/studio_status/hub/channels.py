"""Alert channels through Apprise: email, Teams, Discord, Matrix, ntfy, Pushover, Telegram
and a hundred more, each named by one URL (https://github.com/caronc/apprise/wiki).

The URLs in ``[health.notify]`` may name their secrets instead of holding them:
``${NAME}`` or ``${env:NAME}`` is the environment variable ``NAME``, ``${keyring:NAME}`` the
keyring entry of service ``studio-status`` and user ``NAME``. The outbox stores the URL as
written, so no secret ever reaches the database; it is resolved at each delivery, and masked
in any error text that might echo it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlsplit

__all__ = [
    "KEYRING_SERVICE",
    "ChannelError",
    "Notice",
    "deliver",
    "display_name",
    "resolve",
]

KEYRING_SERVICE: Final = "studio-status"
_PLACEHOLDER = re.compile(r"\$\{(?:(env|keyring):)?([A-Za-z_][A-Za-z0-9_.-]*)\}")

#: alert kind -> Apprise notify type (the colour or icon most services show)
_TYPES: Final = {
    "fired": "failure",
    "changed": "failure",
    "flapping": "warning",
    "reminder": "warning",
    "resolved": "success",
    "test": "info",
}

KeyringLookup = Callable[[str, str], str | None]


class ChannelError(Exception):
    """A channel that cannot be sent to; the message is meant for the admin."""


@dataclass(frozen=True)
class Notice:
    """What goes to an Apprise channel (kept in the outbox row's payload)."""

    kind: str
    title: str
    body: str

    def payload(self) -> dict[str, Any]:
        return {"apprise": {"kind": self.kind, "title": self.title, "body": self.body}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Notice | None:
        raw = payload.get("apprise")
        if not isinstance(raw, dict):
            return None
        return cls(str(raw.get("kind", "")), str(raw.get("title", "")), str(raw.get("body", "")))


def _keyring_lookup(service: str, user: str) -> str | None:
    import keyring

    return keyring.get_password(service, user)


def resolve(template: str, lookup: KeyringLookup = _keyring_lookup) -> tuple[str, list[str]]:
    """The URL with its secrets filled in, and the secret values (to mask in errors)."""
    secrets: list[str] = []

    def fill(match: re.Match[str]) -> str:
        source, name = match.group(1) or "env", match.group(2)
        if source == "env":
            value = os.environ.get(name)
            where = f"environment variable {name}"
        else:
            try:
                value = lookup(KEYRING_SERVICE, name)
            except Exception as exc:  # keyring backends raise their own types
                raise ChannelError(f"the keyring could not be read for {name}: {exc}") from exc
            where = f"keyring entry {KEYRING_SERVICE}/{name}"
        if not value:
            raise ChannelError(f"the channel's secret is missing: set the {where}")
        secrets.append(value)
        return quote(value, safe="")

    return _PLACEHOLDER.sub(fill, template), secrets


def display_name(url: str) -> str:
    """The channel as an admin may see it: the service and host, never a credential or a
    token in the path."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}" if host else f"{parts.scheme}://"


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, "***")
    return text


def _send(url: str, notice: Notice) -> str | None:
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return f"Apprise does not know how to send to {display_name(url)}"
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        ok = sender.notify(
            title=notice.title, body=notice.body, notify_type=_TYPES.get(notice.kind, "info")
        )
    if ok:
        return None
    lines = [line for line in str(captured.getvalue()).splitlines() if line.strip()]
    last = lines[-1].split(" - ", 2)[-1] if lines else "the service did not accept it"
    return last.strip()


async def deliver(
    template: str,
    notice: Notice,
    *,
    limit_seconds: float,
    lookup: KeyringLookup = _keyring_lookup,
) -> str | None:
    """Send one notice; None when it was accepted, else the reason (secrets masked).

    Apprise and keyring block, so both run on a worker thread, bounded by ``limit_seconds``."""
    secrets: list[str] = []

    def run() -> str | None:
        url, found = resolve(template, lookup)
        secrets.extend(found)
        return _send(url, notice)

    try:
        async with asyncio.timeout(limit_seconds):
            error = await asyncio.to_thread(run)
    except ChannelError as exc:
        return str(exc)
    except TimeoutError:
        return f"no answer within {limit_seconds:g} s"
    except Exception as exc:  # a plugin's own bug must not stop the outbox
        error = f"{type(exc).__name__}: {exc}"
    return None if error is None else _mask(error, secrets)
