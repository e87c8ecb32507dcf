"""/download/<ID>/info over HTTPS only, fragments over HTTP, with Range and If-Modified-Since.

Every test runs three times: through Django's test client (the views), straight into the
WSGI application (gunicorn's door: fragments answered in front of Django,
communication.wsgi), and into the RSGI front granian runs (fragments answered by
communication.rsgi, their bytes read from the path Rust is handed, everything else on to
the WSGI application): all doors must answer alike. tests/communication/test_rsgi.py asks
the same of a real server.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.http import http_date

from ocelot.deployment.models import Package
from ocelot.deployment.storage import default_store
from tests.deployment.web import build_launch

pytestmark = pytest.mark.django_db


@dataclasses.dataclass
class WsgiResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    streaming: bool = False

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]


class WsgiClient:
    """The calls these tests make, straight into ``ocelot.server.wsgi.application``."""

    def request(
        self, method: str, url: str, *, secure: bool = False, headers: dict[str, str] | None = None
    ) -> Any:
        from ocelot.server.wsgi import application

        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": url,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8443" if secure else "8080",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "https" if secure else "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(),
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: list[Any] = []
        chunks = application(
            environ, lambda status, response_headers, *_: started.extend([status, response_headers])
        )
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        status, response_headers = started
        return WsgiResponse(int(status.split()[0]), {k.lower(): v for k, v in response_headers}, content)

    def get(self, url: str, **options: Any) -> Any:
        return self.request("GET", url, **options)

    def head(self, url: str, **options: Any) -> Any:
        return self.request("HEAD", url, **options)

    def post(self, url: str, **options: Any) -> Any:
        return self.request("POST", url, **options)


class FakeScope:
    """What granian's RSGI scope offers the fragment sender: method, path, headers."""

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        self.headers = {name.lower(): value for name, value in headers.items()}


class RecordingProtocol:
    """granian's RSGI protocol object: keeps the answer, reads files as Rust does (2.8.7:
    ``response_file_range`` sends bytes ``start`` to ``end`` excluded)."""

    response: WsgiResponse | None = None

    def _keep(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.response = WsgiResponse(status, {k.lower(): v for k, v in headers}, content)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._keep(status, headers, b"")

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._keep(status, headers, body)

    def response_file(self, status: int, headers: list[tuple[str, str]], file: str) -> None:
        self._keep(status, headers, Path(file).read_bytes())

    def response_file_range(
        self, status: int, headers: list[tuple[str, str]], file: str, start: int, end: int
    ) -> None:
        self._keep(status, headers, Path(file).read_bytes()[start:end])


class RsgiClient(WsgiClient):
    """The calls these tests make, into the fragment sender of ``ocelot.server.rsgi``."""

    def request(
        self, method: str, url: str, *, secure: bool = False, headers: dict[str, str] | None = None
    ) -> Any:
        from ocelot.communication.rsgi import FragmentSender

        sender = FragmentSender()
        protocol = RecordingProtocol()
        try:
            if not sender.answer(FakeScope(method, url, headers or {}), protocol):
                return super().request(method, url, secure=secure, headers=headers)
        finally:
            sender.files.close()
        return protocol.response


@pytest.fixture(params=["django", "wsgi", "rsgi"])
def client(request: pytest.FixtureRequest) -> Any:
    return {"django": Client, "wsgi": WsgiClient, "rsgi": RsgiClient}[request.param]()


@pytest.fixture
def package(settings: Any, tmp_path: Path) -> Package:
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    return build_launch(fragments=3)


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def fragment_path(package: Package, number: int) -> Path:
    return default_store().package_dir(package.package_id) / f"{package.package_id}-{number}"


def test_the_info_file_is_served_over_https_and_refused_over_http(client: Client, package: Package) -> None:
    url = f"/download/{package.package_id}/info"
    served = client.get(url, secure=True)
    assert served.status_code == 200
    assert body(served) == (default_store().package_dir(package.package_id) / "info").read_bytes()
    assert served["Content-Type"] == "application/xml"
    refused = client.get(url)
    assert refused.status_code == 403
    assert b"HTTPS only" in refused.content


def test_a_fragment_is_served_whole_over_http_and_https(client: Client, package: Package) -> None:
    expected = fragment_path(package, 2).read_bytes()
    for secure in (False, True):
        response = client.get(f"/download/{package.package_id}/{package.package_id}-2", secure=secure)
        assert response.status_code == 200
        assert body(response) == expected
        assert response["Content-Length"] == str(len(expected))
        assert response["Accept-Ranges"] == "bytes"
        assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-50", -50, None),
        ("bytes=10-999999", 10, None),
    ],
)
def test_a_range_request_answers_206_with_those_bytes(
    client: Client, package: Package, header: str, first: int, last: int | None
) -> None:
    data = fragment_path(package, 1).read_bytes()
    size = len(data)
    start = first if first >= 0 else size + first
    end = last if last is not None else size - 1
    response = client.get(f"/download/{package.package_id}/{package.package_id}-1", headers={"Range": header})
    assert response.status_code == 206
    assert body(response) == data[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)


def test_an_unsatisfiable_range_answers_416_and_several_ranges_the_whole_file(
    client: Client, package: Package
) -> None:
    url = f"/download/{package.package_id}/{package.package_id}-1"
    size = fragment_path(package, 1).stat().st_size
    refused = client.get(url, headers={"Range": f"bytes={size}-"})
    assert refused.status_code == 416
    assert refused["Content-Range"] == f"bytes */{size}"
    whole = client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert whole.status_code == 200 and len(body(whole)) == size


def test_if_modified_since_answers_304_and_a_stale_if_range_the_whole_file(
    client: Client, package: Package
) -> None:
    url = f"/download/{package.package_id}/{package.package_id}-1"
    path = fragment_path(package, 1)
    modified = int(path.stat().st_mtime)
    assert client.get(url, headers={"If-Modified-Since": http_date(modified)}).status_code == 304
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": http_date(modified - 60)})
    assert stale.status_code == 200 and len(body(stale)) == path.stat().st_size


def test_a_head_request_says_the_size_without_a_body(client: Client, package: Package) -> None:
    response = client.head(f"/download/{package.package_id}/{package.package_id}-3")
    assert response.status_code == 200
    assert response["Content-Length"] == str(fragment_path(package, 3).stat().st_size)
    assert response.content == b""


@pytest.mark.parametrize(
    "tail",
    [
        "{pid}/{pid}-4",  # no such fragment
        "{pid}/{pid}-0",
        "{pid}/{pid}-01",
        "{pid}/1-1",  # another package's name inside this directory
        "{pid}/../{pid}/info",
        "{pid}/%2e%2e/{pid}/info",
        "{pid}/",
        "{pid}",
        "..%2fsecret",
        "{pid}/link-1",
    ],
)
def test_nothing_but_info_and_fragments_of_that_package_is_served(
    client: Client, package: Package, tail: str
) -> None:
    url = "/download/" + tail.format(pid=package.package_id)
    assert client.get(url, secure=True).status_code in (403, 404)


def test_a_symbolic_link_in_the_tree_is_not_followed(
    client: Client, package: Package, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    path = fragment_path(package, 3)
    path.unlink()
    os.symlink(secret, path)
    assert client.get(f"/download/{package.package_id}/{package.package_id}-3").status_code == 404


def test_only_get_and_head_are_allowed(client: Client, package: Package) -> None:
    assert client.post(f"/download/{package.package_id}/{package.package_id}-1").status_code == 405
