"""The fragment listener: package fragments sent with ``sendfile``, nothing else.

``ocelot server`` runs it beside its two granian listeners (cli/server.py, setting
``fragments``, default 127.0.0.1:8081) so the bytes most of a deployment moves go from the
page cache to the socket in the kernel, copied once, as nginx's ``sendfile on`` does.
granian 2.8.7 reads each file into a buffer and copies it again (communication/rsgi.py):
0.39x of nginx's throughput to 64 downloaders, 0.82 ms of server CPU per 1 MiB fragment
against nginx's 0.12 ms (bench/README.md, deployment).

It answers only GET and HEAD of ``/download/<ID>/<ID>-<n>`` with the rules of downloads.py
(path shape, Range, If-Range, If-Modified-Since, the same headers): never the ``info``
file, which is served over HTTPS only. A file is opened with ``O_NOFOLLOW`` (and
``O_NONBLOCK``: a FIFO planted in the tree must not block the loop) and checked with
``fstat`` as a regular file, for each request: a link swapped in is never followed
(security.md S15; open_fragments.py says why granian needs more than that, we do not:
the descriptor we checked is the one ``sendfile`` reads).

HTTP/1.0 and HTTP/1.1, keep-alive (1.1's default; ``Connection: close`` honoured),
pipelined requests answered in order. Hostile clients get little: the request line and
headers are limited to 8 KiB (431 then close), a request with a body is refused (400, or
405 for another method, then close), malformed requests get a 400 and the connection is
closed, and a client that sends nothing, too slowly, or stops reading what we send is cut
after ``timeout`` seconds of silence (slowloris). One line per request goes to standard
output in the other listeners' access log format (access_log.py), which ``ocelot
server`` copies into server.log.

The standard library's selector event loop with raw non-blocking sockets, reader and
writer callbacks and ``os.sendfile``: no transport (a socket an asyncio transport owns
cannot be waited on directly, and ``loop.sendfile`` cannot time out a client that stopped
reading), and no task, future or timer per request (a coroutine per connection, its
first version, cost about 0.03-0.04 ms more of CPU per 1 MiB fragment; measured with wrk,
64 connections). The socket is bound once and ``workers`` processes are forked to accept
on it. The Django modules downloads.py imports are loaded, never set up: the rules are
exactly downloads.py's.

Run by ``ocelot server``; by hand: ``python -m ocelot.communication.fragment_listener
--bind 127.0.0.1:8081 --directory $OCELOT_HOME/packages/download``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import os
import re
import select
import signal
import socket
import stat
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocelot.communication.access_log import access_line
from ocelot.communication.downloads import FileAnswer, fragment_file, method_refusal, missing, plan_answer

HEAD_LIMIT = 8 * 1024
TIMEOUT = 30.0
# How long a stopping worker lets responses in flight finish.
STOP_SECONDS = 10.0
# After an error answer the client may still be sending (a refused body): read and drop
# that much for that long before closing, or the kernel's reset could destroy the answer.
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0
RECEIVE = 64 * 1024
# How long accepting pauses when the process is out of descriptors.
ACCEPT_PAUSE = 0.5

REASONS = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    505: "HTTP Version Not Supported",
}
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_REQUEST_LINE = re.compile(rf"^({_TOKEN}) (\S+) (HTTP/[0-9]\.[0-9])$")
_HEADER_NAME = re.compile(rf"^{_TOKEN}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_VERSIONS = {"HTTP/1.1": "1.1", "HTTP/1.0": "1.0"}
_TEXT = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


class BadRequestError(Exception):
    """A request we cannot answer as asked: its status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """One parsed request head."""

    method: str
    path: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def keep_alive(self) -> bool:
        tokens = {token.strip().lower() for token in self.headers.get("connection", "").split(",")}
        if self.version == "1.1":
            return "close" not in tokens
        return "keep-alive" in tokens

    @property
    def has_body(self) -> bool:
        if "transfer-encoding" in self.headers:
            return True
        return int(self.headers.get("content-length", "0")) > 0


def check_request_line(line: str) -> None:
    """Refuse a request line that is not ``METHOD /target HTTP/x.y`` (a BadRequestError)."""
    match = _REQUEST_LINE.match(line)
    if match is None or not match.group(2).startswith("/"):
        raise BadRequestError(400, "malformed request line")
    if match.group(3) not in _VERSIONS:
        raise BadRequestError(505, "only HTTP/1.0 and HTTP/1.1")


def parse_head(head: bytes) -> Request:
    """The request in ``head`` (request line and headers, without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    check_request_line(lines[0])
    method, target, version = lines[0].split(" ")
    request = Request(method, unquote(target.partition("?")[0]), _VERSIONS[version])
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        # No space before the colon, no obsolete line folding (RFC 9112 §5.1, §5.2).
        if not colon or _HEADER_NAME.match(name) is None or _CONTROL.search(value):
            raise BadRequestError(400, "malformed header")
        key, value = name.lower(), value.strip(" \t")
        if key in request.headers:
            if key in ("content-length", "host"):
                raise BadRequestError(400, f"more than one {name}")
            value = f"{request.headers[key]}, {value}"
        request.headers[key] = value
    length = request.headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit() and len(length) <= 18):
        raise BadRequestError(400, "malformed Content-Length")
    if request.version == "1.1" and "host" not in request.headers:
        raise BadRequestError(400, "HTTP/1.1 requires Host")
    return request


_date_cache: tuple[int, str] = (0, "")


def _date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


def response_head(status: int, headers: dict[str, str], *, keep_alive: bool, version: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", f"Date: {_date()}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if not keep_alive:
        lines.append("Connection: close")
    elif version == "1.0":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    """One client, driven by the loop's callbacks: requests read, answered and logged in
    order until it closes. No task, future or timer per request: the reader stays
    registered while answers go out whole (``sendfile`` usually sends a fragment in one
    call); only a client that cannot take more makes it wait for the writer instead.

    Deadlines (checked by :meth:`FragmentListener.sweep`): a request head must arrive
    whole within ``timeout`` of the previous answer (trickling bytes does not extend it:
    slowloris), and an answer must make progress every ``timeout``.
    """

    def __init__(self, listener: FragmentListener, sock: socket.socket, address: str) -> None:
        self.listener = listener
        self.loop = listener.loop
        self.sock = sock
        self.fd = sock.fileno()
        self.address = address
        self.buffer = bytearray()
        self.deadline = self.loop.time() + listener.timeout
        self.closed = False
        self.lingering = False
        self.lingered = 0
        # The answer going out: bytes first, then ``count`` bytes of ``file`` from ``offset``.
        self.out = memoryview(b"")
        self.file = -1
        self.offset = 0
        self.count = 0
        self.keep_alive = True
        self.log_line: tuple[str, int, float] | None = None
        self.writing = False
        self.loop.add_reader(self.fd, self.guarded, self.on_readable)

    @property
    def idle(self) -> bool:
        return not self.buffer and not self.writing and not self.lingering

    # ------------------------------------------------------------ reading

    def guarded(self, callback: Callable[[], None]) -> None:
        """Run a loop callback; a bug of ours ends this connection (a 500 in the access
        log, the traceback on standard error), never the listener or the others."""
        try:
            callback()
        except Exception:
            traceback.print_exc()
            self.listener.log(self.address, "internal error", 500, time.perf_counter())
            self.close()

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(RECEIVE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.close()
            return
        if self.lingering:
            self.lingered += len(data)
            if self.lingered > LINGER_BYTES:
                self.close()
            return
        self.buffer += data
        self.answer_buffered()

    def answer_buffered(self) -> None:
        """Answer the complete requests in the buffer, in order, while answers go out whole."""
        while not self.writing and not self.closed and not self.lingering:
            while self.buffer.startswith(b"\r\n"):
                del self.buffer[:2]  # empty lines before a request are ignored (RFC 9112 §2.2)
            end = self.buffer.find(b"\r\n\r\n")
            try:
                if end < 0:
                    if len(self.buffer) > HEAD_LIMIT:
                        raise BadRequestError(431, "request head larger than 8 KiB")
                    line_end = self.buffer.find(b"\r\n")
                    if line_end >= 0:  # garbage is refused as soon as its first line is there
                        check_request_line(self.buffer[:line_end].decode("latin-1"))
                    if self.listener.stopping and not self.buffer:
                        self.close()
                    return
                if end + 4 > HEAD_LIMIT:
                    raise BadRequestError(431, "request head larger than 8 KiB")
            except BadRequestError as error:
                self.refuse(error, self._first_line(self.buffer), time.perf_counter())
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            self.answer(head)

    @staticmethod
    def _first_line(data: bytes | bytearray) -> str:
        return bytes(data[:200]).partition(b"\r\n")[0].decode("latin-1") or "-"

    def answer(self, head: bytes) -> None:
        started = time.perf_counter()
        try:
            request = parse_head(head)
        except BadRequestError as error:
            self.refuse(error, self._first_line(head), started)
            return
        has_body = request.has_body
        keep_alive = request.keep_alive and not has_body and not self.listener.stopping
        answer = method_refusal(request.method)
        if answer is None and has_body:
            answer = FileAnswer(400, dict(_TEXT), message="a fragment request has no body")
        fd = -1
        if answer is None:
            try:
                answer, fd = self.listener.plan(request)
            except ValueError:  # a Range of more digits than int() reads
                answer, keep_alive = FileAnswer(400, dict(_TEXT), message="malformed header"), False
        body = b""
        if answer.message:
            message = answer.message.encode() + b"\n"
            answer.headers["Content-Length"] = str(len(message))
            body = b"" if request.method == "HEAD" else message
        head_bytes = response_head(
            answer.status, answer.headers, keep_alive=keep_alive, version=request.version
        )
        self.out = memoryview(head_bytes + body)
        self.file, self.offset, self.count = fd, answer.first, answer.length if fd >= 0 else 0
        self.keep_alive = keep_alive
        self.log_line = (f"{request.method} {request.path} HTTP/{request.version}", answer.status, started)
        if has_body:
            self.lingering = True  # after the answer: the body is never read
        self.send()

    def refuse(self, error: BadRequestError, request_text: str, started: float) -> None:
        message = error.message.encode() + b"\n"
        headers = {**_TEXT, "Content-Length": str(len(message))}
        self.out = memoryview(response_head(error.status, headers, keep_alive=False, version="1.1") + message)
        self.file, self.count, self.keep_alive = -1, 0, False
        self.log_line = (request_text, error.status, started)
        self.lingering = True
        self.send()

    # ------------------------------------------------------------ writing

    def on_writable(self) -> None:
        if self.send():
            self.answer_buffered()

    def send(self) -> bool:
        """Send what is left of the answer, or wait for the writer if the client is full:
        whether the answer went out and the next request may be answered. (The caller
        goes on with the buffer: a loop, never a recursion per pipelined request.)"""
        try:
            while self.out:
                # The head waits for the file's first bytes (one segment, as nginx's TCP_CORK).
                sent = self.sock.send(self.out, socket.MSG_MORE if self.count else 0)
                self.out = self.out[sent:]
            while self.count > 0:
                sent = os.sendfile(self.fd, self.file, self.offset, self.count)
                if sent == 0:  # truncated since fstat: Content-Length cannot be kept
                    self.count, self.keep_alive = 0, False
                    break
                self.offset += sent
                self.count -= sent
        except (BlockingIOError, InterruptedError):
            self.deadline = self.loop.time() + self.listener.timeout
            if not self.writing:
                self.writing = True
                self.loop.remove_reader(self.fd)
                self.loop.add_writer(self.fd, self.guarded, self.on_writable)
            return False
        except OSError:
            self.finish()
            self.close()
            return False
        self.finish()
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.fd)
            if not self.closed:
                self.loop.add_reader(self.fd, self.guarded, self.on_readable)
        if self.lingering:
            self.linger()
            return False
        if not self.keep_alive:
            self.close()
            return False
        self.deadline = self.loop.time() + self.listener.timeout
        return True

    def finish(self) -> None:
        """The answer is over (sent or not): close its file, write its access line."""
        if self.file >= 0:
            os.close(self.file)
            self.file = -1
        if self.log_line is not None:
            request_text, status, started = self.log_line
            self.log_line = None
            self.listener.log(self.address, request_text, status, started)

    def linger(self) -> None:
        """Close our side, then drop what the client still sends for a moment, or the
        kernel's reset for unread bytes could destroy the answer before it is read."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self.buffer.clear()
        self.deadline = self.loop.time() + min(LINGER_SECONDS, self.listener.timeout)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.finish()
        if self.writing:
            self.loop.remove_writer(self.fd)
        else:
            self.loop.remove_reader(self.fd)
        self.sock.close()
        self.listener.connections.discard(self)


class FragmentListener:
    """Accepts connections on a listening socket and serves fragments of ``directory``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, directory: str, timeout: float = TIMEOUT) -> None:
        self.loop = loop
        self.directory = directory.rstrip("/")
        self.timeout = timeout
        self.stopping = False
        self.connections: set[Connection] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._lines: list[bytes] = []

    def plan(self, request: Request) -> tuple[FileAnswer, int]:
        """The answer to a GET or HEAD without a body, and the open file it sends (or -1)."""
        located = fragment_file(request.path)
        if located is None:
            return missing(), -1
        package_id, name = located
        try:
            fd = os.open(
                f"{self.directory}/{package_id}/{name}",
                os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
            )
        except OSError:
            return missing(), -1
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                os.close(fd)
                return missing(), -1
            answer = plan_answer(
                name, info.st_size, int(info.st_mtime), method=request.method, header=request.header
            )
        except BaseException:
            os.close(fd)
            raise
        if not answer.sends_body or answer.length == 0:
            os.close(fd)
            return answer, -1
        return answer, fd

    def log(self, address: str, request_text: str, status: int, started: float) -> None:
        """Queue the access line; the lines of one turn of the loop go out in one write."""
        line = access_line(address, request_text, status, time.perf_counter() - started)
        if not self._lines:
            self.loop.call_soon(self.flush_log)
        self._lines.append(line.encode("utf-8", "replace"))

    def flush_log(self) -> None:
        # At most PIPE_BUF bytes per write: the workers share one pipe (``ocelot server``
        # copies it into server.log), and only writes that small are never interleaved.
        lines, self._lines = self._lines, []
        block = b""
        for line in lines:
            if block and len(block) + len(line) > select.PIPE_BUF:
                self._write(block)
                block = b""
            block += line
        if block:
            self._write(block)

    @staticmethod
    def _write(block: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(1, block)

    def accept(self, listening: socket.socket) -> None:
        """Take a connection waiting on ``listening`` (called when it is readable). One
        per call: every worker is woken, so connections spread over the workers instead of
        all going to the first one awake (64 at once from wrk did)."""
        try:
            sock, address = listening.accept()
        except (BlockingIOError, InterruptedError):
            return  # another worker took it
        except OSError as error:
            # Out of descriptors: say so, serve the connections there are, and try again
            # in a moment (the waiting connection keeps the socket readable: retrying at
            # once would spin and fill the log).
            self.log("-", f"accept: {error.strerror}", 503, time.perf_counter())
            self.loop.remove_reader(listening.fileno())
            self.loop.call_later(ACCEPT_PAUSE, self._resume_accepting, listening)
            return
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections.add(Connection(self, sock, str(address[0]) if isinstance(address, tuple) else "-"))

    def sweep(self) -> None:
        """Close the connections past their deadline; again in a quarter of the timeout."""
        now = self.loop.time()
        for connection in list(self.connections):
            if now >= connection.deadline:
                connection.close()
        self._sweeper = self.loop.call_later(max(0.05, self.timeout / 4), self.sweep)

    def _resume_accepting(self, listening: socket.socket) -> None:
        if not self.stopping:
            self.loop.add_reader(listening.fileno(), self.accept, listening)

    def start(self, listening: socket.socket) -> None:
        self.loop.add_reader(listening.fileno(), self.accept, listening)
        self.sweep()

    async def stop(self, listening: socket.socket, seconds: float = STOP_SECONDS) -> None:
        """Stop accepting, close idle connections, let answers in flight finish (at most
        ``seconds``), then close the rest."""
        self.loop.remove_reader(listening.fileno())
        self.stopping = True
        for connection in list(self.connections):
            if connection.idle:
                connection.close()
        deadline = self.loop.time() + seconds
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.flush_log()


async def serve(listening: socket.socket, directory: str, timeout: float) -> None:
    """Serve on ``listening`` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    listener = FragmentListener(loop, directory, timeout)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    listener.start(listening)
    try:
        await stop.wait()
    finally:
        await listener.stop(listening)


def bind(address: str) -> socket.socket:
    """A listening, non-blocking socket on ``host:port`` (``[v6]:port`` for IPv6)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(listening: socket.socket, directory: str, timeout: float) -> int:
    asyncio.run(serve(listening, directory, timeout))
    return 0


def _supervise(listening: socket.socket, directory: str, timeout: float, workers: int) -> int:
    """Fork ``workers`` processes that accept on ``listening``; replace one that dies."""
    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = _worker(listening, directory, timeout)
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            print(f"fragment listener: worker {pid} exited ({status}); starting another", flush=True)
            time.sleep(1)
            if not stopping:
                spawn()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fragment_listener", description=__doc__.split("\n")[0])
    parser.add_argument("--bind", required=True, help="HOST:PORT to listen on")
    parser.add_argument("--directory", required=True, help="the published package tree (packages/download)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds of client silence allowed")
    args = parser.parse_args(argv)
    try:
        listening = bind(args.bind)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        print(f"fragment listener: cannot listen on {args.bind}: {reason}", file=sys.stderr, flush=True)
        return 1
    if args.workers <= 1:
        return _worker(listening, args.directory, args.timeout)
    return _supervise(listening, args.directory, args.timeout, args.workers)


if __name__ == "__main__":
    sys.exit(main())
