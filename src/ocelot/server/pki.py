"""The local certificate authority and the server certificate (design.md §2, protocol.md §1.6).

Agents verify the HTTPS server (info files, console) with ``cacert.pem``; it is published
in ``$OCELOT_HOME/public`` and at ``/cacert.pem``. Private keys are written mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ocelot.deployment.signing import ensure_signing_key, write_private
from ocelot.server.certificates import publish_ca


def _key_bytes(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def server_names() -> list[str]:
    """Names the server certificate covers: localhost, this host and the loopback addresses."""
    names = ["localhost", "127.0.0.1", "::1"]
    host = socket.gethostname()
    if host and host not in names:
        names.append(host)
    return names


def ensure_pki(pki_dir: Path, public_dir: Path, names: list[str] | None = None) -> bool:
    """Create the CA, the server certificate and the package signing key if missing.

    True when the CA or the certificate was created. The signing key's public half is
    published beside ``cacert.pem`` (deployment/signing.py).
    """
    ca_cert_path, ca_key_path = pki_dir / "ca.pem", pki_dir / "ca.key"
    cert_path, key_path = pki_dir / "server.pem", pki_dir / "server.key"
    created = False
    now = datetime.datetime.now(datetime.UTC)
    if not ca_cert_path.exists() or not ca_key_path.exists():
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Ocelot CA {socket.gethostname()}")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write_private(ca_key_path, _key_bytes(ca_key))
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        for stale in (cert_path, key_path):
            stale.unlink(missing_ok=True)
        created = True
    ca_key_loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key_loaded, rsa.RSAPrivateKey)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    if not cert_path.exists() or not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        alt: list[x509.GeneralName] = []
        for name in names or server_names():
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names or server_names())[0])]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key_loaded, hashes.SHA256())
        )
        write_private(key_path, _key_bytes(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        created = True
    publish_ca(pki_dir, public_dir)
    ensure_signing_key(pki_dir, public_dir)
    return created
