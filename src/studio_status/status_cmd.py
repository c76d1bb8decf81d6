"""``studio-status status``: the footer in one line, with an exit code for scripts.

Output and exit codes follow the Nagios plugin convention, so the command drops into shell
prompts, CI and monitoring: the status word first (``OK`` 0, ``WARNING`` 1, ``CRITICAL`` 2,
``UNKNOWN`` 3), then the state in words, then performance data after ``|``::

    WARNING: Workers degraded (3/4 online); ComfyUI healthy; DB healthy; jobs: 3 running, ...

Every way of not getting an answer is ``UNKNOWN`` (3) with the real cause on the first line,
in the same words as the app (:class:`~studio_status.client.link.LinkProblem`): hub
unreachable and why, token refused (for which profile), not allowed for the role, the
certificate problem, hub too old or too new. A usage error (a hub address that is not one,
a CA file that does not exist) is ``UNKNOWN`` too, as Nagios plugins do.

Which hub and token: ``--hub`` / ``--token`` (or ``$STUDIO_STATUS_TOKEN``) win; otherwise the
profile (``--profile``, else the active one in the app's settings) names the hub, and its
token comes from the keyring, exactly as the app would use it. A profile that runs its own
hub (no URL) is asked at the hub's default local address. ``--ca FILE`` trusts a private CA
(or a self-signed hub's certificate), ``--insecure`` checks no certificate; otherwise the
profile's ``verify`` setting applies to the profile's own hub.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from studio_status.protocol import BudgetStatus, FooterData, HealthStatus, worst_status

__all__ = [
    "DEFAULT_HUB",
    "Target",
    "UsageError",
    "exit_code",
    "one_line",
    "resolve_target",
    "run_status",
]

DEFAULT_HUB = "http://127.0.0.1:8765"
_EXIT = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.DOWN: 2,
    HealthStatus.UNKNOWN: 3,
}
WORDS = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
_BUDGET = {
    BudgetStatus.WITHIN_BUDGET: "within budget",
    BudgetStatus.APPROACHING: "approaching the budget cap",
    BudgetStatus.EXCEEDED: "budget exceeded",
    BudgetStatus.ERROR: "pod error",
}
_SERVICE_LABELS = {"comfyui": "ComfyUI", "database": "DB", "workers": "Workers"}


class UsageError(ValueError):
    """The command line cannot be used as given (exit 3, the message says why)."""


@dataclass(frozen=True)
class Target:
    """Whom to ask and how: the hub URL, the token, the profile it came from (for the
    advice "check the token for profile X") and the certificate check."""

    url: str
    token: str | None
    profile: str | None = None
    verify: bool | str = True


def resolve_target(
    hub: str | None,
    token: str | None,
    profile: str | None,
    config_path: Path | None = None,
    *,
    ca: Path | None = None,
    insecure: bool = False,
) -> Target:
    """The hub to ask; LookupError for an unknown profile, UsageError for a bad address."""
    from studio_status.appconfig import hub_url

    if ca is not None and insecure:
        raise UsageError("--ca and --insecure contradict each other; pass one")
    if ca is not None and not ca.is_file():
        raise UsageError(f"--ca {ca}: no such file")
    verify: bool | str = str(ca) if ca is not None else not insecure
    if hub is not None:
        try:
            hub = hub_url(hub)
        except ValueError as exc:
            raise UsageError(f"--hub {hub!r}: {exc}") from None
    if hub is not None and token is not None:
        return Target(hub, token, None, verify)
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
    own = hub is None or hub == chosen.hub_url
    if own and ca is None and not insecure:
        verify = chosen.verify
    return Target(hub or chosen.hub_url or DEFAULT_HUB, token, chosen.name, verify)


def exit_code(footer: FooterData) -> int:
    services = footer.services or {}
    if not services:
        return 0 if footer.services is None else 3  # non-admins see no services at all
    return _EXIT[worst_status([s.status for s in services.values()])]


def _service(name: str, svc: object) -> str:
    from studio_status.protocol import FooterService

    assert isinstance(svc, FooterService)
    label = svc.label or _SERVICE_LABELS.get(name, name)
    word = "state unknown" if svc.status is HealthStatus.UNKNOWN else svc.status.value
    counts = f" ({svc.online}/{svc.total} online)" if svc.total is not None else ""
    return f"{label} {word}{counts}"


_ORDER = {HealthStatus.DOWN: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNKNOWN: 2}


def one_line(footer: FooterData) -> str:
    """``WARNING: Workers degraded (3/4 online); ComfyUI healthy; …  | perfdata``."""
    code = exit_code(footer)
    parts: list[str] = []
    perf: list[str] = []
    if footer.services:
        ranked = sorted(footer.services.items(), key=lambda kv: _ORDER.get(kv[1].status, 3))
        parts.extend(_service(name, svc) for name, svc in ranked)
        for name, svc in footer.services.items():
            if svc.online is not None and svc.total is not None:
                perf.append(f"{name}_online={svc.online};;;0;{svc.total}")
    elif footer.services is None:
        parts.append("system stable (services are shown to admins)")
    else:
        parts.append("the hub watches no services")
    j = footer.jobs
    jobs = [f"{j.running} running", f"{j.queued} queued"]
    if j.running and j.overall_progress is not None:
        jobs.append(f"{j.overall_progress}% done")
    parts.append("jobs: " + ", ".join(jobs))
    perf += [f"jobs_running={j.running}", f"jobs_queued={j.queued}"]
    w = footer.workflows
    stage = f" ({w.current_stage})" if w.current_stage and w.active else ""
    parts.append(f"workflows: {w.active} active{stage}")
    if footer.cloud_gpu is not None:
        c = footer.cloud_gpu
        pods = "1 pod" if c.active_pods == 1 else f"{c.active_pods} pods"
        cost = f"${c.cost_per_hour_cents / 100:.2f}/hr"
        parts.append(f"cloud GPU: {pods}, {cost}, {_BUDGET[c.budget_status]}")
        perf.append(f"gpu_pods={c.active_pods}")
    return f"{WORDS[code]}: " + "; ".join(parts) + " | " + " ".join(perf)


async def _fetch(target: Target) -> tuple[bytes, FooterData]:
    import httpx

    from studio_status.client.errors import HubUnavailable
    from studio_status.client.rest import RestClient
    from studio_status.client.stream import http_verify, hub_urls

    urls = hub_urls(target.url)  # several replicas of one hub: the first that answers
    async with httpx.AsyncClient(verify=http_verify(target.verify), timeout=5.0) as http:
        for url in urls[:-1]:
            try:
                footer, raw = await RestClient(
                    url, http, token=target.token, timeout=5.0
                ).fetch_footer_body()
                return raw, footer
            except HubUnavailable:
                continue
        rest = RestClient(urls[-1], http, token=target.token, timeout=5.0)
        footer, raw = await rest.fetch_footer_body()
    return raw, footer


def run_status(target: Target, *, as_json: bool) -> int:
    from studio_status.client.errors import ClientError
    from studio_status.client.link import problem_from

    if target.verify is False and target.url.startswith("https:"):
        print("studio-status status: certificate checks are OFF (--insecure)", file=sys.stderr)
    try:
        raw, footer = asyncio.run(_fetch(target))
    except ClientError as exc:
        problem = problem_from(exc, target.url)
        print(f"UNKNOWN: {problem.line(target.profile)}")
        print(f"studio-status status: {exc}", file=sys.stderr)
        return 3
    print(raw.decode() if as_json else one_line(footer))
    return exit_code(footer)
