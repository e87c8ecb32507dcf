"""The HTTP listener of a real ``ocelot server``: fragments sent by granian from Rust,
everything else through the WSGI application, as agents and administrators meet them.

One server (its own home and SQLite database) and one 3-fragment package for the module;
every request goes over a socket to the running listener, so these tests see exactly what
granian sends: the status line, the headers, the bytes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import ssl
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils.http import http_date

from tests.deployment.archives import tar_gz
from tests.server_process import OcelotServer, run_ocelot, start_server

pytestmark = pytest.mark.server

UNIX_AGENT = "OCS-NG_unified_unix_agent_v2.10.0"
PROLOG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n'
    b"  <DEVICEID>rsgi-host-2026-01-02-03-04-05</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n</REQUEST>\n"
)


class Package:
    def __init__(self, server: OcelotServer, record: dict[str, object]) -> None:
        self.id = int(str(record["id"]))
        self.directory = server.home / "packages" / "download" / str(self.id)

    def url(self, number: int) -> str:
        return f"/download/{self.id}/{self.id}-{number}"

    def file(self, number: int) -> Path:
        return self.directory / f"{self.id}-{number}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OcelotServer]:
    running = start_server(tmp_path_factory.mktemp("rsgi-server"), None)
    try:
        yield running
    finally:
        code = running.stop()
    assert code == 0, running.output()


@pytest.fixture(scope="module")
def package(server: OcelotServer, tmp_path_factory: pytest.TempPathFactory) -> Package:
    archive = tmp_path_factory.mktemp("archive") / "package.tar.gz"
    archive.write_bytes(tar_gz(("run.sh", b"#!/bin/sh\nexit 0\n"), ("data.bin", os.urandom(200_000))))
    done = run_ocelot(
        server.home, None, "package", "build", "--name", "rsgi", "--os", "linux", "--action", "LAUNCH",
        "--command", "run.sh", "--file", str(archive), "--fragments", "3", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Package(server, json.loads(done.stdout))


def request(
    server: OcelotServer,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def get(server: OcelotServer, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return request(server, "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_a_fragment_goes_out_whole_with_the_headers_of_downloads_py(
    server: OcelotServer, package: Package
) -> None:
    status, headers, content = get(server, package.url(1))
    expected = package.file(1).read_bytes()
    assert (status, content) == (200, expected)
    assert headers["content-length"] == str(len(expected))
    assert headers["content-type"] == "application/octet-stream"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["last-modified"] == http_date(int(package.file(1).stat().st_mtime))


@pytest.mark.parametrize(
    ("wanted", "first", "last"),
    [("bytes=10-19", 10, 19), ("bytes=-5", None, None), ("bytes=100-", 100, None), ("bytes=0-0", 0, 0)],
)
def test_one_range_answers_206_with_exactly_those_bytes(
    server: OcelotServer, package: Package, wanted: str, first: int | None, last: int | None
) -> None:
    whole = package.file(2).read_bytes()
    size = len(whole)
    start = size - 5 if first is None else first
    end = size - 1 if last is None else last
    status, headers, content = get(server, package.url(2), Range=wanted)
    assert status == 206
    assert content == whole[start : end + 1]
    assert headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert headers["content-length"] == str(end - start + 1)


def test_an_unsatisfiable_range_is_416_and_several_ranges_get_the_whole_file(
    server: OcelotServer, package: Package
) -> None:
    size = package.file(1).stat().st_size
    status, headers, _ = get(server, package.url(1), Range=f"bytes={size}-")
    assert (status, headers["content-range"]) == (416, f"bytes */{size}")
    status, _, content = get(server, package.url(1), Range="bytes=0-1,5-6")
    assert (status, content) == (200, package.file(1).read_bytes())


def test_if_range_keeps_the_range_only_while_the_file_is_unchanged(
    server: OcelotServer, package: Package
) -> None:
    modified = int(package.file(3).stat().st_mtime)
    assert get(server, package.url(3), Range="bytes=0-9", If_Range=http_date(modified))[0] == 206
    status, _, content = get(server, package.url(3), Range="bytes=0-9", If_Range=http_date(modified - 60))
    assert (status, content) == (200, package.file(3).read_bytes())


def test_head_says_the_size_without_a_body(server: OcelotServer, package: Package) -> None:
    status, headers, content = request(server, "HEAD", package.url(3))
    assert (status, content) == (200, b"")
    assert headers["content-length"] == str(package.file(3).stat().st_size)


def test_if_modified_since_answers_304_until_the_file_changes(server: OcelotServer, package: Package) -> None:
    modified = int(package.file(1).stat().st_mtime)
    status, headers, content = get(server, package.url(1), If_Modified_Since=http_date(modified))
    assert (status, content) == (304, b"")
    assert headers["last-modified"] == http_date(modified)
    assert get(server, package.url(1), If_Modified_Since=http_date(modified - 60))[0] == 200


def test_only_get_and_head_are_allowed(server: OcelotServer, package: Package) -> None:
    status, headers, content = request(server, "POST", package.url(1), body=b"x")
    assert (status, headers["allow"], content) == (405, "GET, HEAD", b"only GET and HEAD\n")


def test_the_info_file_is_refused_over_http_and_served_over_https_with_the_fragments(
    server: OcelotServer, package: Package
) -> None:
    status, _, content = get(server, f"/download/{package.id}/info")
    assert status == 403
    assert b"HTTPS only" in content
    connection = http.client.HTTPSConnection(
        "127.0.0.1",
        server.https_port,
        timeout=30,
        context=ssl.create_default_context(cafile=str(server.cacert)),
    )
    try:
        connection.request("GET", f"/download/{package.id}/info")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, (package.directory / "info").read_bytes())
        # Fragments over TLS too (packages built with fragment protocol HTTPS), a range included.
        connection.request("GET", package.url(2), headers={"Range": "bytes=3-7"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (206, package.file(2).read_bytes()[3:8])
    finally:
        connection.close()


def test_a_missing_fragment_or_another_name_is_404(server: OcelotServer, package: Package) -> None:
    assert get(server, package.url(4))[0] == 404
    assert get(server, f"/download/{package.id}/1-1")[0] == 404
    assert get(server, f"/download/{package.id}/{package.id}-01")[0] == 404
    assert get(server, f"/download/{package.id}/%2e%2e/{package.id}/info")[0] in (403, 404)


def test_a_symbolic_link_is_never_followed_even_for_a_fragment_served_before(
    server: OcelotServer, package: Package, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for agents")
    fragment = package.file(2)
    kept = tmp_path / "kept"
    assert get(server, package.url(2))[0] == 200  # the worker holds it open now
    fragment.rename(kept)
    fragment.symlink_to(secret)
    try:
        status, _, content = get(server, package.url(2))
        assert (status, content) == (404, b"no such package file\n")
    finally:
        fragment.unlink()
        kept.rename(fragment)
    assert get(server, package.url(2))[2] == fragment.read_bytes()


def test_a_fragment_replaced_on_disk_is_served_anew(server: OcelotServer, package: Package) -> None:
    fragment = package.file(3)
    original = fragment.read_bytes()
    assert get(server, package.url(3))[2] == original
    replacement = fragment.with_name("replacement")
    replacement.write_bytes(b"tampered after activation")
    replacement.replace(fragment)  # a new file under the same name, as a copy tool does
    try:
        assert get(server, package.url(3))[2] == b"tampered after activation"
    finally:
        fragment.write_bytes(original)


def test_every_other_path_reaches_the_wsgi_application(server: OcelotServer, package: Package) -> None:
    status, headers, _ = get(server, "/console/")
    assert (status, headers["location"]) == (301, f"https://127.0.0.1:{server.https_port}/console/")
    assert get(server, "/healthz")[0] == 200
    assert get(server, f"/download/{package.id}/")[0] == 404
    status, _, content = get(server, "/ocsinventory/deploy/label")
    assert (status, content) == (404, b"no such agent file\n")  # Django's view (communication/views.py)


def test_an_agent_gets_its_prolog_answered_with_a_fixed_or_a_chunked_body(server: OcelotServer) -> None:
    headers = {"User-Agent": UNIX_AGENT, "Content-Type": "application/x-compress"}
    status, _, content = request(server, "POST", "/ocsinventory", headers=headers, body=zlib.compress(PROLOG))
    assert status == 200
    assert b"<RESPONSE>" in zlib.decompress(content)
    chunked = iter([zlib.compress(PROLOG)])  # an iterable body goes out chunked
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        connection.request("POST", "/ocsinventory", body=chunked, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 200
        assert b"<RESPONSE>" in zlib.decompress(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("body", "user_agent", "status"),
    [(b"not zlib, not xml", UNIX_AGENT, 400), (zlib.compress(PROLOG), "curl/8", 400)],
)
def test_a_bad_request_to_the_agent_endpoint_is_a_plain_4xx(
    server: OcelotServer, body: bytes, user_agent: str, status: int
) -> None:
    answered, headers, content = request(
        server, "POST", "/ocsinventory", headers={"User-Agent": user_agent}, body=body
    )
    assert answered == status
    assert headers["content-type"].startswith("text/plain")
    assert b"Traceback" not in content and content.endswith(b"\n")


def test_a_body_over_the_limit_is_413_declared_or_streamed(server: OcelotServer) -> None:
    headers = {"User-Agent": UNIX_AGENT, "Content-Length": str(17 * 1024 * 1024)}
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        # Declared too large: refused before the body is read (only the headers go out).
        connection.putrequest("POST", "/ocsinventory")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    # Streamed (chunked) past the limit: the endpoint stops reading at 16 MiB and answers.
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        connection.putrequest("POST", "/ocsinventory")
        connection.putheader("User-Agent", UNIX_AGENT)
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        block = b"\0" * (1024 * 1024)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it may stop listening
            for _ in range(17):
                connection.send(b"%x\r\n%s\r\n" % (len(block), block))
            connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        assert (response.status, response.read()) == (413, b"the request body exceeds the size limit\n")
    finally:
        connection.close()


def test_the_access_log_has_a_line_for_fragments_and_for_the_rest(
    server: OcelotServer, package: Package
) -> None:
    get(server, package.url(1))
    get(server, "/healthz")
    log = server.home / "log" / "server.log"
    deadline = time.monotonic() + 10
    wanted = [f'"GET {package.url(1)} HTTP/1.1" 200', '"GET /healthz HTTP/1.1" 200']
    while not all(line in log.read_text() for line in wanted) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(line in log.read_text() for line in wanted), log.read_text()[-2000:]
