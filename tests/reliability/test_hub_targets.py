"""Misbehaving targets under the whole hub: each is ``down`` with a reason within its
timeout, while a healthy service on a short interval keeps being checked meanwhile.
(The checkers' own translation of each failure is tested in ``tests/hub/checks``; an
unresolvable name is left to them, since resolving it here may leave loopback.)"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from studio_status.protocol import HealthStatus, Role, Topic
from tests.hub.checks.servers import Behaviour, LoopbackServer, free_port
from tests.hub.checks.tls import ca_and_leaf, self_signed
from tests.hubrunner import http_service, run_hub

TIMEOUT = 0.5


async def test_bad_targets_are_down_in_time_and_delay_no_one(tmp_path: Path) -> None:
    _, expired = ca_and_leaf(tmp_path, expired=True)
    servers = {
        "hang": LoopbackServer(behaviour=Behaviour.HANG),
        "silent": LoopbackServer(behaviour=Behaviour.SILENT),
        "reset": LoopbackServer(behaviour=Behaviour.RESET),
        "garbage": LoopbackServer(behaviour=Behaviour.GARBAGE),
        "selfsigned": LoopbackServer(tls=self_signed(tmp_path).server_context()),
        "expired": LoopbackServer(tls=expired.server_context()),
        "ok": LoopbackServer(),
    }
    async with contextlib.AsyncExitStack() as stack:
        for server in servers.values():
            await server.start()
            stack.push_async_callback(server.close)
        services = [
            http_service(name, f"{s.url}/", timeout_seconds=TIMEOUT)
            for name, s in servers.items()
            if name != "ok"
        ]
        services += [
            http_service("refused", f"http://127.0.0.1:{free_port()}/", timeout_seconds=TIMEOUT),
            http_service("ok", f"{servers['ok'].url}/", interval_seconds=0.1, timeout_seconds=0.4),
        ]
        bad = [s.name for s in services if s.name != "ok"]
        async with run_hub(tmp_path, services) as running:
            hub = running.hub
            sub = hub.bus.subscribe(Role.ADMIN, [Topic.HEALTH])
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                async with asyncio.timeout(TIMEOUT * 6):
                    while any(hub.state.services[n].status is not HealthStatus.DOWN for n in bad):
                        await sub.queue.get()
            finally:
                hub.bus.unsubscribe(sub)
            elapsed = loop.time() - started
            ok_checks = len(servers["ok"].requests)
            for name in bad:
                svc = hub.state.services[name]
                assert svc.error_message, name
            assert hub.state.services["hang"].error_message == f"no answer within {TIMEOUT:g} s"
            assert "certificate" in (hub.state.services["selfsigned"].error_message or "")
            assert "certificate" in (hub.state.services["expired"].error_message or "")
            assert hub.state.services["ok"].status is HealthStatus.HEALTHY
            # the healthy service kept its 0.1 s pace while the others hung
            assert ok_checks >= max(2, int(elapsed / 0.1) // 2), (ok_checks, elapsed)
