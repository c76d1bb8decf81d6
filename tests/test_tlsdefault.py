"""One verifying TLS context per process, as httpx would make it for ``verify=True``, whose
CA bundle is read at the first TLS handshake (plain HTTP never pays for it).

Each case runs in a fresh interpreter: whether the bundle was read is per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.hub.checks.tls import ca_and_leaf, self_signed

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import asyncio, http.server, ssl, sys, threading
import httpx, websockets.asyncio.client
from studio_status.tlsdefault import bundle_loaded, verified_context

class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args): pass

def serve(context):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]

ctx = verified_context()
assert ctx is verified_context()
assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
plain, port = serve(None)

async def plain_http():
    async with httpx.AsyncClient(verify=ctx) as client:
        return (await client.get(f"http://127.0.0.1:{port}/")).text
assert asyncio.run(plain_http()) == "ok"
print("plain", bundle_loaded())
if sys.argv[1] == "plain":
    sys.exit(0)

server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(sys.argv[2], sys.argv[3])
tls, tport = serve(server_ctx)
url = f"https://127.0.0.1:{tport}/"

async def tls_async():
    async with httpx.AsyncClient(verify=ctx) as client:
        return (await client.get(url)).text

def outcome(call):
    try:
        return call()
    except (httpx.ConnectError, ssl.SSLError, OSError) as exc:
        return "refused" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else repr(exc)

print("async", outcome(lambda: asyncio.run(tls_async())), bundle_loaded())
print("sync", outcome(lambda: httpx.get(url, verify=ctx).text))

async def wss():  # asyncio's own TLS (websockets): wrap_bio on the loop
    try:
        await websockets.asyncio.client.connect(f"wss://127.0.0.1:{tport}/", ssl=ctx)
    except ssl.SSLCertVerificationError:
        return "refused"
    except Exception as exc:  # a plain HTTP server answers no upgrade: the handshake passed
        return "handshake passed" if "CERTIFICATE" not in str(exc) else repr(exc)
print("websocket", asyncio.run(wss()))
"""


def _probe(tmp_path: Path, *args: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_plain_http_never_reads_the_bundle(tmp_path: Path) -> None:
    assert _probe(tmp_path, "plain") == ["plain False"]


def test_the_first_handshake_reads_it_and_verifies(tmp_path: Path) -> None:
    pair = self_signed(tmp_path)  # trusted by no one: every client must refuse it
    lines = _probe(tmp_path, "tls", str(pair.cert), str(pair.key))
    assert lines == [
        "plain False",
        "async refused True",
        "sync refused",
        "websocket refused",
    ]


def test_a_ca_named_by_ssl_cert_file_is_trusted(tmp_path: Path) -> None:
    ca, leaf = ca_and_leaf(tmp_path)
    lines = _probe(tmp_path, "tls", str(leaf.cert), str(leaf.key), SSL_CERT_FILE=str(ca))
    assert lines == ["plain False", "async ok True", "sync ok", "websocket handshake passed"]
