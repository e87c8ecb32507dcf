"""A package site for the engine's tests: real HTTP and HTTPS servers on loopback.

One :class:`Site` serves the info files over HTTPS (a CA of the test's own, as an Ocelot
server's), the fragments over HTTP, and takes the agent's ``QUERY=DOWNLOAD`` POSTs on
``/ocsinventory``, answering as OCS does (200, empty body). Packages are built as the
server builds them: tar.gz cut into fragments, the info file written by
``ocelot.protocol.info_file`` and signed with an Ed25519 key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from ocelot.protocol.info_file import (
    FragmentDigest,
    InfoFile,
    attach_signature,
    ocs_info_file,
    unsigned_info_file,
)
from ocelot.protocol.xmltree import Node, parse_xml, to_document


@dataclass(frozen=True)
class Pki:
    """A CA, a certificate for 127.0.0.1 signed by it, and a package signing key."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    signing_key: Ed25519PrivateKey
    public_key_pem: bytes


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test package CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "cacert.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signing = Ed25519PrivateKey.generate()
    public = signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Published beside cacert.pem, as an Ocelot server publishes them (deployment/signing.py).
    (directory / "package-signing.pem").write_bytes(public)
    return Pki(directory / "cacert.pem", directory / "server.pem", directory / "server.key", signing, public)


@dataclass
class Package:
    """A built package: its id, info file bytes and fragments."""

    package_id: str
    info: bytes
    fragments: list[bytes]


def split(archive: bytes, count: int) -> list[bytes]:
    """Fragments as OCS cuts them: count-1 parts of size//count, the last takes the rest (§8.1)."""
    if count == 0:
        return []
    size = len(archive) // count
    return [archive[i * size : (i + 1) * size] for i in range(count - 1)] + [archive[(count - 1) * size :]]


def build(
    package_id: str,
    archive: bytes,
    *,
    action: str = "EXECUTE",
    argument: str = "sh install.sh",
    priority: int = 5,
    fragments: int = 1,
    signer: Ed25519PrivateKey | None = None,
    ocs: bool = False,
) -> Package:
    """A package as an Ocelot server builds it (signed when ``signer``), or as ocsreports does (``ocs``)."""
    parts = split(archive, fragments)
    info = InfoFile(
        package_id=int(package_id),
        priority=priority,
        action=action,
        md5=hashlib.md5(archive).hexdigest() if parts else "",
        protocol="HTTP",
        fragment_count=len(parts),
        argument=argument,
        size=len(archive) if parts else 0,
        sha256=hashlib.sha256(archive).hexdigest() if parts else "",
        fragments=tuple(FragmentDigest(len(p), hashlib.sha256(p).hexdigest()) for p in parts),
        key_id="test",
    )
    if ocs:
        data = ocs_info_file(info)
    else:
        data = unsigned_info_file(info)
        if signer is not None:
            data = attach_signature(data, signer.sign(data))
    return Package(package_id, data, parts)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class Site:
    """Files by URL path, what was asked, the results received, and misbehaviours to script."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    results: list[tuple[str, str]] = field(default_factory=list)
    result_status: list[int] = field(default_factory=list)  # statuses to answer first, then 200
    delay: float = 0.0  # seconds before each fragment is served
    without_length: bool = False  # fragments sent without Content-Length, ended by closing
    ranges: list[str] = field(default_factory=list)  # the Range headers received
    honour_ranges: bool = True  # False: answer range requests with the whole file (200)
    prolog: bytes | None = None  # the PROLOG reply, for runs of the whole agent
    info_host: str = ""
    pack_host: str = ""
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, package: Package) -> None:
        self.files[f"/download/{package.package_id}/info"] = package.info
        for number, part in enumerate(package.fragments, start=1):
            self.files[f"/download/{package.package_id}/{package.package_id}-{number}"] = part

    def fragment_requests(self) -> list[str]:
        return [path.rsplit("/", 1)[1] for path in self.requests if not path.endswith("/info")]

    def pack_param(self, package_id: str, **extra: str) -> Node:
        return Node(
            "PARAM",
            attrib={
                "TYPE": "PACK",
                "ID": package_id,
                "INFO_LOC": f"{self.info_host}/download",
                "PACK_LOC": f"{self.pack_host}/download",
                "CERT_PATH": "INSTALL_PATH",
                "CERT_FILE": "INSTALL_PATH/cacert.pem",
                **extra,
            },
        )


def download_option(*packs: Node, **conf: str) -> Node:
    """OPTION DOWNLOAD as an OCS server sends it: CONF first, then one PACK per package."""
    values = {
        "ON": "1",
        "FRAG_LATENCY": "0",
        "CYCLE_LATENCY": "0",
        "PERIOD_LATENCY": "0",
        "PERIOD_LENGTH": "10",
        "TIMEOUT": "30",
        "EXECUTION_TIMEOUT": "120",
    }
    values.update(conf)
    return Node(
        "OPTION",
        children=[Node("NAME", text="DOWNLOAD"), Node("PARAM", attrib={"TYPE": "CONF", **values}), *packs],
    )


def prolog_reply(option: Node, response: str = "STOP") -> bytes:
    return to_document(Node("REPLY", children=[Node("RESPONSE", text=response), option]))


@contextmanager
def serving(site: Site, pki: Pki) -> Iterator[Site]:
    """The site on two servers: HTTPS (info files) and HTTP (fragments and /ocsinventory)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with site.lock:
                site.requests.append(self.path)
            body = site.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if site.delay and not self.path.endswith("/info"):
                time.sleep(site.delay)
            asked = self.headers.get("Range")
            if asked is not None:
                with site.lock:
                    site.ranges.append(asked)
            if (
                asked is not None
                and site.honour_ranges
                and asked.startswith("bytes=")
                and asked.endswith("-")
            ):
                start = int(asked[len("bytes=") : -1])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                body = body[start:]
            else:
                self.send_response(200)
            if site.without_length and not self.path.endswith("/info"):
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            document = parse_xml(zlib.decompress(raw))
            query = document.value("QUERY")
            answer = b""
            status = 200
            with site.lock:
                if query == "DOWNLOAD":
                    status = site.result_status.pop(0) if site.result_status else 200
                    if status == 200:
                        site.results.append((document.value("ID") or "", document.value("ERR") or ""))
                elif query == "PROLOG" and site.prolog is not None:
                    answer = zlib.compress(site.prolog)
                else:
                    status = 400
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.cert_file), str(pki.key_file))
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    threads = [threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in (plain, secure)]
    for thread in threads:
        thread.start()
    site.pack_host = f"127.0.0.1:{plain.server_address[1]}"
    site.info_host = f"127.0.0.1:{secure.server_address[1]}"
    site.url = f"http://{site.pack_host}/ocsinventory"
    try:
        yield site
    finally:
        for server in (plain, secure):
            server.shutdown()
            server.server_close()


@contextmanager
def dropping_proxy(target: str, *, drops: int, after: int) -> Iterator[str]:
    """A TCP proxy to ``target`` that cuts its first ``drops`` connections after ``after`` bytes of reply."""
    host, port = target.split(":")
    listener = socket.create_server(("127.0.0.1", 0))
    state = {"count": 0}
    stop = threading.Event()

    def handle(client: socket.socket) -> None:
        with state_lock:
            state["count"] += 1
            cut = state["count"] <= drops
        upstream = socket.create_connection((host, int(port)))
        try:
            request = client.recv(65536)
            upstream.sendall(request)
            sent = 0
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if cut and sent + len(data) > after:
                    client.sendall(data[: max(after - sent, 0)])
                    break
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            upstream.close()
            client.close()

    state_lock = threading.Lock()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
