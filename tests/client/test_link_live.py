"""Each way of not having live data is told apart, against a real hub on loopback.

A wrong token once read "hub unreachable" everywhere while the log said 401; these tests
run the real client against the real hub (and real TLS) and read what the views would say.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from studio_status.client import (
    ConnectionState,
    NotAllowed,
    ProblemKind,
    RestClient,
    StatusClient,
    StatusStore,
)
from studio_status.client.clock import SystemClock
from studio_status.client.link import problem_from
from studio_status.client.state import Source
from studio_status.protocol import HealthStatus, Role, utcnow
from studio_status.ui import formats
from tests.hub.checks.servers import Target
from tests.hub.checks.tls import ca_and_leaf, self_signed
from tests.hubrunner import http_service, run_hub, wait_for_status
from tests.reliability.tape import wait_state
from tests.ui.factories import footer


def client(
    url: str, store: StatusStore, token: str | None, verify: bool | str = True, pause: float = 0.2
) -> StatusClient:
    return StatusClient(
        url,
        store,
        token=token,
        verify=verify,
        poll_interval=pause,
        backoff_initial=pause,
        backoff_max=pause,
        open_timeout=2,
        request_timeout=2,
    )


def sourced(profile: str, hub: str) -> StatusStore:
    store = StatusStore()
    store.set_source(Source(profile, hub))
    return store


async def test_wrong_token_is_token_refused_everywhere(tmp_path: Path, target: Target) -> None:
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        store = sourced("Studio", running.url)
        # what the last run left in the cache: it must not stay on screen under a refusal
        store.load_cached(footer(), Role.ADMIN, None, hub_id="earlier")
        refused = client(running.url, store, "ss_nope_wrongsecret")
        refused.start()
        try:
            state = await wait_state(store, lambda s: s.problem is not None)
        finally:
            await refused.aclose()
    assert state.problem is not None and state.problem.kind is ProblemKind.TOKEN_REFUSED
    assert state.connection is ConnectionState.OFFLINE
    assert state.footer is None, "a refused token must not leave cached data on screen"
    strip = formats.connection_text(state, utcnow())
    tray = formats.tray_tooltip(state, utcnow())
    banner = formats.link_banner(state, utcnow())
    assert strip == "Token refused — check the token for profile “Studio” in Settings"
    for text in (strip, tray, banner):
        assert text is not None and "unreachable" not in text.lower()
        # no status code, outside the hub's address (its random port may hold "401")
        assert "401" not in text.replace(running.url, "")
    assert banner is not None and running.url in banner
    assert formats.overall_text(state) == "Token refused"


async def test_unreachable_says_why(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    store = sourced("Local", url)
    down = client(url, store, "t")
    down.start()
    try:
        state = await wait_state(store, lambda s: s.connection is ConnectionState.OFFLINE)
    finally:
        await down.aclose()
    assert state.problem is not None and state.problem.kind is ProblemKind.UNREACHABLE
    assert state.problem.cause.startswith("connection refused")
    text = formats.connection_text(state, utcnow())
    assert text is not None and "hub unreachable" in text and "connection refused" in text
    assert "check the token" not in text


async def test_not_allowed_names_the_roles_not_the_code(tmp_path: Path, target: Target) -> None:
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        token = await running.token(Role.CREATOR)
        async with httpx.AsyncClient() as http:
            rest = RestClient(running.url, http, token=token)
            with pytest.raises(NotAllowed) as raised:
                await rest.get_json("/admin/health")
    problem = problem_from(raised.value, running.url)
    assert problem.kind is ProblemKind.NOT_ALLOWED
    line = problem.line("Studio")
    assert (
        "admins only" in line
        and "403" not in line.replace(running.url, "")  # its random port may hold "403"
        and "/admin" not in line.replace(running.url, "")
    )


@pytest.mark.parametrize(
    ("case", "cause"),
    [
        ("self_signed", "self-signed"),
        ("private_ca", "signed by a CA this computer does not trust"),
        ("expired", "expired"),
    ],
)
async def test_tls_failure_names_the_certificate_problem(
    tmp_path: Path, target: Target, case: str, cause: str
) -> None:
    verify: bool | str = True
    if case == "self_signed":
        pair = self_signed(tmp_path)
    else:
        ca, pair = ca_and_leaf(tmp_path, expired=case == "expired")
        if case == "expired":
            verify = str(ca)  # trusted issuer: the only fault left is the date
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        tls_certfile=pair.cert,
        tls_keyfile=pair.key,
    ) as running:
        token = await running.token(Role.ADMIN)
        await wait_for_status(running.hub, "api", HealthStatus.HEALTHY)  # no probe in flight
        store = sourced("Studio", running.url)
        # one attempt each way (stream and footer poll), then a long pause
        strict = client(running.url, store, token, verify, pause=30)
        strict.start()
        try:
            state = await wait_state(
                store, lambda s: s.problem is not None and s.connection is ConnectionState.OFFLINE
            )
        finally:
            await strict.aclose()
    assert state.problem is not None and state.problem.kind is ProblemKind.TLS
    assert cause in state.problem.cause
    text = formats.connection_text(state, utcnow())
    assert text is not None and cause in text and "unreachable" not in text


async def test_self_signed_hub_trusted_by_its_own_certificate(
    tmp_path: Path, target: Target
) -> None:
    pair = self_signed(tmp_path)
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        tls_certfile=pair.cert,
        tls_keyfile=pair.key,
    ) as running:
        token = await running.token(Role.ADMIN)
        store = sourced("Studio", running.url)
        trusted = client(running.url, store, token, str(pair.cert))
        trusted.start()
        try:
            state = await wait_state(store, lambda s: s.connection is ConnectionState.LIVE)
        finally:
            await trusted.aclose()
    assert state.problem is None and state.footer is not None


@pytest.mark.parametrize(
    ("contract", "kind"), [(99, ProblemKind.TOO_NEW), (0, ProblemKind.TOO_OLD)]
)
async def test_hub_of_another_contract_is_too_old_or_new(
    tmp_path: Path,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    contract: int,
    kind: ProblemKind,
) -> None:
    from studio_status.hub import api, service

    monkeypatch.setattr(api, "CONTRACT", contract)
    monkeypatch.setattr(service, "CONTRACT", contract)
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        token = await running.token(Role.ADMIN)
        store = sourced("Studio", running.url)
        other = client(running.url, store, token)
        other.start()
        try:
            state = await wait_state(store, lambda s: s.problem is not None)
        finally:
            await other.aclose()
    assert state.problem is not None and state.problem.kind is kind
    assert state.footer is None and state.connection is not ConnectionState.LIVE
    text = formats.connection_text(state, utcnow())
    advice = "update the hub" if kind is ProblemKind.TOO_OLD else "update Studio Status"
    assert text is not None and advice in text


async def test_cached_footer_of_another_hub_is_dropped_at_the_first_answer(
    tmp_path: Path, target: Target
) -> None:
    """The footer carries the hub's id: data cached from another hub goes at its first
    answer, before the event stream has said a word."""
    async with run_hub(tmp_path, [http_service("api", f"{target.url}/")]) as running:
        token = await running.token(Role.CREATOR)
        async with httpx.AsyncClient() as http:
            rest = RestClient(running.url, http, token=token)
            live = await rest.fetch_footer()
            assert rest.hub_id == running.hub.bus.hub_id
        store = StatusStore()
        store.load_cached(footer(), Role.ADMIN, None, hub_id="another-hub")
        assert store.state.footer is not None and store.state.footer.services
        store.apply_footer(live, polled=True, hub_id=rest.hub_id)
    state = store.state
    assert state.hub_id == running.hub.bus.hub_id and not state.cached
    assert state.footer is not None and state.footer.services is None  # the creator's view


class _RecordingClock(SystemClock):
    """The real clock, noting each long wait (by the task that waits) as it starts;
    ``waited`` is set by the first of the stream's reconnect waits."""

    def __init__(self) -> None:
        self.long_waits: list[tuple[str, float]] = []
        self.waited = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds >= 10:
            task = asyncio.current_task()
            name = task.get_name() if task else ""
            self.long_waits.append((name, seconds))
            if name.endswith("backoff"):
                self.waited.set()
        await super().sleep(seconds)


async def test_rate_limited_is_token_refused_and_waits_as_asked(
    tmp_path: Path, target: Target
) -> None:
    """Past its address's allowance of refused logins the hub answers ``rate_limited`` and
    closes 4429: still the token-refused case, and the client's next try (stream and poll
    alike) waits as long as the hub named instead of its usual short backoff."""
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        push_burst=2,
        push_rate_per_second=0.01,  # one more try per 100 s
    ) as running:
        for n in range(2):  # the address's burst, spent by refused reads
            async with running.http(f"ss_{n:012x}_made-up-secret-{n}") as bogus:
                assert (await bogus.get("/api/v1/status/footer")).status_code == 401
        store = sourced("Studio", running.url)
        clock = _RecordingClock()
        limited = StatusClient(
            running.url,
            store,
            token="ss_000000000009_wrong-secret",
            poll_interval=0.2,
            backoff_initial=0.2,
            backoff_max=0.2,
            open_timeout=2,
            request_timeout=2,
            clock=clock,
        )
        limited.start()
        try:
            state = await wait_state(
                store, lambda s: s.problem is not None and "wait" in s.problem.cause
            )
            await asyncio.wait_for(clock.waited.wait(), 20)
            stream_waits = [s for name, s in clock.long_waits if name.endswith("backoff")]
            await wait_state(store, lambda s: s.connection is ConnectionState.OFFLINE)
            assert limited.last_error is not None and "retry in" in limited.last_error
        finally:
            await limited.aclose()
    assert state.problem is not None and state.problem.kind is ProblemKind.TOKEN_REFUSED
    assert "hub asks to wait" in state.problem.cause and "min" in state.problem.cause
    # the stream's next try waits the hub's "retry in N s", not the 0.2 s backoff
    assert stream_waits and all(50 <= s <= 101 for s in stream_waits), clock.long_waits
    strip = formats.connection_text(state, utcnow())
    assert strip == "Token refused — check the token for profile “Studio” in Settings"
    banner = formats.link_banner(state, utcnow())
    assert banner is not None and "unreachable" not in banner.lower()
    assert "429" not in banner.replace(running.url, "")  # its random port may hold "429"
