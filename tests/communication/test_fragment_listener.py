"""The fragment listener (communication/fragment_listener.py) as agents and attackers meet it:
a real listener process on 127.0.0.1 and a free port, serving a download tree of two
fragments written here, every request over a socket.

The Range, If-Range, If-Modified-Since and refusal cases are those granian's listener
answers (tests/communication/test_rsgi.py): the rules are downloads.py's for both.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils.http import http_date

from ocelot.communication.fragment_listener import ACCEPT_PAUSE
from tests.server_process import free_port

PACKAGE = 1767312000123
TIMEOUT = 1.0


@dataclass
class Listener:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]
    output: Path

    def file(self, number: int) -> Path:
        return self.directory / str(PACKAGE) / f"{PACKAGE}-{number}"

    def url(self, number: int) -> str:
        return f"/download/{PACKAGE}/{PACKAGE}-{number}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def start_listener(directory: Path, output: Path, *extra: str, descriptors: int = 0) -> Listener:
    def limit() -> None:
        if descriptors:
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

    for _ in range(3):
        port = free_port()
        with output.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "ocelot.communication.fragment_listener",
                    "--bind", f"127.0.0.1:{port}", "--directory", str(directory),
                    "--timeout", str(TIMEOUT), *extra,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=limit,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return Listener(port, directory, process, output)
            except OSError:
                time.sleep(0.05)
        process.kill()
        process.wait()
    raise AssertionError(output.read_text())


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listener]:
    root = tmp_path_factory.mktemp("fragment-listener")
    package = root / "download" / str(PACKAGE)
    package.mkdir(parents=True)
    (package / f"{PACKAGE}-1").write_bytes(os.urandom(300_000))
    (package / f"{PACKAGE}-2").write_bytes(os.urandom(70_001))
    (package / "info").write_bytes(b"<DOWNLOAD ID='1'/>")
    running = start_listener(root / "download", root / "listener.out", "--workers", "2")
    try:
        yield running
    finally:
        running.process.terminate()
        code = running.process.wait(timeout=20)
    assert code == 0, running.output.read_text()


def request(
    listener: Listener,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", listener.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def get(listener: Listener, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return request(listener, "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def responses(sock: socket.socket, count: int, method: str = "GET") -> list[tuple[int, bytes]]:
    """``count`` responses (status, body) read in order from one connection."""
    read = sock.makefile("rb")
    found = []
    for _ in range(count):
        status = int(read.readline().split()[1])
        length = 0
        while (line := read.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = b"" if method == "HEAD" or status == 304 else read.read(length)
        found.append((status, body))
    return found


def test_a_fragment_goes_out_whole_with_the_headers_of_downloads_py(listener: Listener) -> None:
    status, headers, content = get(listener, listener.url(1))
    expected = listener.file(1).read_bytes()
    assert (status, content) == (200, expected)
    assert headers["content-length"] == str(len(expected))
    assert headers["content-type"] == "application/octet-stream"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["last-modified"] == http_date(int(listener.file(1).stat().st_mtime))
    assert "date" in headers


@pytest.mark.parametrize(
    ("wanted", "first", "last"),
    [("bytes=10-19", 10, 19), ("bytes=-5", None, None), ("bytes=100-", 100, None), ("bytes=0-0", 0, 0)],
)
def test_one_range_answers_206_with_exactly_those_bytes(
    listener: Listener, wanted: str, first: int | None, last: int | None
) -> None:
    whole = listener.file(2).read_bytes()
    size = len(whole)
    start = size - 5 if first is None else first
    end = size - 1 if last is None else last
    status, headers, content = get(listener, listener.url(2), Range=wanted)
    assert status == 206
    assert content == whole[start : end + 1]
    assert headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert headers["content-length"] == str(end - start + 1)


def test_a_range_past_the_end_is_cut_to_the_file(listener: Listener) -> None:
    whole = listener.file(2).read_bytes()
    status, headers, content = get(listener, listener.url(2), Range="bytes=70000-99999999")
    assert (status, content, headers["content-range"]) == (206, whole[70000:], "bytes 70000-70000/70001")


def test_an_unsatisfiable_range_is_416_and_several_ranges_get_the_whole_file(listener: Listener) -> None:
    size = listener.file(1).stat().st_size
    status, headers, _ = get(listener, listener.url(1), Range=f"bytes={size}-")
    assert (status, headers["content-range"]) == (416, f"bytes */{size}")
    status, _, content = get(listener, listener.url(1), Range="bytes=0-1,5-6")
    assert (status, content) == (200, listener.file(1).read_bytes())
    status, _, content = get(listener, listener.url(1), Range="bytes=9-3")  # invalid: ignored
    assert (status, content) == (200, listener.file(1).read_bytes())


def test_if_range_keeps_the_range_only_while_the_file_is_unchanged(listener: Listener) -> None:
    modified = int(listener.file(2).stat().st_mtime)
    status, _, content = get(listener, listener.url(2), Range="bytes=0-9", If_Range=http_date(modified))
    assert (status, content) == (206, listener.file(2).read_bytes()[:10])
    status, _, content = get(listener, listener.url(2), Range="bytes=0-9", If_Range=http_date(modified - 60))
    assert (status, content) == (200, listener.file(2).read_bytes())


def test_head_says_the_size_without_a_body(listener: Listener) -> None:
    status, headers, content = request(listener, "HEAD", listener.url(1))
    assert (status, content) == (200, b"")
    assert headers["content-length"] == str(listener.file(1).stat().st_size)


def test_if_modified_since_answers_304_until_the_file_changes(listener: Listener) -> None:
    modified = int(listener.file(1).stat().st_mtime)
    status, headers, content = get(listener, listener.url(1), If_Modified_Since=http_date(modified))
    assert (status, content) == (304, b"")
    assert headers["last-modified"] == http_date(modified)
    assert get(listener, listener.url(1), If_Modified_Since=http_date(modified - 60))[0] == 200


def test_only_get_and_head_are_allowed(listener: Listener) -> None:
    status, headers, content = request(listener, "DELETE", listener.url(1))
    assert (status, headers["allow"], content) == (405, "GET, HEAD", b"only GET and HEAD\n")
    status, headers, content = request(listener, "POST", listener.url(1), body=b"x" * 100_000)
    assert (status, headers["allow"], headers["connection"]) == (405, "GET, HEAD", "close")


def test_a_request_with_a_body_is_refused_and_the_connection_closed(listener: Listener) -> None:
    status, headers, content = request(listener, "GET", listener.url(1), body=b"hello")
    assert (status, headers["connection"], content) == (400, "close", b"a fragment request has no body\n")
    with listener.connect() as sock:
        head = f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        sock.sendall(head.encode() + b"5\r\nhello\r\n0\r\n\r\n")
        ((status, _),) = responses(sock, 1)
        assert status == 400
        assert sock.recv(100) == b""  # closed


def test_the_info_file_other_names_and_missing_fragments_are_404(listener: Listener) -> None:
    assert get(listener, f"/download/{PACKAGE}/info")[:3:2] == (404, b"no such package file\n")
    assert get(listener, listener.url(3))[0] == 404
    assert get(listener, f"/download/{PACKAGE}/1-1")[0] == 404
    assert get(listener, f"/download/{PACKAGE}/{PACKAGE}-01")[0] == 404
    assert get(listener, f"/download/{PACKAGE}/%2e%2e/{PACKAGE}/info")[0] == 404
    assert get(listener, "/ocsinventory")[0] == 404
    assert get(listener, "/")[0] == 404
    # A %-encoded name is the name it decodes to, as on the granian listener.
    assert get(listener, f"/download/{PACKAGE}/{PACKAGE}-%32")[2] == listener.file(2).read_bytes()


def test_a_symbolic_link_or_a_fifo_is_never_followed_even_for_a_fragment_served_before(
    listener: Listener, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for agents")
    fragment = listener.file(2)
    kept = tmp_path / "kept"
    assert get(listener, listener.url(2))[0] == 200
    fragment.rename(kept)
    fragment.symlink_to(secret)
    try:
        status, _, content = get(listener, listener.url(2))
        assert (status, content) == (404, b"no such package file\n")
        fragment.unlink()
        os.mkfifo(fragment)  # opening a FIFO to read would wait for a writer: it must not
        status, _, content = get(listener, listener.url(2))
        assert (status, content) == (404, b"no such package file\n")
    finally:
        fragment.unlink()
        kept.rename(fragment)
    assert get(listener, listener.url(2))[2] == fragment.read_bytes()


def test_oversized_headers_are_431_and_the_connection_closed(listener: Listener) -> None:
    with listener.connect() as sock:
        sock.sendall(f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 9000}\r\n\r\n".encode())
        ((status, body),) = responses(sock, 1)
        assert (status, body) == (431, b"request head larger than 8 KiB\n")
        assert sock.recv(100) == b""
    with listener.connect() as sock:  # a head that never ends is cut at the limit too
        sock.sendall(f"GET {listener.url(2)} HTTP/1.1\r\n".encode() + b"X-Big: " + b"a" * 9000)
        assert responses(sock, 1)[0][0] == 431


def test_keep_alive_serves_several_requests_on_one_connection(listener: Listener) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", listener.port, timeout=10)
    try:
        for number, wanted in ((1, None), (2, "bytes=5-9"), (1, None), (2, None)):
            connection.request("GET", listener.url(number), headers={"Range": wanted} if wanted else {})
            response = connection.getresponse()
            whole = listener.file(number).read_bytes()
            assert response.read() == (whole[5:10] if wanted else whole)
        connection.request("HEAD", listener.url(1))
        head = connection.getresponse()
        assert (head.status, head.read()) == (200, b"")
        sock = connection.sock
        connection.request("GET", listener.url(2))
        assert connection.getresponse().read() == listener.file(2).read_bytes()
        assert connection.sock is sock  # the same connection all along
    finally:
        connection.close()


def test_http_1_0_closes_unless_asked_to_keep_alive_and_1_1_honours_close(listener: Listener) -> None:
    with listener.connect() as sock:
        sock.sendall(f"GET {listener.url(2)} HTTP/1.0\r\n\r\n".encode())
        ((status, body),) = responses(sock, 1)
        assert (status, body) == (200, listener.file(2).read_bytes())
        assert sock.recv(100) == b""
    with listener.connect() as sock:
        keep = f"GET {listener.url(2)} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode()
        sock.sendall(keep)
        assert responses(sock, 1)[0][0] == 200
        sock.sendall(keep)
        assert responses(sock, 1)[0][0] == 200
    with listener.connect() as sock:
        sock.sendall(f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert responses(sock, 1)[0][0] == 200
        assert sock.recv(100) == b""


def test_pipelined_requests_are_answered_in_order(listener: Listener) -> None:
    one, two = listener.file(1).read_bytes(), listener.file(2).read_bytes()
    with listener.connect() as sock:
        sock.sendall(
            f"GET {listener.url(1)} HTTP/1.1\r\nHost: x\r\n\r\n"
            f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n"
            f"GET {listener.url(9)} HTTP/1.1\r\nHost: x\r\n\r\n"
            f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        found = responses(sock, 4)
    assert found == [(200, one), (206, two[:4]), (404, b"no such package file\n"), (200, two)]


def test_a_silent_or_slow_client_is_cut_after_the_timeout(listener: Listener) -> None:
    with listener.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET /download/")  # and nothing more: slowloris
        assert sock.recv(100) == b""
        assert TIMEOUT * 0.8 < time.monotonic() - started < TIMEOUT * 5
    with listener.connect() as sock:
        sock.sendall(f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert responses(sock, 1)[0][0] == 200
        started = time.monotonic()
        assert sock.recv(100) == b""  # idle after a response: closed too
        assert time.monotonic() - started < TIMEOUT * 5


def test_a_head_trickled_byte_by_byte_is_cut_after_the_timeout_all_the_same(listener: Listener) -> None:
    with listener.connect() as sock:
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for byte in f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nX-Slow: {'a' * 100}".encode():
                sock.send(bytes([byte]))
                time.sleep(TIMEOUT / 5)
                if time.monotonic() - started > TIMEOUT * 5:
                    break
        assert time.monotonic() - started < TIMEOUT * 5  # cut long before the head could end
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(100) == b""


def test_a_thousand_pipelined_requests_are_all_answered_in_order(listener: Listener) -> None:
    two = listener.file(2).read_bytes()
    with listener.connect() as sock:
        head = f"GET {listener.url(2)} HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n\r\n"
        sock.sendall(b"".join((head % (n % 997, n % 997)).encode() for n in range(1000)))
        found = responses(sock, 1000)
    assert found == [(206, two[n % 997 : n % 997 + 1]) for n in range(1000)]


def test_a_client_that_stops_reading_is_cut_after_the_timeout(listener: Listener) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", listener.port))
    with sock:
        request_text = f"GET {listener.url(1)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        sock.sendall(request_text * 40)  # 12 MB asked for, none read
        time.sleep(TIMEOUT * 2)
        received = 0
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += len(chunk)
        # What the kernel had queued arrives, then the end: far from the 40 answers.
        assert received < 40 * listener.file(1).stat().st_size


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello on the plain port
        b"GARBAGE\r\n\r\n",
        b"GET /download/1/1-1\r\n\r\n",  # HTTP/0.9
        b"GET  /x HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost : x\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",  # no Host
        b"GET /x HTTP/1.1\r\nHost: x\r\nRange: bytes=" + b"9" * 5000 + b"-\r\n\r\n",
    ],
)
def test_garbage_is_400_without_a_traceback_and_the_listener_keeps_serving(
    listener: Listener, garbage: bytes
) -> None:
    if b"HTTP/1.1\r\nHost: x\r\nRange" in garbage:
        garbage = garbage.replace(b"/x", listener.url(1).encode())
    with listener.connect() as sock:
        sock.sendall(garbage)
        read = sock.makefile("rb")
        status_line = read.readline()
        rest = read.read()
    assert status_line.startswith(b"HTTP/1.1 400 "), status_line + rest
    assert b"Traceback" not in rest and b"Connection: close" in rest
    assert get(listener, listener.url(2))[2] == listener.file(2).read_bytes()


def test_another_http_version_is_505(listener: Listener) -> None:
    with listener.connect() as sock:
        sock.sendall(f"GET {listener.url(2)} HTTP/2.0\r\n\r\n".encode())
        assert sock.makefile("rb").readline().startswith(b"HTTP/1.1 505 ")


def test_each_request_has_an_access_log_line_in_the_rsgi_format(listener: Listener) -> None:
    get(listener, listener.url(2))
    request(listener, "HEAD", f"/download/{PACKAGE}/info%0Aforged")
    wanted = [
        f'127.0.0.1 "GET {listener.url(2)} HTTP/1.1" 200 ',
        f'"HEAD /download/{PACKAGE}/info\\nforged HTTP/1.1" 404 ',
    ]
    deadline = time.monotonic() + 5
    while not all(line in listener.output.read_text() for line in wanted) and time.monotonic() < deadline:
        time.sleep(0.05)
    text = listener.output.read_text()
    assert all(line in text for line in wanted), text[-2000:]
    assert "Traceback" not in text


def test_a_port_in_use_is_a_one_line_error(listener: Listener, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "ocelot.communication.fragment_listener",
            "--bind", f"127.0.0.1:{listener.port}", "--directory", str(listener.directory),
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "in use" in done.stderr and "Traceback" not in done.stderr


def worker_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def test_a_worker_that_dies_is_replaced_and_the_others_serve_meanwhile(listener: Listener) -> None:
    before = worker_pids(listener.process.pid)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    for _ in range(4):  # whichever worker takes the connection, it answers
        assert get(listener, listener.url(2))[2] == listener.file(2).read_bytes()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # reaped (no longer listed), and another started
        now = worker_pids(listener.process.pid)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.1)
    after = worker_pids(listener.process.pid)
    assert len(after) == 2 and before[0] not in after


def test_sigterm_lets_an_answer_in_flight_finish_then_exits_cleanly(tmp_path: Path) -> None:
    package = tmp_path / "download" / str(PACKAGE)
    package.mkdir(parents=True)
    big = os.urandom(20 * 1024 * 1024)
    (package / f"{PACKAGE}-1").write_bytes(big)
    running = start_listener(tmp_path / "download", tmp_path / "out")
    try:
        with running.connect() as sock, running.connect() as idle:
            sock.sendall(f"GET {running.url(1)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            read = sock.makefile("rb")
            assert read.readline().startswith(b"HTTP/1.1 200 ")
            running.process.terminate()  # most of the 20 MiB still to go
            time.sleep(0.3)
            while read.readline() != b"\r\n":
                pass
            assert read.read(len(big)) == big
            with contextlib.suppress(ConnectionResetError):  # if still in the backlog
                assert idle.recv(100) == b""  # an idle connection is closed at once
        assert running.process.wait(timeout=20) == 0
    finally:
        if running.process.poll() is None:
            running.process.kill()


def test_out_of_descriptors_it_pauses_accepting_and_serves_again_once_they_are_back(tmp_path: Path) -> None:
    package = tmp_path / "download" / str(PACKAGE)
    package.mkdir(parents=True)
    (package / f"{PACKAGE}-1").write_bytes(b"fragment bytes")
    running = start_listener(tmp_path / "download", tmp_path / "out", descriptors=40)
    try:
        crowd = [running.connect() for _ in range(60)]  # more than the process may open
        waited = 1.2
        time.sleep(waited)
        refusals = running.output.read_text().count('"accept: Too many open files" 503')
        # At least one: 60 connections cannot fit in 40 descriptors. At most one per pause
        # of its one worker (plus the first): a listener spinning on the readable socket
        # logged about 57,000 in a second.
        assert 1 <= refusals <= math.ceil(waited / ACCEPT_PAUSE) + 1
        for sock in crowd:
            sock.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                assert get(running, running.url(1))[2] == b"fragment bytes"
                break
            except (OSError, http.client.HTTPException):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert "Traceback" not in running.output.read_text()
    finally:
        running.process.terminate()
        assert running.process.wait(timeout=20) == 0
