"""Where each detail window lives in the platform's web UI, for "Open in browser".

The seed's pages: ``/admin/health`` (seed 000, 1.2; seed 001), ``/admin/cloud-gpu`` (1.3).
The jobs and workflows pages have no path in the seed, so the Studio Pulse dashboard
(seed 002) stands in for them and for activity and pulse.
"""

from __future__ import annotations

__all__ = ["WEB_PATHS", "web_link"]

WEB_PATHS: dict[str, str] = {
    "services": "/admin/health",
    "service": "/admin/health",
    "uptime": "/admin/health",
    "checklist": "/admin/health",
    "cloud_gpu": "/admin/cloud-gpu",
    "jobs": "/dashboard",
    "workflows": "/dashboard",
    "activity": "/dashboard",
    "pulse": "/dashboard",
}


def web_link(web_url: str | None, kind: str) -> str | None:
    """The platform page for window ``kind`` under ``web_url``, or None."""
    path = WEB_PATHS.get(kind)
    if not web_url or path is None:
        return None
    return web_url.rstrip("/") + path
