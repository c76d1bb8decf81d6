"""The hub killed with SIGKILL in the middle of checks and writes, then restarted.

A real hub runs in a child process with four services flapping on every check (each
check is a transition: a window closed and opened, an event published and stored) while
jobs are pushed in. It is killed outright, its database inspected as a fresh process
would open it, and restarted on the same file and port while a real ``StatusClient``
stays connected throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import signal
from pathlib import Path

import httpx

from studio_status.client import ConnectionState, StatusClient
from studio_status.client.stream import DEFAULT_TOPICS
from studio_status.protocol import EVENT_TYPES, HealthStatus
from tests.hub.checks.servers import LoopbackServer, Request, Response, free_port

from .hubproc import HubProcess, health_events, open_db, open_windows, stored_events
from .tape import TapeStore, wait_state

SERVICES = ("alpha", "beta", "gamma", "delta")


class Flapper:
    """Answers each path alternately 200 and 500 while ``flapping``, else always 200."""

    def __init__(self) -> None:
        self.flapping = True
        self.counts: dict[str, int] = {}

    async def __call__(self, request: Request) -> Response:
        n = self.counts[request.path] = self.counts.get(request.path, 0) + 1
        if self.flapping and n % 2 == 0:
            return Response(500, b"flap")
        return Response(200, b"ok")


def write_config(path: Path, target: str) -> Path:
    lines = ["[hub]", "heartbeat_seconds = 1", ""]
    for name in SERVICES:
        lines += [
            "[[services]]",
            f'name = "{name}"',
            "interval_seconds = 0.05",
            "timeout_seconds = 0.2",
            "[services.check]",
            'kind = "http"',
            f'url = "{target}/{name}"',
            "",
        ]
    path.write_text("\n".join(lines))
    return path


async def push_jobs(url: str, token: str, pushed: list[str]) -> None:
    """Push job lifecycles for ever; a dead hub just means retry later."""
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=2
    ) as http:
        for n in itertools.count():
            job = f"job-{n}"
            for kind, extra in (("created", {}), ("progress", {"progress": 50}), ("completed", {})):
                body = {"event_id": f"{job}-{kind}", "kind": kind, "job_id": job, **extra}
                while True:
                    try:
                        r = await http.post("/api/v1/jobs/events", json=body)
                        if r.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.05)
            pushed.append(job)
            await asyncio.sleep(0.01)


def assert_windows_match_events(db: Path) -> dict[str, list[str]]:
    """Every window opening is one stored transition event and the other way round."""
    conn = open_db(db)
    try:
        windows: dict[str, list[str]] = {}
        for name, status in conn.execute(
            "SELECT service_name, status FROM uptime_records ORDER BY id"
        ).fetchall():
            windows.setdefault(name, []).append(status)
        events: dict[str, list[tuple[str, str]]] = {}
        for data in health_events(conn).values():
            events.setdefault(data["service"], []).append(
                (data["previous"], data["current"]["status"])
            )
        assert open_windows(conn) == dict.fromkeys(SERVICES, 1)
    finally:
        conn.close()
    for name in SERVICES:
        opened = windows[name]
        changes = events.get(name, [])
        assert [cur for _, cur in changes] == opened, name
        previous = [HealthStatus.UNKNOWN.value, *opened[:-1]]
        assert [prev for prev, _ in changes] == previous, name
    return windows


async def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    flapper = Flapper()
    target = await LoopbackServer(flapper).start()
    token = secrets.token_urlsafe(24)
    db = tmp_path / "hub.sqlite3"
    proc = HubProcess(
        write_config(tmp_path / "hub.toml", target.url), db, free_port(), token, tmp_path / "log"
    )
    store = TapeStore()
    client = StatusClient(
        proc.url,
        store,
        token=token,
        backoff_initial=0.05,
        backoff_max=0.2,
        poll_interval=0.5,
        open_timeout=5,
    )
    pushed: list[str] = []
    pusher: asyncio.Task[None] | None = None
    try:
        await proc.start()
        first_id = proc.hub_id
        client.start()
        pusher = asyncio.create_task(push_jobs(proc.url, token, pushed))
        # in full flow: many transitions and jobs seen live
        await wait_state(store, lambda _: len(store.events(first_id)) >= 150 and len(pushed) >= 3)
        await proc.kill()
        seen_before = store.events(first_id)
        reached = store.state.last_seq
        assert reached is not None

        # the file opens clean as another process would open it after the crash
        conn = open_db(db)
        try:
            assert open_windows(conn) == dict.fromkeys(SERVICES, 1)
            committed = stored_events(conn)
        finally:
            conn.close()
        assert committed, "nothing was committed before the kill"
        high = max(committed)
        # everything committed up to where the client got was seen live, with the same
        # content; the client may have seen more (published, not yet written) or less (in
        # flight at the kill), never something else under a seq
        first_snapshot = next(e.seq for e in store.tape if e.kind == "snapshot")
        by_seq = {e.seq: e for e in seen_before}
        for seq, (kind, data) in committed.items():
            if first_snapshot < seq <= reached and EVENT_TYPES[kind][1] in DEFAULT_TOPICS:
                assert seq in by_seq, f"committed {kind} seq {seq} never reached the client"
                assert (by_seq[seq].type, by_seq[seq].data) == (kind, data)

        await wait_state(store, lambda s: s.connection is not ConnectionState.LIVE)
        await proc.start()
        second_id = proc.hub_id
        # events the client saw may be gone with the crash: it must not resume over them
        assert second_id != first_id
        await wait_state(
            store,
            lambda s: s.hub_id == second_id and len(store.events(second_id)) >= 60,
        )
        flapper.flapping = False
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
        await wait_state(
            store,
            lambda s: all(
                (svc := s.services.get(n)) is not None and svc.status is HealthStatus.HEALTHY
                for n in SERVICES
            ),
        )
        last_seen = store.state.last_seq
        assert await proc.terminate() in (0, -signal.SIGTERM)  # uvicorn re-raises it
    finally:
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        await client.aclose()
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.kill()
        await target.close()

    assert store.problems() == []
    assert_windows_match_events(db)
    conn = open_db(db)
    try:
        after = {s: v for s, v in stored_events(conn).items() if s > high}
    finally:
        conn.close()
    # the second run: every event stored up to where the client got is what it was sent
    resync = next(e.seq for e in store.tape if e.kind == "snapshot" and e.hub_id == second_id)
    got = {e.seq: e for e in store.events(second_id)}
    assert last_seen is not None
    for seq, (kind, data) in after.items():
        if resync < seq <= last_seen and EVENT_TYPES[kind][1] in DEFAULT_TOPICS:
            assert seq in got, f"{kind} seq {seq} of the second run never reached the client"
            assert (got[seq].type, got[seq].data) == (kind, data)
