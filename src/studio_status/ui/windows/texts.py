"""Texts the detail windows show, as pure functions (no Qt), beside :mod:`ui.formats`."""

from __future__ import annotations

from datetime import datetime

from studio_status.client.state import StatusState
from studio_status.protocol import HealthStatus, JobInfo, Role, ServiceHealth
from studio_status.ui.formats import SEP, SERVICE_LABELS, STATUS_GLYPHS, ago, clock

__all__ = [
    "PERIOD_LABELS",
    "degraded_weight_text",
    "diagnose_findings",
    "duration",
    "elapsed",
    "job_title",
    "label_of",
    "live_services",
    "percent",
    "plain_error",
    "service_lines",
    "service_title",
    "service_tooltip",
    "size_text",
]


#: Periods, spelled the same in every window (buttons, headers, subtitles).
PERIOD_LABELS: dict[str, str] = {"24h": "24 h", "7d": "7 d", "30d": "30 d"}


def label_of(state: StatusState, name: str) -> str:
    """A service's label (``DB``) wherever a window names it: the hub's, else the strip's."""
    live = state.services.get(name)
    if live is not None and live.label:
        return live.label
    dots = state.footer.services if state.footer is not None and state.footer.services else {}
    dot = dots.get(name)
    if dot is not None and dot.label:
        return dot.label
    return SERVICE_LABELS.get(name, name)


def degraded_weight_text(weight: float) -> str:
    """How degraded time counts toward uptime, in words (the hub's ``degraded_weight``)."""
    if weight >= 1:
        return "degraded time counts as up"
    if weight <= 0:
        return "degraded time counts as down"
    if weight == 0.5:
        return "degraded time counts as half up"
    return f"degraded time counts as {weight:.0%} up"


def size_text(n: int | None) -> str:
    """``26.8 GB`` (binary units, one decimal); ``—`` for None."""
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1024 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def duration(seconds: float | None) -> str:
    """``42 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``; ``—`` for None."""
    if seconds is None:
        return "—"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, rest = divmod(s, 3600)
        return f"{h} h {rest // 60:02d} min"
    d, rest = divmod(s, 86400)
    return f"{d} d {rest // 3600} h"


def elapsed(since: datetime | None, now: datetime) -> str:
    return "—" if since is None else duration((now - since).total_seconds())


def percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} %"


def service_title(svc: ServiceHealth) -> str:
    return svc.label or SERVICE_LABELS.get(svc.name, svc.name)


def service_lines(svc: ServiceHealth, now: datetime) -> list[str]:
    """The card's lines: time in state, latency and last check, the error if any."""
    lines = []
    if svc.since is not None:
        lines.append(f"{svc.status.value.capitalize()} for {elapsed(svc.since, now)}")
    else:
        lines.append("No reading yet" if svc.checked_at is None else svc.status.value.capitalize())
    bits = []
    if svc.latency_ms is not None:
        bits.append(f"{svc.latency_ms} ms")
    if svc.checked_at is not None:
        bits.append(f"checked {ago(svc.checked_at, now)}")
    if bits:
        lines.append(SEP.join(bits))
    if svc.error_message and svc.status is not HealthStatus.HEALTHY:
        lines.append(svc.error_message)
    if svc.muted_until is not None and svc.muted_until > now:
        lines.append(f"Alerts muted until {clock(svc.muted_until)}")
    return lines


def service_tooltip(svc: ServiceHealth, now: datetime) -> str:
    head = f"{STATUS_GLYPHS[svc.status]} {service_title(svc)} — {svc.status.value}"
    lines = [head]
    if svc.kind:
        lines.append(f"Check: {svc.kind}")
    if svc.since is not None:
        lines.append(f"In this state since {clock(svc.since, seconds=True)}")
    if svc.latency_ms is not None:
        lines.append(f"Latency {svc.latency_ms} ms")
    if svc.checked_at is not None:
        lines.append(
            f"Last check {clock(svc.checked_at, seconds=True)} ({ago(svc.checked_at, now)})"
        )
    if svc.error_message:
        lines.append(f"Error: {svc.error_message}")
    lines.append("Click or Enter: history, quick actions and logs")
    return "\n".join(lines)


def job_title(job: JobInfo) -> str:
    return f"{job.type or 'job'} · {job.id}"


def live_services(state: StatusState) -> dict[str, ServiceHealth]:
    """Every window's one rule for a service's current reading (the grid, the header).

    Full readings from the stream, with the time and latency of the latest check from the
    footer (the hub sends those with the footer, not as an event per check); the footer's
    dots alone when only a polled footer is known."""
    footer = state.footer
    if state.services:
        out = dict(state.services)
        dots = footer.services if footer is not None and footer.services else {}
        for name, dot in dots.items():
            svc = out.get(name)
            if svc is None or dot.checked_at is None or dot.status is not svc.status:
                continue
            if svc.checked_at is None or dot.checked_at > svc.checked_at:
                out[name] = svc.model_copy(
                    update={"checked_at": dot.checked_at, "latency_ms": dot.latency_ms}
                )
        return out
    if footer is None or not footer.services:
        return {}
    return {
        name: ServiceHealth(
            name=name,
            label=s.label,
            status=s.status,
            latency_ms=s.latency_ms,
            checked_at=s.checked_at,
        )
        for name, s in footer.services.items()
    }


#: How the client words a failure (``client.details``): the kind, before the technical rest.
_NOT_ALLOWED = "not allowed:"
_UNEXPECTED = "unexpected answer:"
_UNREACHABLE = "hub unreachable:"


def plain_error(reason: str, what: str, role: Role | None = None, *, missing: bool = False) -> str:
    """A failed fetch or action in the user's words: what could not be done and why, never
    an HTTP status or an API path (those go to the log, where the client writes them).

    ``what`` names the thing in the app's terms ("disk health", "the restart")."""
    thing = what[:1].upper() + what[1:]
    if missing:
        return f"This hub does not offer {what} (it may be an older version)."
    if reason.startswith(_NOT_ALLOWED) or "refused the token" in reason:
        if role is not None and role is not Role.ADMIN:
            return f"{thing} is visible to admins."
        return (
            f"The hub refused this desktop's token for {what}. "
            "Check the profile's token in Settings."
        )
    if reason.startswith(_UNEXPECTED):
        return (
            f"Could not read {what}: the hub answered in a form this app does not know "
            "(the hub and the app may be different versions)."
        )
    if reason.startswith(_UNREACHABLE):
        if "timed out" in reason:
            return f"Could not load {what}: the hub took too long to answer. Try again."
        if "HTTP 5" in reason:
            return f"Could not load {what}: the hub ran into a problem. Try again shortly."
        return f"Could not load {what}: the hub cannot be reached. Try again."
    # a reason the hub or a checker wrote for people (a command's own output): kept, but
    # without a technical prefix such as "POST /admin/...: HTTP 409"
    return _strip_technical(reason)


def _strip_technical(reason: str) -> str:
    import re

    text = re.sub(r"\b(GET|POST|PUT|PATCH|DELETE) /\S*:?\s*", "", reason)
    text = re.sub(r"\b(unexpected )?HTTP \d{3}\b\s*(—|-|:)?\s*", "", text)
    text = text.strip(" :—-") or "the hub could not do it"
    return text[:1].upper() + text[1:]


#: Keys a checker's diagnosis uses, as people say them.
_KEY_WORDS = {
    "status": "Result",
    "latency_ms": "Response time",
    "error_message": "Problem",
    "status_code": "HTTP answer",
    "url": "Address",
    "urls": "Addresses",
    "online": "Answering",
    "details": "Details",
}


def _key_words(key: str) -> str:
    if key in _KEY_WORDS:
        return _KEY_WORDS[key]
    for suffix in ("_ms", "_bytes", "_percent", "_seconds"):
        key = key.removesuffix(suffix)
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _value_words(key: str, value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if key.endswith("_ms"):
            return f"{value:g} ms"
        if key.endswith("_seconds"):
            return duration(float(value))
        if key.endswith("_percent"):
            return f"{value:.0f} %"
        if key.endswith("_bytes"):
            return size_text(int(value))
        return f"{value:g}"
    return str(value)


def diagnose_findings(output: object, indent: int = 0) -> list[str]:
    """A checker's diagnosis as a list of findings (``• Response time: 12 ms``), nested
    parts indented under their heading, never raw JSON."""
    pad = "  " * indent
    if isinstance(output, list):
        lines: list[str] = []
        for i, item in enumerate(output, 1):
            if isinstance(item, dict | list):
                lines.append(f"{pad}• Item {i}:")
                lines += diagnose_findings(item, indent + 1)
            else:
                lines.append(f"{pad}• {_value_words('', item)}")
        return lines
    if not isinstance(output, dict):
        return [f"{pad}• {output}"] if output not in (None, "") else []
    lines = []
    first = [k for k in ("status", "error_message", "latency_ms") if k in output]
    for key in first + [k for k in output if k not in first]:
        value = output[key]
        if isinstance(value, dict | list):
            if value:
                lines.append(f"{pad}• {_key_words(key)}:")
                lines += diagnose_findings(value, indent + 1)
            continue
        if key == "error_message" and not value:
            continue  # no problem is no finding
        lines.append(f"{pad}• {_key_words(key)}: {_value_words(key, value)}")
    return lines
