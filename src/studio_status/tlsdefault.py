"""One certificate-verifying TLS context per process, for every httpx client, whose CA
bundle is read at the first TLS handshake.

``httpx.AsyncClient()`` builds its own context and loads the whole CA bundle into it: about
2.8 MB and 70 ms each. The default mode has several (the app's client, the hub's check
pool, its alert sender, a ComfyUI source, the cloud poller), so they share one: the same
settings httpx would use for ``verify=True`` (certifi, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``), made once. A context is safe to share between threads and clients.

And most processes never need it at all: the default mode's app and hub talk plain HTTP
on loopback. So the context handed out is a stand-in with the same verifying settings that
builds the real one (bundle and all, ~1.5 MB) when a connection first wraps a socket in
TLS (``wrap_socket`` for blocking clients, ``wrap_bio`` for asyncio and anyio, which is
what httpx, httpcore and websockets call); the TLS session then belongs to the real one.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx

__all__ = ["bundle_loaded", "verified_context"]


@functools.cache
def _loaded() -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True)


class _DeferredContext(ssl.SSLContext):
    """Verifies (``CERT_REQUIRED``, host names checked); holds no certificates itself."""

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return _loaded().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        return _loaded().wrap_bio(*args, **kwargs)

    def cert_store_stats(self) -> dict[str, int]:
        return _loaded().cert_store_stats()

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        return _loaded().get_ca_certs(binary_form)


@functools.cache
def verified_context() -> ssl.SSLContext:
    return _DeferredContext(ssl.PROTOCOL_TLS_CLIENT)


def bundle_loaded() -> bool:
    """Whether this process has read the CA bundle yet (tests, the bench)."""
    return _loaded.cache_info().currsize > 0
