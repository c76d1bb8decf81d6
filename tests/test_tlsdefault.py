"""One verifying TLS context per process, as httpx would make it for ``verify=True``."""

from __future__ import annotations

import ssl

from studio_status.tlsdefault import verified_context


def test_one_context_that_verifies() -> None:
    ctx = verified_context()
    assert ctx is verified_context()
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded (once)
