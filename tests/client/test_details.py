"""The details service: fetch into the store, errors kept honest, live refresh, topics, actions.

REST goes through httpx's transport seam (``MockTransport``) or to a real hub on loopback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import httpx
import pytest

from studio_status.client import RestClient, StatusStore
from studio_status.client.details import ActionRecord, Details, JobsList, LogLines, actions_key
from studio_status.protocol import Role, ServiceDetail
from tests.hub.checks.servers import LoopbackServer
from tests.hubrunner import http_service, run_hub

Handler = Callable[[httpx.Request], httpx.Response]


class Topics:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    async def subscribe(self, topics: Iterable[str]) -> None:
        self.calls.append(("subscribe", list(topics)))

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        self.calls.append(("unsubscribe", list(topics)))


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., tuple[Details, StatusStore, list[httpx.Request]]]]:
    made: list[tuple[Details, httpx.AsyncClient]] = []

    def build(
        handler: Handler, topics: Topics | None = None
    ) -> tuple[Details, StatusStore, list[httpx.Request]]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(record))
        store = StatusStore()
        details = Details(RestClient("http://hub", http, token="tok"), store, topics)
        made.append((details, http))
        return details, store, seen

    yield build
    for details, http in made:
        await details.aclose()
        await http.aclose()


async def test_fetch_parses_into_the_store(
    make: Callable[..., tuple[Details, StatusStore, list[httpx.Request]]],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/jobs"
        assert request.headers["Authorization"] == "Bearer tok"
        return httpx.Response(
            200,
            json={
                "data": {
                    "active": [],
                    "recent": [{"id": "j1", "status": "completed", "type": "upscale"}],
                    "workflows": [],
                }
            },
        )

    details, store, seen = make(handler)
    entry = await details.fetch("jobs")
    assert isinstance(entry.value, JobsList)
    assert entry.value.recent[0].id == "j1"
    assert store.state.details["jobs"] is entry
    assert entry.fetched_at is not None and entry.error is None and not entry.loading
    assert seen[0].url.params["recent"] == "20"


async def test_errors_keep_the_last_value_and_say_why(
    make: Callable[..., tuple[Details, StatusStore, list[httpx.Request]]],
) -> None:
    answers = [
        httpx.Response(200, json={"data": {"lines": ["a", "b"]}}),
        httpx.Response(503),
        httpx.Response(404, json={"detail": "no log file for 'x'"}),
    ]
    details, _store, _ = make(lambda _r: answers.pop(0))
    first = await details.fetch("logs:x")
    assert isinstance(first.value, LogLines) and first.value.lines == ["a", "b"]
    second = await details.fetch("logs:x")
    assert second.value is first.value
    assert second.error is not None and second.error.startswith("hub unreachable")
    third = await details.fetch("logs:x")
    assert third.missing and "no log file" in (third.error or "")


async def test_unreachable_hub_is_an_error_entry() -> None:
    async with httpx.AsyncClient() as http:
        store = StatusStore()
        details = Details(RestClient("http://127.0.0.1:9", http), store)
        entry = await details.fetch("uptime:24h")
        assert entry.value is None and entry.error and "hub unreachable" in entry.error
        await details.aclose()


async def test_topics_are_reference_counted(
    make: Callable[..., tuple[Details, StatusStore, list[httpx.Request]]],
) -> None:
    topics = Topics()
    details, _, _ = make(lambda _r: httpx.Response(200, json={"data": {}}), topics)
    details.hold_topics(["job_progress"])
    details.hold_topics(["job_progress"])
    details.release_topics(["job_progress"])
    await asyncio.sleep(0)
    assert topics.calls == [("subscribe", ["job_progress"])]
    details.release_topics(["job_progress"])
    await asyncio.sleep(0)
    assert topics.calls[-1] == ("unsubscribe", ["job_progress"])
    assert not details.held_topics


async def test_actions_land_in_the_audit(
    make: Callable[..., tuple[Details, StatusStore, list[httpx.Request]]],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/restart"):
            assert json.loads(request.content) == {"confirm": True}
            return httpx.Response(
                200,
                json={
                    "data": {
                        "service": "db",
                        "argv": ["x"],
                        "exit_code": 3,
                        "duration_ms": 5,
                        "output": "nope",
                    }
                },
            )
        if request.url.path.endswith("/diagnose"):
            return httpx.Response(
                200,
                json={
                    "data": {
                        "service": "db",
                        "kind": "http",
                        "started_at": "2026-03-01T12:00:00Z",
                        "duration_ms": 4,
                        "output": {"status": "healthy"},
                    }
                },
            )
        return httpx.Response(409, json={"detail": "no restart command configured"})

    details, store, _ = make(handler)
    diag = await details.run_action("db", "diagnose")
    assert diag.ok and '"status": "healthy"' in diag.output
    restart = await details.run_action("db", "restart")
    assert not restart.ok and restart.error == "exit code 3"
    records = store.state.details[actions_key("db")].value
    assert isinstance(records, tuple)
    assert [r.action for r in records if isinstance(r, ActionRecord)] == ["restart", "diagnose"]
    refused = await details.run_action("db", "recheck")  # the handler's 409
    assert not refused.ok and refused.error == "no restart command configured"  # no code
    with pytest.raises(ValueError):
        await details.run_action("db", "format-disk")


async def test_service_history_from_a_real_hub_refreshes_on_transitions(tmp_path: Path) -> None:
    status = {"code": 200}

    async def handler(_request: object) -> object:
        from tests.hub.checks.servers import Response

        return Response(status["code"], b"ok")

    target = await LoopbackServer(handler).start()  # type: ignore[arg-type]
    try:
        async with run_hub(tmp_path, [http_service("api", target.url)]) as h:
            await h.hub.recheck("api")
            await h.hub.writer.flush()
            async with httpx.AsyncClient() as http:
                store = StatusStore()
                details = Details(
                    RestClient(h.url, http, token=h.admin_token), store, min_interval=0
                )
                entry = await details.fetch("service:api")
                assert isinstance(entry.value, ServiceDetail)
                assert entry.value.service.name == "api" and entry.value.history
                missing = await details.fetch("service:nope")
                assert missing.missing
                creator = await h.token(Role.CREATOR)
                details2 = Details(RestClient(h.url, http, token=creator), StatusStore())
                refused = await details2.fetch("service:api")
                assert refused.error and refused.error.startswith("not allowed")
                await details2.aclose()
                await details.aclose()
    finally:
        await target.close()


async def test_tray_mute_goes_to_the_hub_and_back(tmp_path: Path) -> None:
    """A mute from one desktop is the hub's mute: the service shows ``muted_until``."""
    target = await LoopbackServer().start()
    try:
        async with (
            run_hub(tmp_path, [http_service("api", target.url)]) as h,
            httpx.AsyncClient() as http,
        ):
            store = StatusStore()
            details = Details(RestClient(h.url, http, token=h.admin_token), store)
            record = await details.mute(3600)
            assert record.ok, record.error
            assert h.hub.state.services["api"].muted_until is not None
            forever = await details.mute(None)
            assert forever.ok and h.hub.state.services["api"].muted_until is not None
            cleared = await details.mute(0)
            assert cleared.ok
            assert h.hub.state.services["api"].muted_until is None
            odd = await details.mute(60)  # the hub only knows 1 h / 4 h / 8 h / until cleared
            assert not odd.ok and "1 h, 4 h, 8 h" in (odd.error or "")
            creator = await h.token(Role.CREATOR)
            theirs = Details(RestClient(h.url, http, token=creator), StatusStore())
            assert not (await theirs.mute(3600)).ok  # only admins mute the hub
            assert [r.action for r in store.state.details[actions_key("mute")].value][:2] == [
                "mute ?",
                "unmute",
            ]
            await theirs.aclose()
            await details.aclose()
    finally:
        await target.close()
