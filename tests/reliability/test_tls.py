"""The hub serves TLS from config; the client verifies certificates by default and trusts a
private CA only when its profile names it."""

from __future__ import annotations

import signal
import ssl
import time
from pathlib import Path

import httpx

from studio_status.client import ConnectionState, StatusClient, StatusStore
from studio_status.protocol import Role
from tests.hub.checks.servers import Target, free_port
from tests.hub.checks.tls import ca_and_leaf
from tests.hubrunner import http_service, run_hub

from .hubproc import HubProcess
from .tape import wait_state


def client(url: str, store: StatusStore, token: str, verify: bool | str) -> StatusClient:
    return StatusClient(
        url,
        store,
        token=token,
        verify=verify,
        poll_interval=0.1,
        backoff_initial=0.05,
        backoff_max=0.2,
        open_timeout=2,
        request_timeout=2,
    )


async def test_tls_hub_and_verifying_client(tmp_path: Path, target: Target) -> None:
    ca, leaf = ca_and_leaf(tmp_path)
    async with run_hub(
        tmp_path,
        [http_service("api", f"{target.url}/")],
        tls_certfile=leaf.cert,
        tls_keyfile=leaf.key,
    ) as running:
        assert running.url.startswith("https://")
        token = await running.token(Role.ADMIN)
        # plain HTTP to the TLS port is not served
        async with httpx.AsyncClient(timeout=2) as plain:
            try:
                r = await plain.get(running.url.replace("https://", "http://") + "/health")
                assert r.status_code >= 400
            except httpx.HTTPError:
                pass
        # default: the system's CAs, which do not know ours: refused, and said so
        refused = StatusStore()
        strict = client(running.url, refused, token, True)
        strict.start()
        # a profile that names the private CA: live, over wss
        trusted = StatusStore()
        private = client(running.url, trusted, token, str(ca))
        private.start()
        try:
            await wait_state(trusted, lambda s: s.connection is ConnectionState.LIVE)
            await wait_state(refused, lambda s: s.connection is ConnectionState.OFFLINE)
            assert strict.last_error and "certificate" in strict.last_error.lower()
            assert refused.state.footer is None
        finally:
            await strict.aclose()
            await private.aclose()


async def test_tls_hub_stops_promptly_on_sigterm(tmp_path: Path) -> None:
    """An idle keep-alive TLS connection (the hub's own self-check holds one; so does any
    pooled client) never sends close_notify: the hub used to wait its whole graceful
    timeout (5 s) for it."""
    ca, leaf = ca_and_leaf(tmp_path)
    config = tmp_path / "hub.toml"
    config.write_text(f'[hub]\ntls_certfile = "{leaf.cert}"\ntls_keyfile = "{leaf.key}"\n')
    proc = HubProcess(
        config, tmp_path / "hub.sqlite3", free_port(), "ss_boot_" + "x" * 20, tmp_path / "log"
    )
    ready = await proc.start()
    trust = ssl.create_default_context(cafile=str(ca))
    async with httpx.AsyncClient(verify=trust, timeout=5) as pooled:
        r = await pooled.get(ready["url"] + "/health")  # the connection stays in the pool
        assert r.status_code == 200
        started = time.monotonic()
        code = await proc.terminate()
        took = time.monotonic() - started
    assert code in (0, -signal.SIGTERM)
    assert took < 2.0, f"stopping took {took:.2f} s\n{proc.log_path.read_text()}"
    assert "graceful shutdown exceeded" not in proc.log_path.read_text()
