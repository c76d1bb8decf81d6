"""The hub restarted under 50 connected ``StatusClient``s: every one resumes, none sees a
seq go backwards or an event twice, and each gets exactly what its role may see."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import httpx

from studio_status.client import ConnectionState, StatusClient
from studio_status.client.stream import DEFAULT_TOPICS
from studio_status.hub.service import Hub
from studio_status.protocol import ADMIN_TOPICS, EVENT_TYPES, JobEventIn, Role
from tests.hub.checks.servers import Target, free_port
from tests.hubrunner import http_service

from .inproc import hub_on_port
from .tape import TapeStore, wait_state

CLIENTS = 50
ADMIN_EVERY = 2  # every other client is an admin, the rest creators


async def make_traffic(hub: Hub, target: Target, tag: str) -> None:
    """Transitions (two per round) and job events, all published before returning."""
    for n in range(2):
        target.status = 500
        await hub.recheck("api")
        target.status = 200
        await hub.recheck("api")
        hub.push_job(JobEventIn(event_id=f"{tag}-{n}", kind="created", job_id=f"{tag}-{n}"))


async def all_caught_up(stores: list[TapeStore], hub: Hub) -> None:
    await asyncio.gather(
        *(
            wait_state(
                s,
                lambda st: st.connection is ConnectionState.LIVE and st.last_seq == hub.bus.seq,
            )
            for s in stores
        )
    )


async def test_fifty_clients_resume_across_a_restart(tmp_path: Path, target: Target) -> None:
    db, port = tmp_path / "hub.sqlite3", free_port()
    services = [http_service("api", f"{target.url}/")]
    stores = [TapeStore() for _ in range(CLIENTS)]
    clients: list[StatusClient] = []
    # one pool for all: each private httpx client would load the CA bundle again (~0.15 s)
    http = httpx.AsyncClient(timeout=5)
    try:
        async with hub_on_port(db, services, port, heartbeat_seconds=0.5) as running:
            tokens = {role: await running.token(role) for role in (Role.ADMIN, Role.CREATOR)}
            for i, store in enumerate(stores):
                role = Role.ADMIN if i % ADMIN_EVERY == 0 else Role.CREATOR
                client = StatusClient(
                    running.url,
                    store,
                    token=tokens[role],
                    http=http,
                    backoff_initial=0.05,
                    backoff_max=0.3,
                    poll_interval=0.5,
                    open_timeout=5,
                )
                clients.append(client)
                client.start()
            await make_traffic(running.hub, target, "first")
            await all_caught_up(stores, running.hub)
            hub_id = running.hub.bus.hub_id
        await asyncio.gather(
            *(wait_state(s, lambda st: st.connection is not ConnectionState.LIVE) for s in stores)
        )
        async with hub_on_port(db, services, port, heartbeat_seconds=0.5) as running:
            assert running.hub.bus.hub_id == hub_id
            await make_traffic(running.hub, target, "second")  # a gap to replay
            await all_caught_up(stores, running.hub)
            await make_traffic(running.hub, target, "third")  # and live events after it
            await all_caught_up(stores, running.hub)
            # what every client had; the footer refresh (each heartbeat) may publish more
            # while the hub stops, too late for any client: not required below
            final = running.hub.bus.seq
    finally:
        for client in clients:
            await client.aclose()
        await http.aclose()

    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = dict(conn.execute("SELECT seq, type FROM events").fetchall())
    for i, store in enumerate(stores):
        assert store.problems() == [], f"client {i}"
        snapshots = [e for e in store.tape if e.kind == "snapshot"]
        assert len(snapshots) == 1, f"client {i} took a snapshot again instead of resuming"
        seen = [e.seq for e in store.events()]
        assert seen == sorted(set(seen)), f"client {i}: a seq twice or backwards"
        if i % ADMIN_EVERY == 0:
            expected = [s for s, kind in sorted(stored.items()) if s > snapshots[0].seq]
            expected = [s for s in expected if EVENT_TYPES[stored[s]][1] in DEFAULT_TOPICS]
            upto = [s for s in seen if s <= final]
            missing = sorted({s for s in expected if s <= final} - set(upto))
            assert upto == [s for s in expected if s <= final], (
                i,
                [(s, stored[s]) for s in missing][:10],
            )
            assert set(seen) <= set(expected), f"client {i} saw what it may not"
        else:
            topics = {EVENT_TYPES[stored[s]][1] for s in seen}
            assert topics, f"client {i} saw nothing"
            assert not topics & ADMIN_TOPICS, f"client {i}"
