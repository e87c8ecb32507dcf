"""The server certificate and the CA over their lifetime: show, renew, replace (issue 7).

``pki.ensure_pki`` creates them once; this module keeps them valid afterwards:

- **renew** issues a new server certificate (new key, same names) from the same CA, so an
  agent holding the old ``cacert.pem`` accepts it (the chain ends at the same CA);
- **renew the CA** issues a new CA certificate with the *same* key and subject: certificates
  it signed before still verify against it, and ones it signs now still verify against the
  old ``cacert.pem`` copies agents hold, until the old CA certificate itself expires;
- **replace** installs a certificate and key from elsewhere (a company CA, ACME), after
  checking that the key matches, that it is valid now and that it chains to the given CA;
  that CA is then published beside ours in ``cacert.pem`` so agents can verify either.

Files are written beside the live ones and renamed in place (a reader sees the old or the
new file, never half of one). Running servers read the pair at start: restart them.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_DAYS = 825
CA_DAYS = 3650
# A CA that replaced ours for the server certificate (``replace --ca``): published too.
EXTRA_CA = "extra-ca.pem"


class CertificateError(Exception):
    """A certificate operation refused; the message is one line for the administrator."""


@dataclass(frozen=True)
class CertificateInfo:
    """What ``ocelot certs show`` prints about one certificate."""

    role: str
    subject: str
    issuer: str
    names: tuple[str, ...]
    serial: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    sha256: str

    def days_left(self, now: datetime.datetime) -> int:
        return (self.not_after - now).days


def read_certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM file (ValueError when there is none)."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"{path}: {exc.strerror or exc}") from exc
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(f"{path}: not a PEM certificate") from exc


def _names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    values: list[str] = [str(value) for value in extension.value.get_values_for_type(x509.DNSName)]
    values += [str(value) for value in extension.value.get_values_for_type(x509.IPAddress)]
    return tuple(values)


def describe(role: str, certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        role=role,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        names=_names(certificate),
        serial=f"{certificate.serial_number:x}",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        sha256=hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )


def show(pki_dir: Path) -> list[CertificateInfo]:
    """The server certificate and the CA, as they are on disk."""
    found = []
    for role, name in (("server", "server.pem"), ("ca", "ca.pem"), ("extra ca", EXTRA_CA)):
        path = pki_dir / name
        if role == "extra ca" and not path.exists():
            continue
        try:
            found.append(describe(role, read_certificate(path)))
        except (OSError, ValueError) as exc:
            raise CertificateError(f"{path}: missing or unreadable ({exc})") from exc
    return found


def _write(path: Path, data: bytes, private: bool) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _key_pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _load_ca(pki_dir: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    try:
        certificate = read_certificate(pki_dir / "ca.pem")
        key = serialization.load_pem_private_key((pki_dir / "ca.key").read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CertificateError(f"the local CA in {pki_dir} is missing or unreadable ('ocelot init')") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or not _same_key(certificate, key):
        raise CertificateError(f"{pki_dir / 'ca.key'} does not belong to {pki_dir / 'ca.pem'}")
    return certificate, key


def _public_der(key: Any) -> bytes:
    return bytes(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _same_key(certificate: x509.Certificate, private_key: Any) -> bool:
    return _public_der(certificate.public_key()) == _public_der(private_key.public_key())


def publish_ca(pki_dir: Path, public_dir: Path) -> None:
    """``public/cacert.pem``: our CA, and the CA of a replacing certificate if there is one."""
    bundle = (pki_dir / "ca.pem").read_bytes()
    extra = pki_dir / EXTRA_CA
    if extra.exists():
        bundle = bundle.rstrip(b"\n") + b"\n" + extra.read_bytes()
    public_dir.mkdir(parents=True, exist_ok=True)
    _write(public_dir / "cacert.pem", bundle, private=False)


def renew_server(
    pki_dir: Path,
    public_dir: Path,
    names: list[str] | None = None,
    days: int = SERVER_DAYS,
    now: datetime.datetime | None = None,
) -> CertificateInfo:
    """A new server key and certificate from the local CA; names kept unless given."""
    ca_certificate, ca_key = _load_ca(pki_dir)
    moment = now or datetime.datetime.now(datetime.UTC)
    if not names:
        try:
            names = list(_names(read_certificate(pki_dir / "server.pem")))
        except (OSError, ValueError):
            names = []
    if not names:
        raise CertificateError("no names for the certificate: give them with --name")
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - datetime.timedelta(minutes=5))
        .not_valid_after(min(moment + datetime.timedelta(days=days), ca_certificate.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # Our own certificate again: a replacing CA no longer needs publishing.
    (pki_dir / EXTRA_CA).unlink(missing_ok=True)
    _write(pki_dir / "server.key", _key_pem(key), private=True)
    _write(pki_dir / "server.pem", certificate.public_bytes(serialization.Encoding.PEM), private=False)
    publish_ca(pki_dir, public_dir)
    return describe("server", certificate)


def renew_ca(
    pki_dir: Path, public_dir: Path, days: int = CA_DAYS, now: datetime.datetime | None = None
) -> CertificateInfo:
    """A new CA certificate with the same key and subject (old and new verify the same chains)."""
    old, key = _load_ca(pki_dir)
    moment = now or datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - datetime.timedelta(minutes=5))
        .not_valid_after(moment + datetime.timedelta(days=days))
    )
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    certificate = builder.sign(key, hashes.SHA256())
    _write(pki_dir / "ca.pem", certificate.public_bytes(serialization.Encoding.PEM), private=False)
    publish_ca(pki_dir, public_dir)
    return describe("ca", certificate)


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_replacement(
    chain: list[x509.Certificate],
    key: Any,
    anchors: list[x509.Certificate],
    now: datetime.datetime,
) -> None:
    """Refuse a certificate whose key differs, that is not valid now, or that does not chain."""
    if not chain:
        raise CertificateError("the certificate file holds no certificate")
    leaf = chain[0]
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise CertificateError("the key is not an RSA, EC or Ed25519 private key")
    if not _same_key(leaf, key):
        raise CertificateError("the key does not match the certificate")
    for certificate in chain:
        if certificate.not_valid_after_utc <= now:
            expired = f"{certificate.not_valid_after_utc:%Y-%m-%d}"
            raise CertificateError(f"{certificate.subject.rfc4514_string()} expired on {expired}")
        if certificate.not_valid_before_utc > now:
            raise CertificateError(
                f"{certificate.subject.rfc4514_string()} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%d}"
            )
    # Leaf, then the intermediates the file carries in order, up to one of the anchors.
    current = leaf
    for intermediate in chain[1:]:
        if any(_issued_by(current, anchor) for anchor in anchors):
            return
        if not _issued_by(current, intermediate):
            raise CertificateError(
                f"{current.subject.rfc4514_string()} is not issued by the next certificate in the file"
            )
        current = intermediate
    if not any(_issued_by(current, anchor) for anchor in anchors):
        raise CertificateError("the certificate does not chain to the given CA")


def replace_server(
    pki_dir: Path,
    public_dir: Path,
    certificate_path: Path,
    key_path: Path,
    ca_path: Path | None = None,
    now: datetime.datetime | None = None,
) -> CertificateInfo:
    """Install another server certificate (with its chain) and key, checked first."""
    moment = now or datetime.datetime.now(datetime.UTC)
    chain = read_certificates(certificate_path)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(f"{key_path}: not an unencrypted PEM private key") from exc
    anchors = read_certificates(ca_path or pki_dir / "ca.pem")
    check_replacement(chain, key, anchors, moment)
    for anchor in anchors:
        if anchor.not_valid_after_utc <= moment:
            raise CertificateError(f"the CA {anchor.subject.rfc4514_string()} has expired")
    ours = read_certificates(pki_dir / "ca.pem")[0]
    external = [anchor for anchor in anchors if anchor != ours]
    _write(pki_dir / "server.key", _key_pem(key), private=True)
    _write(
        pki_dir / "server.pem",
        b"".join(item.public_bytes(serialization.Encoding.PEM) for item in chain),
        private=False,
    )
    if external:
        pem = b"".join(item.public_bytes(serialization.Encoding.PEM) for item in external)
        _write(pki_dir / EXTRA_CA, pem, private=False)
    else:
        (pki_dir / EXTRA_CA).unlink(missing_ok=True)
    publish_ca(pki_dir, public_dir)
    return describe("server", chain[0])


# --- the console's expiry banner ------------------------------------------------------

_expiry_cache: dict[Path, tuple[float, datetime.datetime | None]] = {}


def _not_after(path: Path) -> datetime.datetime | None:
    """The expiry of ``path``, re-read only when the file changes (one stat per page)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _expiry_cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        value: datetime.datetime | None = read_certificate(path).not_valid_after_utc
    except (OSError, ValueError):
        value = None
    _expiry_cache[path] = (mtime, value)
    return value


def expiring(
    pki_dir: Path, warning_days: int, now: datetime.datetime | None = None
) -> list[tuple[str, datetime.datetime]]:
    """The certificates (``server``, ``ca``) that expire within ``warning_days``."""
    moment = now or datetime.datetime.now(datetime.UTC)
    found = []
    for role, name in (("server", "server.pem"), ("ca", "ca.pem")):
        not_after = _not_after(pki_dir / name)
        if not_after is not None and not_after - moment <= datetime.timedelta(days=warning_days):
            found.append((role, not_after))
    return found


def certificate_warnings(request: Any) -> dict[str, list[str]]:
    """Context processor: a banner for administrators when a certificate expires soon."""
    from django.conf import settings
    from django.utils.translation import gettext

    from ocelot.accounts.roles import is_administrator

    if not is_administrator(getattr(request, "user", None)):
        return {}
    config = settings.CONFIG  # type: ignore[misc]
    warnings = []
    for role, not_after in expiring(config.pki_dir, config.cert_warning_days):
        what = gettext("The server certificate") if role == "server" else gettext("The CA certificate")
        warnings.append(
            gettext("%(what)s expires on %(date)s: renew it with 'ocelot certs renew'.")
            % {"what": what, "date": f"{not_after:%Y-%m-%d %H:%M} UTC"}
        )
    return {"certificate_warnings": warnings}
