"""``studio-status status``: the footer in one line, with an exit code for scripts.

Exit codes follow the Nagios convention so the command drops into shell prompts, CI and
monitoring: 0 healthy, 1 degraded, 2 down, 3 unreachable / unknown.

Which hub and token: ``--hub`` / ``--token`` (or ``$STUDIO_STATUS_TOKEN``) win; otherwise the
profile (``--profile``, else the active one in the app's settings) names the hub, and its
token comes from the keyring, exactly as the app would use it. A profile that runs its own
hub (no URL) is asked at the hub's default local address.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

from studio_status.protocol import (
    FooterData,
    FooterEnvelope,
    HealthStatus,
    ProtocolError,
    parse_model,
    worst_status,
)

__all__ = ["DEFAULT_HUB", "exit_code", "one_line", "resolve_target", "run_status"]

DEFAULT_HUB = "http://127.0.0.1:8765"
_EXIT = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.DOWN: 2,
    HealthStatus.UNKNOWN: 3,
}


def resolve_target(
    hub: str | None, token: str | None, profile: str | None, config_path: Path | None = None
) -> tuple[str, str | None]:
    """The hub URL and token to ask; raises LookupError for an unknown profile."""
    if hub is not None and token is not None:
        return hub, token
    from studio_status.appconfig import ConfigFile
    from studio_status.tokens import TokenStore, TokenStoreError

    config = ConfigFile(config_path).load().config
    chosen = config.profile(profile) if profile is not None else config.active
    if chosen is None:
        names = ", ".join(p.name for p in config.profiles)
        raise LookupError(f"no profile named {profile!r} (have: {names})")
    if token is None and hub is None:
        try:
            tokens = TokenStore(allow_insecure_file=config.insecure_token_file)
            token = tokens.get(chosen.name)
        except TokenStoreError as exc:
            print(f"studio-status status: {exc}", file=sys.stderr)
    return hub or chosen.hub_url or DEFAULT_HUB, token


def exit_code(footer: FooterData) -> int:
    services = footer.services or {}
    if not services:
        return 0 if footer.services is None else 3  # non-admins see no services at all
    return _EXIT[worst_status([s.status for s in services.values()])]


def one_line(footer: FooterData) -> str:
    parts = []
    if footer.services:
        parts.append(
            "  ".join(f"{s.label or name}:{s.status.value}" for name, s in footer.services.items())
        )
    if footer.cloud_gpu is not None:
        c = footer.cloud_gpu
        parts.append(
            f"{c.active_pods} pods ${c.cost_per_hour_cents / 100:.2f}/hr {c.budget_status.value}"
        )
    j = footer.jobs
    progress = f" {j.overall_progress}%" if j.overall_progress is not None else ""
    parts.append(f"jobs {j.running} running {j.queued} queued{progress}")
    w = footer.workflows
    parts.append(f"workflows {w.active}" + (f" {w.current_stage}" if w.current_stage else ""))
    return " | ".join(parts)


async def _fetch(hub: str, token: str | None) -> tuple[bytes, FooterData]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # several replicas of one hub (comma-separated): the first that answers
    urls = [u.strip() for u in hub.split(",") if u.strip()] or [hub]
    for i, url in enumerate(urls):
        try:
            async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
                response = await http.get("/api/v1/status/footer", headers=headers)
            break
        except httpx.TransportError:
            if i == len(urls) - 1:
                raise
    if response.status_code == 401:
        raise PermissionError(
            "the hub refused the token (401); pass --token or set STUDIO_STATUS_TOKEN"
        )
    response.raise_for_status()
    envelope = parse_model(FooterEnvelope, json.loads(response.content), "footer")
    return response.content, envelope.data


def run_status(hub: str | None, token: str | None, *, as_json: bool) -> int:
    try:
        raw, footer = asyncio.run(_fetch(hub or DEFAULT_HUB, token))
    except (httpx.HTTPError, PermissionError, ProtocolError, ValueError) as exc:
        print(f"UNREACHABLE: {hub or DEFAULT_HUB}: {exc}", file=sys.stderr)
        return 3
    print(raw.decode() if as_json else one_line(footer))
    return exit_code(footer)
