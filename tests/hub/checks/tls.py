"""Certificates for the TLS tests, made on the spot.

With the ``cryptography`` package we can make everything, including an expired certificate
from a trusted CA. Without it we fall back to the ``openssl`` command line for what it can
make simply (self-signed and CA-signed, not expired); tests needing more skip.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_CRYPTOGRAPHY = False

OPENSSL = shutil.which("openssl")
NO_TLS_TOOLS = "neither the cryptography package nor the openssl CLI is available"


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def require_tls_tools() -> None:
    if not HAVE_CRYPTOGRAPHY and OPENSSL is None:
        pytest.skip(NO_TLS_TOOLS)


def self_signed(directory: Path) -> CertPair:
    """A certificate for 127.0.0.1 signed by its own key: trusted by no one."""
    require_tls_tools()
    if HAVE_CRYPTOGRAPHY:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("127.0.0.1")
        cert = _builder(name, name, key, key, expired=False, ca=False).sign(key, hashes.SHA256())
        return _write(directory, "self", cert, key)
    return _openssl_self_signed(directory)


def ca_and_leaf(directory: Path, *, expired: bool = False) -> tuple[Path, CertPair]:
    """A CA certificate (to trust in the client) and a leaf for 127.0.0.1 that it signed."""
    require_tls_tools()
    if not HAVE_CRYPTOGRAPHY:
        if expired:
            pytest.skip("an expired certificate needs the cryptography package")
        return _openssl_ca_and_leaf(directory)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Studio Status test CA")
    ca_cert = _builder(ca_name, ca_name, ca_key, ca_key, expired=False, ca=True).sign(
        ca_key, hashes.SHA256()
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _builder(_name("127.0.0.1"), ca_name, leaf_key, ca_key, expired=expired, ca=False).sign(
        ca_key, hashes.SHA256()
    )
    return ca_path, _write(directory, "leaf", leaf, leaf_key)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    expired: bool,
    ca: bool,
) -> x509.CertificateBuilder:
    """Key identifiers on every certificate: Python 3.13 verifies strictly
    (``VERIFY_X509_STRICT``) and refuses a chain whose certificates lack them."""
    now = dt.datetime.now(dt.UTC)
    if expired:
        not_before, not_after = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
    else:
        not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        return builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    san = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    )
    return builder.add_extension(san, critical=False)


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> CertPair:
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return CertPair(cert_path, key_path)


def _openssl(*args: str | Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True)


_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def _openssl_self_signed(directory: Path) -> CertPair:
    pair = CertPair(directory / "self.pem", directory / "self.key")
    _openssl(
        "req", "-x509", *_EC, "-keyout", pair.key, "-out", pair.cert, "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    )  # fmt: skip
    return pair


def _openssl_ca_and_leaf(directory: Path) -> tuple[Path, CertPair]:
    ca_cert, ca_key = directory / "ca.pem", directory / "ca.key"
    _openssl(
        "req", "-x509", *_EC, "-keyout", ca_key, "-out", ca_cert, "-days", "1",
        "-subj", "/CN=Studio Status test CA",
    )  # fmt: skip
    pair = CertPair(directory / "leaf.pem", directory / "leaf.key")
    csr, ext = directory / "leaf.csr", directory / "leaf.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    _openssl("req", "-new", *_EC, "-keyout", pair.key, "-out", csr, "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
        "-out", pair.cert, "-days", "1", "-extfile", ext,
    )  # fmt: skip
    return ca_cert, pair
