"""Bad input against a real hub: each case a clear 4xx that names the field, never a 500.

Each case here was once a 500, a silent misreading, or an answer given before the caller
was known (issue 15).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio_status.hub.ws import MAX_TOPICS
from studio_status.protocol import Role
from tests.hubrunner import RunningHub, recv_json, recv_until, run_hub

BIG = 2**63  # one past SQLite's largest integer

NAN_DASHBOARD = b'{"layout":[{"widget":"active-tasks","x":NaN,"y":0,"w":1,"h":1}]}'


def put_json(http: httpx.AsyncClient, path: str, raw: bytes, method: str = "PUT") -> Any:
    return http.request(method, path, content=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (NAN_DASHBOARD, "finite_number"),
        (NAN_DASHBOARD.replace(b"NaN", b"Infinity"), "finite_number"),
        (NAN_DASHBOARD.replace(b"NaN", b"-Infinity"), "finite_number"),
        (NAN_DASHBOARD.replace(b"NaN", b"1e400"), "finite_number"),
        (NAN_DASHBOARD.replace(b"NaN", str(BIG).encode()), "value_error"),  # 64-bit bound
    ],
)
async def test_a_creator_cannot_send_a_number_json_cannot_carry(
    tmp_path: Path, raw: bytes, kind: str
) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http(creator) as http:
            r = await put_json(http, "/user/dashboard", raw)
            assert r.status_code == 422, r.text
            (error,) = r.json()["detail"]
            assert error["loc"] == ["body", "layout", 0, "x"]
            assert error["type"] == kind
            # nothing was stored: the default layout is still what the creator gets
            assert (await http.get("/user/dashboard")).json()["data"]["is_default"] is True


async def test_integers_beyond_64_bits(tmp_path: Path) -> None:
    """An integer field is bounded to 64 bits (the document says so) whatever the JSON
    spelling; a number field or free-form data takes a big integer as the number it is."""
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        for spelling in (str(BIG).encode(), b"1e19", b"1" + b"0" * 5000):
            r = await put_json(
                http,
                "/api/v1/jobs/events",
                b'{"event_id": "e1", "kind": "created", "job_id": "j1", "queue_position": '
                + spelling
                + b"}",
                "POST",
            )
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", "queue_position"]
        r = await put_json(
            http, "/user/dashboard", b'{"preferences": {"big": ' + str(BIG).encode() + b"}}"
        )
        assert r.status_code == 200, r.text
        assert r.json()["data"]["preferences"]["big"] == float(BIG)
        spec = (await http.get("/openapi.json")).json()
        position = spec["components"]["schemas"]["JobEventIn"]["properties"]["queue_position"]
        assert {"minimum": 0, "maximum": 2**63 - 1}.items() <= position["anyOf"][0].items()


async def test_every_route_with_a_body_refuses_non_finite_numbers(tmp_path: Path) -> None:
    """One layer does it for every route, before any route's own model sees the body."""
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        spec = (await http.get("/openapi.json")).json()
        writes = [
            (method.upper(), path)
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
            if "requestBody" in op
        ]
        assert len(writes) >= 10
        for method, path in writes:
            url = path.replace("{service}", "api").replace("{system}", "casper")
            url = url.replace("{check}", "migrations").replace("{window_id}", "w1")
            r = await put_json(http, url, b'{"deep": [1, {"value": NaN}]}', method)
            assert r.status_code == 422, (method, path, r.text)
            assert r.json()["detail"][0]["loc"] == ["body", "deep", 1, "value"], (method, path)


@pytest.mark.parametrize(
    "path",
    [
        f"/dashboard/widgets/activity-feed?offset={BIG}",
        f"/admin/health/audit?before_id={BIG}",
        "/admin/health/audit?before_id=0",
        "/api/v1/jobs?recent=100000",
        "/admin/health/api?hours=nan",
        "/admin/health/api?hours=inf",
    ],
)
async def test_integer_and_number_query_parameters_are_bounded(tmp_path: Path, path: str) -> None:
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        r = await http.get(path)
        assert r.status_code in (404, 422), r.text
        if "/admin/health/api?" not in path:  # no service "api" here: 404 or 422 both honest
            assert r.status_code == 422
            assert r.json()["detail"][0]["loc"][0] == "query"


async def test_the_caller_is_known_before_the_body_is_read(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        creator = await h.token(Role.CREATOR)
        async with h.http() as anonymous, h.http("ss_000000000000_wrong") as wrong:
            for http in (anonymous, wrong):
                for raw in (b"{not json", NAN_DASHBOARD, b'{"layout": 3}'):
                    r = await put_json(http, "/user/dashboard", raw)
                    assert r.status_code == 401, r.text
                    r = await put_json(http, "/api/v1/jobs/events", raw, "POST")
                    assert r.status_code == 401, r.text
        async with h.http(creator) as http:  # a creator on an admin route: the role first
            r = await put_json(http, "/api/v1/jobs/events", b"{not json", "POST")
            assert r.status_code == 403


async def topics_refused(h: RunningHub, token: str) -> None:
    many = [f"job:{n}" for n in range(MAX_TOPICS + 1)]
    async with h.socket(token, many) as ws:
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == "too_many_topics"
        assert str(MAX_TOPICS) in error["message"]
    async with h.socket(token, ["footer"]) as ws:
        await recv_until(ws, "snapshot")
        await ws.send(json.dumps({"type": "subscribe", "topics": many[: MAX_TOPICS - 1]}))
        await ws.send(json.dumps({"type": "subscribe", "topics": many[MAX_TOPICS - 1 :]}))
        error = await recv_until(ws, "error")
        assert error["code"] == "too_many_topics", error
        # the socket stays, with the topics it had
        (sub,) = [s for s in h.hub.bus._subscribers if "footer" in s.topics]
        assert len(sub.topics) == MAX_TOPICS


async def test_topics_per_socket_are_capped(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h:
        await topics_refused(h, await h.token(Role.CREATOR))


async def test_maintenance_times_are_strings_and_repeats_bounded(tmp_path: Path) -> None:
    base = {"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"}
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        for field, value in [
            ("until", -1.5e-202),
            ("start", 1893456000),
            ("end", 1893459600.5),
            ("every_seconds", 1e300),
        ]:
            r = await http.post("/admin/health/maintenance", json={**base, field: value})
            assert r.status_code == 422, (field, r.text)
            assert r.json()["detail"][0]["loc"][:2] == ["body", field]
        r = await http.post("/admin/health/maintenance", json={**base, "every_seconds": 86400})
        assert r.status_code == 201, r.text
        (window,) = (await http.get("/admin/health/maintenance")).json()["data"]
        assert window["start"].startswith("2030-01-01") and window["every_seconds"] == 86400


async def test_resolving_an_unknown_outage_is_404(tmp_path: Path) -> None:
    async with run_hub(tmp_path, []) as h, h.http(h.admin_token) as http:
        r = await http.post(
            "/api/v1/status/outage",
            json={"system": "casper", "title": "x", "id": "out-nope", "status": "resolved"},
        )
        assert r.status_code == 404 and "out-nope" in r.json()["detail"]
        assert (await http.get("/api/v1/status/outages?resolved_hours=1")).json()["data"] == []
