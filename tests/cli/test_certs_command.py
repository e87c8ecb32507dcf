"""``ocelot certs show|renew|replace``, run as an administrator runs them.

Trust is checked with real TLS handshakes: a server thread presents the certificate on
disk and a client verifies it with the ``cacert.pem`` agents were given *before* the
change, hostname included, exactly as Python's ``ssl`` (and the agents' OpenSSL) do.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import shutil
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocelot.cli.main import main
from ocelot.server.certificates import read_certificate
from ocelot.server.pki import ensure_pki
from tests.server_process import run_ocelot


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA and server certificate per module (RSA key generation takes a while)."""
    home = tmp_path_factory.mktemp("certs") / "home"
    ensure_pki(home / "pki", home / "public", names=["localhost", "127.0.0.1"])
    return home


@pytest.fixture
def home(initialised: Path, tmp_path: Path) -> Path:
    """A fresh copy of the initialised home for each test."""
    copy = tmp_path / "home"
    shutil.copytree(initialised, copy)
    return copy


def certs(home: Path, *args: str) -> tuple[int, str, str]:
    """``ocelot certs ...`` through the command's own entry point, in this process (fast)."""
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("OCELOT_HOME")
    os.environ["OCELOT_HOME"] = str(home)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["certs", *args])
    finally:
        if saved is None:
            del os.environ["OCELOT_HOME"]
        else:
            os.environ["OCELOT_HOME"] = saved
    return code, out.getvalue(), err.getvalue()


def test_the_ocelot_command_runs_it(home):
    done = run_ocelot(home, None, "certs", "show", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "server:" in done.stdout and "ca:" in done.stdout
    bad = run_ocelot(home, None, "certs", "replace", "--cert", "/nonexistent", "--key", "/nonexistent")
    assert bad.returncode == 1
    assert bad.stderr == "ocelot certs: /nonexistent: No such file or directory\n"


def handshake(home: Path, cafile: Path, hostname: str = "localhost") -> dict[str, object]:
    """Serve ``pki/server.pem`` once on loopback; verify it with ``cafile``; the peer cert."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(home / "pki" / "server.pem", home / "pki" / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(cafile))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname=hostname) as tls,
        ):
            peer = tls.getpeercert()
            tls.sendall(b"x")
    finally:
        thread.join(10)
        listener.close()
    assert peer is not None
    return dict(peer)


def test_show_prints_subject_names_and_expiry_of_the_server_certificate_and_the_ca(home):
    code, out, err = certs(home, "show")
    assert code == 0, err
    assert "server:" in out and "ca:" in out
    assert "names:      localhost, 127.0.0.1" in out
    expiry = read_certificate(home / "pki" / "server.pem").not_valid_after_utc
    assert f"expires:    {expiry:%Y-%m-%d %H:%M:%S} UTC" in out
    code, out, err = certs(home, "show", "--json")
    shown = {item["role"]: item for item in json.loads(out)}
    assert shown["ca"]["subject"].startswith("CN=Ocelot CA")
    assert shown["server"]["issuer"] == shown["ca"]["subject"]


def test_a_renewed_server_certificate_is_accepted_with_the_cacert_agents_already_have(home, tmp_path):
    agents_cacert = tmp_path / "agents-cacert.pem"
    agents_cacert.write_bytes((home / "public" / "cacert.pem").read_bytes())
    before = read_certificate(home / "pki" / "server.pem")
    old_key = (home / "pki" / "server.key").read_bytes()

    code, out, err = certs(home, "renew")
    assert code == 0, err
    assert "restart" in out
    after = read_certificate(home / "pki" / "server.pem")
    assert after.serial_number != before.serial_number
    assert (home / "pki" / "server.key").read_bytes() != old_key
    assert (home / "pki" / "server.key").stat().st_mode & 0o077 == 0
    assert after.not_valid_after_utc > before.not_valid_after_utc - datetime.timedelta(minutes=1)
    assert (home / "public" / "cacert.pem").read_bytes() == agents_cacert.read_bytes()
    peer = handshake(home, agents_cacert, "localhost")
    assert peer["serialNumber"] == f"{after.serial_number:X}".rjust(len(str(peer["serialNumber"])), "0")


def test_renew_with_names_covers_the_new_names(home, tmp_path):
    code, _out, err = certs(home, "renew", "--name", "ocelot.example.org", "--name", "192.0.2.5")
    assert code == 0, err
    handshake(home, home / "public" / "cacert.pem", "ocelot.example.org")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(home, home / "public" / "cacert.pem", "localhost")


def test_a_renewed_ca_keeps_its_key_so_old_and_new_copies_verify_the_same_certificates(home, tmp_path):
    old_cacert = tmp_path / "old-cacert.pem"
    old_cacert.write_bytes((home / "public" / "cacert.pem").read_bytes())
    ca_key = (home / "pki" / "ca.key").read_bytes()

    code, _out, err = certs(home, "renew", "--ca")
    assert code == 0, err
    assert (home / "pki" / "ca.key").read_bytes() == ca_key
    new_cacert = home / "public" / "cacert.pem"
    assert new_cacert.read_bytes() != old_cacert.read_bytes()
    handshake(home, new_cacert)  # a certificate issued before the renewal, new CA copy
    assert certs(home, "renew")[0] == 0
    handshake(home, old_cacert)  # one issued after, old CA copy


Authority = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def replace(home: Path, cert_path: Path, key_path: Path, ca_path: Path | None = None) -> tuple[int, str, str]:
    extra = ("--ca", str(ca_path)) if ca_path else ()
    return certs(home, "replace", "--cert", str(cert_path), "--key", str(key_path), *extra)


def external_ca(tmp_path: Path, name: str = "Example Corp CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def issued(
    ca: Authority,
    tmp_path: Path,
    *,
    days: int = 90,
    start_days_ago: int = 1,
) -> tuple[Path, Path]:
    ca_certificate, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=start_days_ago))
        .not_valid_after(now - datetime.timedelta(days=start_days_ago) + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"cert-{certificate.serial_number}.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def write_ca(ca: Authority, path: Path) -> Path:
    path.write_bytes(ca[0].public_bytes(serialization.Encoding.PEM))
    return path


def snapshot(home: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((home / "pki").glob("*.pem"))} | {
        "cacert": (home / "public" / "cacert.pem").read_bytes()
    }


def test_replace_installs_a_certificate_from_another_ca_and_publishes_that_ca_too(home, tmp_path):
    ca = external_ca(tmp_path)
    cert_path, key_path = issued(ca, tmp_path)
    ca_path = write_ca(ca, tmp_path / "corp-ca.pem")
    code, _out, err = replace(home, cert_path, key_path, ca_path)
    assert code == 0, err
    assert (home / "pki" / "server.pem").read_bytes() == cert_path.read_bytes()
    published = (home / "public" / "cacert.pem").read_bytes()
    assert ca_path.read_bytes() in published
    assert (home / "pki" / "ca.pem").read_bytes().strip() in published  # ours stays
    handshake(home, ca_path)
    handshake(home, home / "public" / "cacert.pem")


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("other key", "the key does not match the certificate"),
        ("expired", "expired on"),
        ("not yet valid", "is not valid before"),
        ("other ca", "does not chain to the given CA"),
    ],
)
def test_replace_refuses_a_bad_certificate_and_changes_nothing(home, tmp_path, problem, message):
    ca = external_ca(tmp_path)
    ca_path = write_ca(ca, tmp_path / "corp-ca.pem")
    cert_path, key_path = issued(ca, tmp_path)
    if problem == "other key":
        (tmp_path / "other").mkdir()
        _other_cert, key_path = issued(ca, tmp_path / "other")
    elif problem == "expired":
        cert_path, key_path = issued(ca, tmp_path, days=10, start_days_ago=20)
    elif problem == "not yet valid":
        cert_path, key_path = issued(ca, tmp_path, start_days_ago=-5)
    else:
        ca_path = write_ca(external_ca(tmp_path, "Somebody Else CA"), tmp_path / "other-ca.pem")
    before = snapshot(home)
    code, _out, err = replace(home, cert_path, key_path, ca_path)
    assert code == 1
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(home) == before


def test_replace_without_ca_checks_against_the_local_ca(home, tmp_path):
    cert_path, key_path = issued(external_ca(tmp_path), tmp_path)
    code, _out, err = replace(home, cert_path, key_path)
    assert code == 1
    assert "does not chain to the given CA" in err


def test_renew_after_replace_goes_back_to_the_local_ca(home, tmp_path):
    ca = external_ca(tmp_path)
    cert_path, key_path = issued(ca, tmp_path)
    ca_path = write_ca(ca, tmp_path / "corp-ca.pem")
    assert replace(home, cert_path, key_path, ca_path)[0] == 0
    code, _out, err = certs(home, "renew")
    assert code == 0, err
    assert (home / "public" / "cacert.pem").read_bytes() == (home / "pki" / "ca.pem").read_bytes()
    handshake(home, home / "pki" / "ca.pem")
