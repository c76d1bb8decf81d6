"""Errors in the user's words: no HTTP status codes, no API paths (one rule for every window)."""

from __future__ import annotations

import pytest

from studio_status.protocol import Role
from studio_status.ui.windows.texts import plain_error

RAW = {
    "forbidden": "not allowed: GET /dashboard/widgets/disk-health: HTTP 403 — the hub refused"
    " the token",
    "down": "hub unreachable: GET /admin/health/db: connection refused",
    "slow": "hub unreachable: GET /admin/health/db: timed out (ReadTimeout)",
    "5xx": "hub unreachable: GET /admin/uptime: HTTP 502",
    "shape": "unexpected answer: GET /admin/uptime: data.windows: field required",
    "conflict": "unexpected answer: POST /admin/services/db/restart: unexpected HTTP 409",
    "checker": "POST /admin/services/db/restart: HTTP 409 — no restart command is configured",
}


@pytest.mark.parametrize("kind", sorted(RAW))
@pytest.mark.parametrize("role", [Role.ADMIN, Role.CREATOR])
def test_no_codes_or_paths(kind: str, role: Role) -> None:
    text = plain_error(RAW[kind], "disk health", role)
    assert "HTTP" not in text and "/admin" not in text and "/dashboard" not in text, text
    assert "GET" not in text and "POST" not in text, text
    assert text[:1].isupper()


def test_what_each_says() -> None:
    assert plain_error(RAW["forbidden"], "disk health", Role.CREATOR) == (
        "Disk health is visible to admins."
    )
    assert "token" in plain_error(RAW["forbidden"], "disk health", Role.ADMIN)
    assert "cannot be reached" in plain_error(RAW["down"], "the check history")
    assert "too long" in plain_error(RAW["slow"], "the check history")
    assert "different versions" in plain_error(RAW["shape"], "uptime")
    # a reason written for people is kept, without the technical prefix
    assert plain_error(RAW["checker"], "the restart") == "No restart command is configured"
    assert "older version" in plain_error("GET /x: HTTP 404", "logs", missing=True)
