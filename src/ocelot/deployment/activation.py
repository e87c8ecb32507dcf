"""Activating a package: where agents fetch its info file and fragments (seeds 002 "Activate").

A location is ``host[:port]/path`` without a scheme, exactly what OCS stores in
``download_enable`` (protocol.md §8.3): agents fetch ``https://<info>/<ID>/info`` (always
HTTPS, §4.4) and ``<proto>://<fragments>/<ID>/<ID>-<n>`` with the info file's PROTO.
Before a location is recorded, :func:`check_locations` fetches the info file with
certificate and host name verification and every fragment, and compares them with what
the build published, naming each one that failed (the seeds: "Administration console
will ensure that both information file and package fragment files are available").

Deactivating deletes the activation and its assignments; the files stay, and the package
is as if just built (seeds 002). Deleting the package (catalogue.delete_package) removes
everything.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ocelot.deployment.errors import ActivationCheckError, ActivationError, storage_error
from ocelot.deployment.models import Activation, Package
from ocelot.deployment.storage import PackageStore, default_store

DOWNLOAD_PATH = "/download"
CHECK_TIMEOUT = 15.0
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$")
_PATH = re.compile(r"^[A-Za-z0-9._~%/+-]*$")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


@dataclass(frozen=True)
class Location:
    """A checked ``host[:port]/path`` (no scheme, no trailing slash)."""

    host: str
    port: int | None
    path: str

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.host}{port}{self.path}"

    def url(self, scheme: str, tail: str) -> str:
        return f"{scheme}://{self}/{tail}"


def parse_location(text: str, *, scheme: str) -> Location:
    """``host[:port]/path`` as OCS stores it; a leading ``scheme://`` of the right kind is dropped.

    ``scheme`` is the one agents use for this location (``https`` for the info file); a
    location written with another scheme is refused, since agents would not use it.
    """
    value = text.strip()
    if not value:
        raise ActivationError("A location is required (host[:port]/path).")
    if "://" in value:
        given, _, value = value.partition("://")
        if given.lower() != scheme:
            raise ActivationError(
                f"{text!r}: agents always fetch this over {scheme.upper()}; give host[:port]/path."
            )
    host_port, slash, path = value.partition("/")
    path = "/" + path.strip("/") if slash and path.strip("/") else ""
    match = _HOST.match(host_port)
    if match is None or not _PATH.match(path) or "/../" in path + "/" or "/./" in path + "/":
        raise ActivationError(f"{text!r} is not host[:port]/path.")
    host, port_text = match.group(1), match.group(2)
    port = int(port_text) if port_text else None
    if port is not None and not 0 < port < 65536:
        raise ActivationError(f"{text!r}: the port must be 1 to 65535.")
    if len(str(Location(host, port, path))) > 255:
        raise ActivationError(f"{text!r} is longer than 255 characters.")
    return Location(host, port, path)


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def location_warnings(info: Location, fragments: Location, *, fragment_scheme: str = "http") -> list[str]:
    """The seeds' warnings: loopback addresses, and ports other than the scheme's own."""
    warnings = []
    for label, location, standard in (
        ("info", info, 443),
        ("fragments", fragments, 443 if fragment_scheme == "https" else 80),
    ):
        if _is_loopback(location.host):
            warnings.append(
                f"The {label} location uses {location.host}: agents read it as their own machine "
                "(seeds: do not enter localhost, these URLs are processed by agents)."
            )
        if location.port is not None and location.port != standard:
            warnings.append(
                f"The {label} location uses port {location.port}, not the standard {standard}: "
                "agents and firewalls on the way must reach it."
            )
    return warnings


def _bind_location(bind: str, standard: int) -> str:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a bind address, read not bound
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    suffix = "" if port == str(standard) else f":{port}"
    return f"{host}{suffix}{DOWNLOAD_PATH}"


def default_locations(protocol: str = "http") -> tuple[str, str]:
    """This server: its HTTPS listener for info files; for fragments its fragment listener
    (sendfile, communication/fragment_listener.py) when it is on, else its HTTP listener;
    the HTTPS listener for the fragments of a package with fragment protocol HTTPS (the
    other two speak plain HTTP only)."""
    config = settings.CONFIG
    info = _bind_location(config.https_bind, 443)
    if protocol.lower() == "https":
        return info, info
    return info, _bind_location(config.fragments_bind or config.http_bind, 80)


# ---------------------------------------------------------------- the check


def tls_context() -> ssl.SSLContext:
    """Certificate and host name verification on, trusting the system store and this server's CA."""
    context = ssl.create_default_context()
    ca = Path(settings.CONFIG.pki_dir) / "ca.pem"
    if ca.exists():
        context.load_verify_locations(cafile=str(ca))
    return context


@dataclass
class _Client:
    """One kept-alive connection per location while checking (a package may have 10,000 fragments)."""

    scheme: str
    location: Location
    context: ssl.SSLContext | None
    connection: http.client.HTTPConnection | None = field(default=None)

    def _connect(self) -> http.client.HTTPConnection:
        host = self.location.host.strip("[]")
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                host, self.location.port or 443, timeout=CHECK_TIMEOUT, context=self.context
            )
        return http.client.HTTPConnection(host, self.location.port or 80, timeout=CHECK_TIMEOUT)

    def get(self, tail: str) -> bytes:
        """The body of a 200 answer; OSError or ValueError otherwise."""
        for attempt in range(2):
            if self.connection is None:
                self.connection = self._connect()
            try:
                self.connection.request("GET", f"{self.location.path}/{tail}")
                response = self.connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return body
        raise OSError("no answer")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc)


def check_locations(
    package: Package, info: Location, fragments: Location, *, store: PackageStore | None = None
) -> list[str]:
    """Fetch the info file and every fragment where agents will; what failed (empty when all answer).

    The info file must be byte for byte the published one; each fragment must have the
    size and SHA-256 recorded at build time.
    """
    store = store or default_store()
    failures: list[str] = []
    pid = package.package_id
    try:
        published = (store.package_dir(pid) / "info").read_bytes()
    except OSError as exc:
        raise storage_error(f"The published info file of package {pid} cannot be read", exc) from exc
    info_client = _Client("https", info, tls_context())
    try:
        if info_client.get(f"{pid}/info") != published:
            failures.append(f"{info.url('https', f'{pid}/info')}: not the published info file")
    except (OSError, ValueError, http.client.HTTPException) as exc:
        failures.append(f"{info.url('https', f'{pid}/info')}: {_reason(exc)}")
    finally:
        info_client.close()
    scheme = package.protocol.lower()
    fragment_client = _Client(scheme, fragments, tls_context() if scheme == "https" else None)
    try:
        for number, expected in enumerate(package.fragments, start=1):
            tail = f"{pid}/{pid}-{number}"
            try:
                body = fragment_client.get(tail)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                failures.append(f"{fragments.url(scheme, tail)}: {_reason(exc)}")
                if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and number == 1:
                    # Nothing listens there: every other fragment would say the same.
                    remaining = len(package.fragments) - 1
                    if remaining:
                        failures.append(f"{remaining} more fragments not tried")
                    break
                continue
            if len(body) != expected["size"] or hashlib.sha256(body).hexdigest() != expected["sha256"]:
                failures.append(f"{fragments.url(scheme, tail)}: different bytes (size or SHA-256)")
    finally:
        fragment_client.close()
    return failures


# ---------------------------------------------------------------- activate, deactivate


@dataclass(frozen=True)
class ActivationResult:
    """The activation recorded and the warnings the administrator should read."""

    activation: Activation
    warnings: list[str]


def activate(
    package: Package,
    info_location: str | None = None,
    fragment_location: str | None = None,
    *,
    check: bool = True,
    store: PackageStore | None = None,
) -> ActivationResult:
    """Record where agents fetch ``package``; this server's listeners by default.

    With ``check`` (the default) the files must answer first (ActivationCheckError names
    each failure, and nothing is recorded). Activating the same locations twice is refused.
    """
    scheme = package.protocol.lower()
    default_info, default_fragments = default_locations(scheme)
    info = parse_location(info_location or default_info, scheme="https")
    fragments = parse_location(fragment_location or default_fragments, scheme=scheme)
    warnings = location_warnings(info, fragments, fragment_scheme=scheme)
    if check:
        failures = check_locations(package, info, fragments, store=store)
        if failures:
            raise ActivationCheckError(failures)
    try:
        with transaction.atomic():
            activation = Activation.objects.create(
                package=package,
                info_location=str(info),
                fragment_location=str(fragments),
                activated_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise ActivationError(
            f"Package {package.package_id} is already activated at {info} / {fragments}."
        ) from exc
    return ActivationResult(activation, warnings)


def activations(package: Package | None = None) -> list[Activation]:
    """The activations of one package, or of every package, oldest first."""
    query = Activation.objects.select_related("package").order_by("id")
    return list(query.filter(package=package) if package is not None else query)


def find_activation(package: Package, activation_id: int | None = None) -> Activation:
    """The package's activation ``activation_id``, or its only one."""
    found = activations(package)
    if activation_id is not None:
        found = [activation for activation in found if activation.pk == activation_id]
        if not found:
            raise ActivationError(f"Package {package.package_id} has no activation {activation_id}.")
        return found[0]
    if not found:
        raise ActivationError(f"Package {package.package_id} is not activated.")
    if len(found) > 1:
        ids = ", ".join(str(activation.pk) for activation in found)
        raise ActivationError(f"Package {package.package_id} has several activations ({ids}); say which one.")
    return found[0]


def deactivate(activation: Activation) -> int:
    """Delete the activation and its assignments; the files stay. The number of assignments removed."""
    with transaction.atomic():
        removed = activation.assignments.count()
        activation.delete()
    return removed
