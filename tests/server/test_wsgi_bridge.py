"""The WSGI application called from granian's RSGI interface (server/wsgi_bridge.py).

A small WSGI application and a protocol object that records what granian would send stand
in for Django and granian; the bridge itself runs as in a worker: an event loop, a pool of
threads. tests/communication/test_rsgi.py runs the real pair in a real server.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest

from ocelot.server.wsgi_bridge import PREFETCH, StreamedBody, WsgiBridge, wsgi_environ


class Scope:
    """granian's RSGI scope, with the fields the bridge reads."""

    def __init__(self, method: str = "GET", path: str = "/", headers: dict[str, str] | None = None) -> None:
        self.method = method
        self.path = path
        self.query_string = "a=1&b=%C3%A9"
        self.http_version = "1.1"
        self.scheme = "http"
        self.server = "127.0.0.1:8080"
        self.client = "10.1.2.3:51000"
        self.headers = Headers(headers or {})


class Headers:
    """RSGIHeaders: lower-case names, ``items`` lists every value of a repeated header."""

    def __init__(self, values: dict[str, str] | list[tuple[str, str]]) -> None:
        self.pairs = list(values.items()) if isinstance(values, dict) else values

    def items(self) -> list[tuple[str, str]]:
        return self.pairs

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for name, value in self.pairs if name == key), default)

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _ in self.pairs)


class Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.refuse_after: int | None = None

    async def send_bytes(self, data: bytes) -> None:
        if self.refuse_after is not None and len(self.sent) >= self.refuse_after:
            raise ConnectionResetError("client gone")
        self.sent.append(data)


class Protocol:
    """granian's RSGI protocol object: the body in chunks, and the answer it was given."""

    def __init__(self, chunks: list[bytes] | None = None) -> None:
        self.chunks = list(chunks or [])
        self.pulled = 0
        self.answer: tuple[int, list[tuple[str, str]], bytes] | None = None
        self.stream: tuple[int, list[tuple[str, str]], Transport] | None = None

    async def __call__(self) -> bytes:
        self.pulled = len(self.chunks)
        return b"".join(self.chunks)

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, headers, body)

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Transport:
        transport = Transport()
        self.stream = (status, headers, transport)
        return transport


def serve(app: Any, scope: Scope, protocol: Protocol) -> None:
    """One request through the bridge, on an event loop of its own in a thread of its own,
    as in a granian worker (the test's thread may hold a running loop already: Playwright's
    synchronous API leaves one in the browser tests' worker)."""
    bridge = WsgiBridge(app, threads=2)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(bridge(scope, protocol))
        except BaseException as error:  # handed to the test's thread
            failure.append(error)

    try:
        loop_thread = threading.Thread(target=run)
        loop_thread.start()
        loop_thread.join()
    finally:
        bridge.close()
    if failure:
        raise failure[0]


def test_the_environ_is_what_a_wsgi_server_would_build() -> None:
    headers = [
        ("host", "ocs.example.org"),
        ("content-type", "application/x-compress"),
        ("content-length", "12"),
        ("x-forwarded-for", "192.0.2.1"),
        ("x-forwarded-for", "192.0.2.2"),
        ("x_forwarded_for", "198.51.100.66"),  # would pose as X-Forwarded-For: dropped
        ("cookie", "a=1"),
        ("cookie", "b=2"),
    ]
    scope = Scope("POST", "/café", None)
    scope.headers = Headers(headers)
    body = io.BytesIO(b"")
    environ = wsgi_environ(scope, body)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/café".encode().decode("latin-1")  # PEP 3333 text
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8080")
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.1.2.3", "51000")
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.input"] is body
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("application/x-compress", "12")
    assert environ["HTTP_HOST"] == "ocs.example.org"
    assert environ["HTTP_X_FORWARDED_FOR"] == "192.0.2.1,192.0.2.2"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert "HTTP_CONTENT_LENGTH" not in environ


def test_an_ipv6_client_address_loses_its_brackets() -> None:
    scope = Scope()
    scope.client = "[::1]:40000"
    assert wsgi_environ(scope, io.BytesIO())["REMOTE_ADDR"] == "::1"


def test_a_list_answer_goes_out_in_one_piece_and_the_body_was_received_first() -> None:
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read())
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"one ", b"two"]

    protocol = Protocol([b"hello ", b"agent"])
    serve(app, Scope("POST", headers={"content-length": "11"}), protocol)
    assert seen == [b"hello agent"]
    assert protocol.answer == (201, [("Content-Type", "text/plain")], b"one two")


def test_a_chunked_body_is_read_only_as_far_as_the_application_asks() -> None:
    read: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        read.append(stream.read(3))
        read.append(stream.readline())
        start_response("413 Content Too Large", [])
        return [b"too large\n"]

    protocol = Protocol([b"abcdef\nghi", b"second", b"third", b"fourth"])
    serve(app, Scope("POST", headers={"transfer-encoding": "chunked"}), protocol)
    assert read == [b"abc", b"def\n"]
    assert protocol.pulled == 1  # the application stopped: the rest was never pulled
    assert protocol.answer is not None and protocol.answer[0] == 413


def test_a_large_declared_body_is_streamed_too() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert isinstance(environ["wsgi.input"], StreamedBody)
        start_response("200 OK", [])
        return [str(len(environ["wsgi.input"].read())).encode()]

    block = b"x" * (PREFETCH // 2)
    protocol = Protocol([block, block, block])
    serve(app, Scope("POST", headers={"content-length": str(3 * len(block))}), protocol)
    assert protocol.answer is not None and protocol.answer[2] == str(3 * len(block)).encode()


def test_an_iterator_is_streamed_from_one_thread_and_closed_there() -> None:
    threads: list[int] = []

    class Answer:
        def __iter__(self) -> Iterator[bytes]:
            for chunk in (b"", b"first", b"second"):
                threads.append(threading.get_ident())
                yield chunk

        def close(self) -> None:
            threads.append(threading.get_ident())

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        threads.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "application/zip")])
        return Answer()

    protocol = Protocol()
    serve(app, Scope(), protocol)
    assert protocol.stream is not None
    status, headers, transport = protocol.stream
    assert (status, headers, transport.sent) == (
        200,
        [("Content-Type", "application/zip")],
        [b"first", b"second"],
    )
    assert len(set(threads)) == 1 and len(threads) == 5  # the call, three chunks, close()
    assert threads[0] != threading.get_ident()  # not the event loop's thread


def test_a_client_gone_mid_stream_stops_the_iterator_and_closes_it() -> None:
    produced: list[int] = []
    closed: list[bool] = []

    class Answer:
        def __iter__(self) -> Iterator[bytes]:
            for number in range(100):
                produced.append(number)
                yield b"block"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return Answer()

    protocol = Protocol()
    original = protocol.response_stream

    def refusing(status: int, headers: list[tuple[str, str]]) -> Transport:
        transport = original(status, headers)
        transport.refuse_after = 2
        return transport

    protocol.response_stream = refusing  # type: ignore[method-assign]
    serve(app, Scope(), protocol)
    assert len(produced) == 3 and closed == [True]


@pytest.mark.parametrize("failing_at", ["call", "list"])
def test_an_exception_out_of_the_application_is_a_bare_500_and_a_log_line(
    failing_at: str, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if failing_at == "call":
            raise RuntimeError("a bug")
        return []  # no start_response: the application broke the WSGI contract

    protocol = Protocol()
    with caplog.at_level(logging.ERROR, logger="ocelot.server"):
        serve(app, Scope("GET", "/somewhere"), protocol)
    assert protocol.answer == (500, [("Content-Type", "text/plain; charset=utf-8")], b"internal error\n")
    assert "unexpected error answering GET /somewhere" in caplog.text
