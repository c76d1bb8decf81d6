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
    "WORKFLOWS_ICON",
    "Overall",
    "ago",
    "clock",
    "cloud_text",
    "cloud_tooltip",
    "connection_text",
    "connection_tooltip",
    "cost_text",
    "jobs_parts",
    "jobs_text",
    "jobs_tooltip",
    "notice_line",
    "overall_status",
    "overall_text",
    "service_label",
    "service_parts",
    "service_tooltip_line",
    "services_text",
    "services_tooltip",
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

SEGMENT_TITLES: dict[Segment, str] = {
    Segment.SERVICES: "Service health",
    Segment.CLOUD_GPU: "Cloud GPU",
    Segment.WORKFLOWS: "Workflows",
    Segment.JOBS: "Jobs",
}

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
    return "\n".join([*lines, "Click: System Health · Right-click: recent changes"])


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
        f"{glyph} {BUDGET_TEXT[cloud.budget_status].capitalize()}\n"
        "Click: Cloud GPU · Right-click: recent changes"
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
    lines.append("Click: jobs · Right-click: recent changes")
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
    lines.append("Click: Studio Pulse · Right-click: recent changes")
    return "\n".join(lines)


# -- connection ---------------------------------------------------------------------------


def connection_text(state: StatusState, now: datetime, tz: tzinfo | None = None) -> str | None:
    """What the strip says about the link; None when live and fresh (nothing to say).

    ``Last update 3 min ago — hub unreachable since 12:04`` when offline, so old numbers are
    never shown as if live.
    """
    conn = state.connection
    last = f"Last update {ago(state.updated_at, now)}" if state.updated_at else "No data yet"
    if conn is ConnectionState.OFFLINE:
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


def connection_tooltip(
    state: StatusState, now: datetime, hub: str | None = None, tz: tzinfo | None = None
) -> str:
    words = {
        ConnectionState.CONNECTING: "Connecting to the hub",
        ConnectionState.LIVE: "Live: event stream connected",
        ConnectionState.POLLING: "Event stream down: polling every 30 s",
        ConnectionState.OFFLINE: "Hub unreachable",
    }
    lines = [words[state.connection] + (f" ({hub})" if hub else "")]
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


def overall_text(state: StatusState) -> str:
    overall = overall_status(state)
    if state.connection is ConnectionState.OFFLINE:
        return "Hub unreachable"
    if state.role is not Role.ADMIN and overall is Overall.HEALTHY:
        return "System Stable"
    return _OVERALL_TEXT[overall]


def tray_tooltip(state: StatusState, now: datetime, tz: tzinfo | None = None) -> str:
    """Studio Status, the overall word, then one line per visible segment."""
    lines = ["Studio Status", overall_text(state)]
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
