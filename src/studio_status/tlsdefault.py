"""One certificate-verifying TLS context per process, for every httpx client.

``httpx.AsyncClient()`` builds its own context and loads the whole CA bundle into it: about
2.8 MB and 70 ms each. The default mode has several (the app's client, the hub's check
pool, its alert sender, a ComfyUI source, the cloud poller), so they share this one: the
same settings httpx would use for ``verify=True`` (certifi, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``), made once. A context is safe to share between threads and clients.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["verified_context"]


@functools.cache
def verified_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True)
