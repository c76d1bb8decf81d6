"""Every text the strip and the tray show, as pure functions (no Qt), in seed 000's formats.

Seed 000's examples are the contract::

    ● ComfyUI  ● DB  ● Workers 3/4      (services, admin only)
    ☁ 2 pods · $1.24/hr   /  ☁ No GPUs   (cloud GPU, admin only)
    ⚡ 3 running · 5 queued · 72%  /  ⚡ No active jobs
    ⟳ 2 workflows · generating  /  ⟳ No active workflows

Decisions where the seed is silent:

* a service's glyph follows its state (● healthy, ▲ degraded, ■ down, ? unknown), so the
  state is readable without colour;
* zero counts are left out (``⚡ 5 queued`` when nothing runs yet), and a percentage is shown
  only while something runs and reports progress (``overall_progress`` None → no ``%``; the
  strip's bar goes indeterminate instead of inventing a number);
* a workflow stage is elided after :data:`STAGE_MAX` characters and left out when unknown.

Times are shown in local time unless a ``tz`` is given (tests pass UTC).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, tzinfo
from enum import StrEnum

from studio_status.client.link import LinkProblem, ProblemKind
from studio_status.client.state import ConnectionState, Notice, Segment, StatusState
from studio_status.protocol import (
    BudgetStatus,
    CloudGpuSummary,
    FooterService,
    HealthStatus,
    JobsSummary,
    Role,
    StabilityState,
    WorkflowsSummary,
)

__all__ = [
    "BUDGET_TEXT",
    "CLOUD_ICON",
    "JOBS_ICON",
    "SEGMENT_TITLES",
    "SERVICE_LABELS",
    "STAGE_MAX",
    "STATUS_GLYPHS",
    "WINDOW_TITLES",
    "WORKFLOWS_ICON",
    "Overall",
    "ago",
    "click_hint",
    "clock",
    "cloud_text",
    "cloud_tooltip",
    "connection_text",
    "connection_tooltip",
    "cost_text",
    "in_use_text",
    "jobs_parts",
    "jobs_text",
    "jobs_tooltip",
    "link_banner",
    "menu_header",
    "notice_line",
    "overall_status",
    "overall_text",
    "problem_text",
    "service_label",
    "service_parts",
    "service_tooltip_line",
    "services_text",
    "services_tooltip",
    "source_text",
    "stability_text",
    "tray_tooltip",
    "workflows_text",
    "workflows_tooltip",
]

STATUS_GLYPHS: dict[HealthStatus, str] = {
    HealthStatus.HEALTHY: "●",
    HealthStatus.DEGRADED: "▲",
    HealthStatus.DOWN: "■",
    HealthStatus.UNKNOWN: "?",
}
CLOUD_ICON = "☁"
JOBS_ICON = "⚡"
WORKFLOWS_ICON = "⟳"
SEP = " · "
STAGE_MAX = 24

#: Abbreviated labels for the seed's three services; any other name is shown as is.
SERVICE_LABELS: dict[str, str] = {"comfyui": "ComfyUI", "database": "DB", "workers": "Workers"}

#: One name per window (the opener's names), used by its title, the tray's menu entries,
#: the strip's tooltips and the links between windows: what a menu entry or a tooltip
#: promises is what the window that opens is called.
WINDOW_TITLES: dict[str, str] = {
    "services": "Service health",
    "service": "Service",
    "cloud_gpu": "Cloud GPU",
    "workflows": "Workflows",
    "jobs": "Jobs",
    "uptime": "Uptime",
    "checklist": "Startup checklist",
    "activity": "Activity",
    "pulse": "Studio pulse",
    "systems": "External systems",
}

#: A segment is named after the window it opens.
SEGMENT_TITLES: dict[Segment, str] = {seg: WINDOW_TITLES[seg.value] for seg in Segment}


def click_hint(window: str) -> str:
    """The last line of a segment's tooltip: where a click goes, in the window's name."""
    return f"Click: open {WINDOW_TITLES[window]} · Right-click: recent changes"


BUDGET_TEXT: dict[BudgetStatus, str] = {
    BudgetStatus.WITHIN_BUDGET: "within budget",
    BudgetStatus.APPROACHING: "approaching budget cap",
    BudgetStatus.EXCEEDED: "budget exceeded",
    BudgetStatus.ERROR: "pod error",
}


class Overall(StrEnum):
    """One word for the whole picture: the tray icon and the collapsed line's dot."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"  # offline, or nothing known yet
    PROCESSING = "processing"  # non-admins: jobs are running (seed 003 "Processing Data")


# -- time ---------------------------------------------------------------------------------


def clock(at: datetime, tz: tzinfo | None = None, *, seconds: bool = False) -> str:
    """``12:04`` (or ``12:04:31``) in local time, or in ``tz``."""
    local = at.astimezone(tz)
    return local.strftime("%H:%M:%S" if seconds else "%H:%M")


def ago(at: datetime, now: datetime) -> str:
    """``just now``, ``42 s ago``, ``3 min ago``, ``2 h ago``, ``3 d ago``."""
    secs = max(0, int((now - at).total_seconds()))
    if secs < 5:
        return "just now"
    if secs < 60:
        return f"{secs} s ago"
    if secs < 3600:
        return f"{secs // 60} min ago"
    if secs < 86400:
        return f"{secs // 3600} h ago"
    return f"{secs // 86400} d ago"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- services -----------------------------------------------------------------------------


def service_label(name: str, service: FooterService) -> str:
    """``DB`` for ``database``; a hub-given label wins; ``Workers 3/4`` when counts are known."""
    label = service.label or SERVICE_LABELS.get(name, name)
    if service.online is not None and service.total is not None:
        label = f"{label} {service.online}/{service.total}"
    return label


def service_parts(services: Mapping[str, FooterService]) -> list[tuple[HealthStatus, str, str]]:
    """``(status, glyph, label)`` per service, in the hub's order."""
    return [(s.status, STATUS_GLYPHS[s.status], service_label(n, s)) for n, s in services.items()]


#: Appended to a muted service's label on the strip.
MUTED_MARK = "(muted)"


def services_text(services: Mapping[str, FooterService] | None, muted: Collection[str] = ()) -> str:
    """``● ComfyUI  ● DB  ● Workers 3/4`` (two spaces between services); a muted one reads
    ``▲ DB (muted)``."""
    if not services:
        return "? No services"
    return "  ".join(
        f"{glyph} {label}" + (f" {MUTED_MARK}" if name in muted else "")
        for name, (_, glyph, label) in zip(services, service_parts(services), strict=True)
    )


def service_tooltip_line(
    name: str, service: FooterService, now: datetime, tz: tzinfo | None = None
) -> str:
    """``● DB — healthy · 3 ms · checked 12:04:31 (8 s ago)``."""
    label = service.label or SERVICE_LABELS.get(name, name)
    bits = [service.status.value]
    if service.instances is not None:
        bits.append(_plural(service.instances, "instance"))
    if service.online is not None and service.total is not None:
        bits.append(f"{service.online}/{service.total} online")
    if service.latency_ms is not None:
        bits.append(f"{service.latency_ms} ms")
    if service.checked_at is not None:
        bits.append(
            f"checked {clock(service.checked_at, tz, seconds=True)} "
            f"({ago(service.checked_at, now)})"
        )
    else:
        bits.append("not checked yet")
    return f"{STATUS_GLYPHS[service.status]} {label} — {SEP.join(bits)}"


def services_tooltip(
    services: Mapping[str, FooterService] | None, now: datetime, tz: tzinfo | None = None
) -> str:
    if not services:
        return "No service readings yet"
    lines = [service_tooltip_line(n, s, now, tz) for n, s in services.items()]
    return "\n".join(
        [
            *lines,
            "Click a service: its history and actions",
            click_hint("services").replace("Click:", "Click elsewhere:"),
        ]
    )


# -- cloud GPU ----------------------------------------------------------------------------


def cost_text(cents: int) -> str:
    """``$1.24`` from 124 cents; thousands separated (``$1,234.50``)."""
    dollars, rest = divmod(max(0, cents), 100)
    return f"${dollars:,}.{rest:02d}"


def cloud_text(cloud: CloudGpuSummary | None) -> str:
    """``☁ 2 pods · $1.24/hr``, ``☁ 1 pod · $0.44/hr`` or ``☁ No GPUs``."""
    if cloud is None or cloud.active_pods <= 0:
        return f"{CLOUD_ICON} No GPUs"
    return (
        f"{CLOUD_ICON} {_plural(cloud.active_pods, 'pod')}{SEP}"
        f"{cost_text(cloud.cost_per_hour_cents)}/hr"
    )


def cloud_tooltip(cloud: CloudGpuSummary | None) -> str:
    if cloud is None:
        return "No cloud GPU data yet"
    glyph = STATUS_GLYPHS[_BUDGET_STATUS[cloud.budget_status]]
    return (
        f"{_plural(cloud.active_pods, 'active pod')}{SEP}"
        f"{cost_text(cloud.cost_per_hour_cents)}/hr\n"
        f"{glyph} {BUDGET_TEXT[cloud.budget_status].capitalize()}\n{click_hint('cloud_gpu')}"
    )


_BUDGET_STATUS = {
    BudgetStatus.WITHIN_BUDGET: HealthStatus.HEALTHY,
    BudgetStatus.APPROACHING: HealthStatus.DEGRADED,
    BudgetStatus.EXCEEDED: HealthStatus.DOWN,
    BudgetStatus.ERROR: HealthStatus.DOWN,
}


# -- jobs ---------------------------------------------------------------------------------


def jobs_parts(jobs: JobsSummary) -> tuple[str, str | None]:
    """``("3 running · 5 queued", "72%")``: the counts and the percentage (None: no ``%``)."""
    counts = []
    if jobs.running > 0:
        counts.append(f"{jobs.running} running")
    if jobs.queued > 0:
        counts.append(f"{jobs.queued} queued")
    if jobs.stalled:
        counts.append(f"{jobs.stalled} stalled")  # not "No active jobs" while some hang
    if not counts:
        return "No active jobs", None
    pct = None
    if jobs.running > 0 and jobs.overall_progress is not None:
        pct = f"{jobs.overall_progress}%"
    return SEP.join(counts), pct


def jobs_text(jobs: JobsSummary) -> str:
    """``⚡ 3 running · 5 queued · 72%``, ``⚡ 5 queued`` or ``⚡ No active jobs``."""
    counts, pct = jobs_parts(jobs)
    return f"{JOBS_ICON} {counts}" + (f"{SEP}{pct}" if pct else "")


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"


def jobs_tooltip(jobs: JobsSummary) -> str:
    lines = [f"{jobs.running} running, {jobs.queued} queued"]
    if jobs.running > 0:
        if jobs.overall_progress is None:
            lines.append("Overall progress not reported")
        else:
            lines.append(f"Overall progress {jobs.overall_progress}%")
    if jobs.eta_seconds is not None and jobs.running > 0:
        covers = " for the running jobs" if jobs.eta_covers == "running" else ""
        lines.append(f"About {_duration(jobs.eta_seconds)} remaining{covers}")
    if jobs.stalled:
        lines.append(f"{jobs.stalled} stalled: no word from their source")
    lines.append(click_hint("jobs"))
    return "\n".join(lines)


# -- workflows ----------------------------------------------------------------------------


def _elide(text: str, limit: int = STAGE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def workflows_text(workflows: WorkflowsSummary) -> str:
    """``⟳ 2 workflows · generating``, ``⟳ 1 workflow`` or ``⟳ No active workflows``."""
    if workflows.active <= 0:
        return f"{WORKFLOWS_ICON} No active workflows"
    text = f"{WORKFLOWS_ICON} {_plural(workflows.active, 'workflow')}"
    if workflows.current_stage and workflows.current_stage.strip():
        text += f"{SEP}{_elide(workflows.current_stage)}"
    return text


def workflows_tooltip(workflows: WorkflowsSummary, state: StatusState | None = None) -> str:
    lines = [f"{_plural(workflows.active, 'active workflow')}"]
    if workflows.current_stage:
        lines.append(f"Most are {workflows.current_stage}")
    if state is not None:
        for wf in list(state.workflows.values())[:5]:
            lines.append(f"• {wf.name}: {wf.stage or wf.status.value}")
    lines.append(click_hint("workflows"))
    return "\n".join(lines)


# -- connection ---------------------------------------------------------------------------


def _profile(state: StatusState) -> str | None:
    return state.source.profile if state.source is not None else None


def problem_text(problem: LinkProblem, profile: str | None = None) -> str:
    """The strip's short form of a link problem: ``Token refused — check the token for
    profile “Local” in Settings``; unreachable says why (``connection refused``)."""
    if problem.kind is ProblemKind.UNREACHABLE:
        return f"hub unreachable: {problem.cause}" if problem.cause else "hub unreachable"
    if problem.kind is ProblemKind.NOT_ALLOWED:
        return f"{problem.headline}: {problem.cause or problem.advice(profile)}"
    if problem.kind is ProblemKind.TLS:
        return f"{problem.headline}: {problem.cause}"
    return f"{problem.headline} — {problem.advice(profile)}"


def connection_text(state: StatusState, now: datetime, tz: tzinfo | None = None) -> str | None:
    """What the strip says about the link; None when live and fresh (nothing to say).

    ``Last update 3 min ago — hub unreachable since 12:04`` when offline, so old numbers are
    never shown as if live; a known cause is said (``Token refused — check the token for
    profile “Local” in Settings``, never "unreachable" for a refused token).
    """
    conn = state.connection
    last = f"Last update {ago(state.updated_at, now)}" if state.updated_at else "No data yet"
    problem = state.problem
    if problem is not None and problem.kind is not ProblemKind.UNREACHABLE:
        return problem_text(problem, _profile(state))
    if conn is ConnectionState.OFFLINE:
        if problem is not None and problem.cause:
            since = f" since {clock(state.offline_since, tz)}" if state.offline_since else ""
            return f"{last} — hub unreachable{since} ({problem.cause})"
        since = f" since {clock(state.offline_since, tz)}" if state.offline_since else ""
        return f"{last} — hub unreachable{since}"
    if conn is ConnectionState.CONNECTING:
        if state.footer is not None and state.stale:
            return f"{last} — connecting…"
        return "Connecting…"
    if state.stale:
        return f"{last} — waiting for the hub"
    if conn is ConnectionState.POLLING:
        return "Polling"
    if state.simulated:
        return SIMULATED_TEXT
    return None


#: Shown while live data comes from the studio simulator, so a demo never passes for real.
SIMULATED_TEXT = "Simulated studio"


def source_text(state: StatusState) -> str | None:
    """The strip's right end: ``Local · admin`` — which profile (hub) and role are in use;
    ``(--hub)`` when the command line replaced the profile's hub or token."""
    source = state.source
    if source is None:
        return None
    text = source.profile + (" (--hub)" if source.override else "")
    if state.role is not None:
        text += f"{SEP}{state.role.value}"
    return text


def connection_tooltip(
    state: StatusState, now: datetime, hub: str | None = None, tz: tzinfo | None = None
) -> str:
    words = {
        ConnectionState.CONNECTING: "Connecting to the hub",
        ConnectionState.LIVE: "Live: event stream connected",
        ConnectionState.POLLING: "Event stream down: polling every 30 s",
        ConnectionState.OFFLINE: "Hub unreachable",
    }
    if hub is None and state.source is not None:
        hub = state.source.hub
    if state.problem is not None:
        lines = [state.problem.line(_profile(state))]
    else:
        lines = [words[state.connection] + (f" ({hub})" if hub else "")]
    if state.source is not None:
        lines.append(_source_line(state))
        if state.source.insecure:
            lines.append("Certificate checks are OFF for this hub (profile setting verify)")
    if state.offline_since is not None:
        lines.append(f"Unreachable since {clock(state.offline_since, tz)}")
    if state.updated_at is not None:
        at = clock(state.updated_at, tz, seconds=True)
        lines.append(f"Last update {at} ({ago(state.updated_at, now)})")
    if state.stale:
        lines.append("Numbers shown may be out of date")
    if state.role is not None:
        lines.append(f"Signed in as {state.role.value}")
    return "\n".join(lines)


def _source_line(state: StatusState) -> str:
    source = state.source
    assert source is not None
    how = " (from the command line, not saved)" if source.override else ""
    return f"Profile “{source.profile}”{how} · {source.hub}"


def in_use_text(state: StatusState) -> str | None:
    """Settings' first line: the connection in use now, as the strip's tooltip names it."""
    if state.source is None:
        return None
    role = f" · signed in as {state.role.value}" if state.role is not None else ""
    return f"In use now: {_source_line(state)}{role}"


def link_banner(state: StatusState, now: datetime, tz: tzinfo | None = None) -> str | None:
    """A window's connection banner: the same words as the strip and the tray, or None
    when the data is live (or from the simulator, which the banner says separately)."""
    profile = _profile(state)
    problem = state.problem
    if problem is not None and problem.kind is not ProblemKind.UNREACHABLE:
        return problem.line(profile) + "."
    if state.connection is ConnectionState.OFFLINE:
        since = f" since {clock(state.offline_since, tz)}" if state.offline_since else ""
        hub = f" {state.source.hub}" if state.source is not None else ""
        cause = f" ({problem.cause})" if problem is not None and problem.cause else ""
        shown = " — showing the last known state" if state.footer is not None else ""
        return f"Hub{hub} unreachable{since}{cause}{shown}."
    return None


# -- overall / tray -----------------------------------------------------------------------


def overall_status(state: StatusState) -> Overall:
    """Admins: the worst service. Others: job activity and the link (seed 003)."""
    if state.connection is ConnectionState.OFFLINE or state.footer is None:
        return Overall.UNKNOWN
    if state.role is Role.ADMIN:
        return Overall(state.worst.value)
    footer = state.footer
    if state.stability is StabilityState.PROCESSING or footer.jobs.running > 0:
        return Overall.PROCESSING
    return Overall.HEALTHY


_OVERALL_TEXT = {
    Overall.HEALTHY: "All services healthy",
    Overall.DEGRADED: "Some services degraded",
    Overall.DOWN: "A service is down",
    Overall.UNKNOWN: "Status unknown",
    Overall.PROCESSING: "Processing Data",
}


def stability_text(stability: StabilityState) -> str:
    """Seed 003's two words for the platform's state, as its own UI says them."""
    if stability is StabilityState.PROCESSING:
        return "Processing Data"
    return "System Stable"


def overall_text(state: StatusState) -> str:
    overall = overall_status(state)
    if state.problem is not None and state.problem.kind is not ProblemKind.UNREACHABLE:
        return state.problem.headline
    if state.connection is ConnectionState.OFFLINE:
        return "Hub unreachable"
    if state.role is not Role.ADMIN and overall is Overall.HEALTHY:
        return "System Stable"
    return _OVERALL_TEXT[overall]


def _counts(state: StatusState) -> str | None:
    """``1 down · 1 degraded · 2 healthy`` over the services the footer shows."""
    services = state.footer.services if state.footer else None
    if not services:
        return None
    order = (HealthStatus.DOWN, HealthStatus.DEGRADED, HealthStatus.UNKNOWN, HealthStatus.HEALTHY)
    counts = {status: 0 for status in order}
    for svc in services.values():
        counts[svc.status] += 1
    words = {HealthStatus.UNKNOWN: "not known"}
    return SEP.join(f"{n} {words.get(st, st.value)}" for st, n in counts.items() if n)


def menu_header(state: StatusState, now: datetime, tz: tzinfo | None = None) -> list[str]:
    """The first lines of the tray menu, as menu-bar apps do: the state in words with its
    counts (or the link's problem), then the profile, role and hub."""
    glyph = STATUS_GLYPHS[_OVERALL_GLYPH[overall_status(state)]]
    first = f"{glyph} {overall_text(state)}"
    counts = _counts(state) if state.problem is None else None
    if counts and state.role is Role.ADMIN:
        first += f": {counts}"
    elif state.footer is not None and state.role is not Role.ADMIN and state.problem is None:
        running, _pct = jobs_parts(state.footer.jobs)
        first += f": {running[0].lower()}{running[1:]}"
    lines = [first]
    conn = connection_text(state, now, tz)
    if conn and conn != SIMULATED_TEXT:
        lines.append(conn)
    if state.source is not None:
        role = f"{SEP}{state.role.value}" if state.role is not None else ""
        how = " (command line)" if state.source.override else ""
        lines.append(f"Profile {state.source.profile}{how}{role}{SEP}{state.source.hub}")
    if state.simulated:
        lines.append(SIMULATED_TEXT)
    return lines


_OVERALL_GLYPH = {
    Overall.HEALTHY: HealthStatus.HEALTHY,
    Overall.DEGRADED: HealthStatus.DEGRADED,
    Overall.DOWN: HealthStatus.DOWN,
    Overall.UNKNOWN: HealthStatus.UNKNOWN,
    Overall.PROCESSING: HealthStatus.HEALTHY,
}


def tray_tooltip(state: StatusState, now: datetime, tz: tzinfo | None = None) -> str:
    """Studio Status, the overall word, the profile and role, then one line per visible
    segment; the link's problem, in the strip's words."""
    lines = ["Studio Status", overall_text(state)]
    source = source_text(state)
    if source is not None:
        hub = state.source.hub if state.source is not None else ""
        lines.append(f"{source}{SEP}{hub}")
    footer = state.footer
    if footer is not None:
        if state.role is Role.ADMIN:
            if footer.services:
                lines.append(services_text(footer.services))
            lines.append(cloud_text(footer.cloud_gpu))
        lines.append(workflows_text(footer.workflows))
        lines.append(jobs_text(footer.jobs))
    conn = connection_text(state, now, tz)
    if conn:
        lines.append(conn)
    return "\n".join(lines)


def notice_line(notice: Notice, tz: tzinfo | None = None) -> str:
    """``12:04:31  ▲ ComfyUI degraded`` for the history popover."""
    return f"{clock(notice.at, tz, seconds=True)}  {STATUS_GLYPHS[notice.severity]} {notice.text}"
