"""Replay requests against one endpoint with a bounded pool of client threads.

Each request is what one agent run sends: a fresh HTTP/1.1 connection, the real Unix
agent's headers, a zlib body built in advance (so the client spends its time waiting,
not compressing), and the reply inflated and checked. Only the standard library is used.

The request is written and the reply read on a plain socket (:func:`post`), not with
``http.client``: its header parsing (the ``email`` package) made the client cost about
0.6 ms of CPU per request, more than half of what the server under test spent, on the
same two cores; the bytes on the wire are the same.

Above 8 concurrent requests the threads are spread over forked client processes, 8 each:
32 threads in one interpreter wait for its GIL after every reply, which added tens of
milliseconds to the latencies measured for every server, the reference's included.
"""

from __future__ import annotations

import http.client
import multiprocessing
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.payload import USER_AGENT

HEADERS = {
    "User-Agent": USER_AGENT,
    "Content-Type": "application/x-compress",
    "Pragma": "no-cache",
    "Connection": "close",
}


@dataclass
class PhaseResult:
    """One phase (one kind of request, one concurrency) against one server."""

    kind: str
    concurrency: int
    requests: int
    wall: float = 0.0
    ok: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds, nearest rank, over every request."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def summary(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "ok": self.ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "error_samples": self.samples[:5],
            "wall_s": round(self.wall, 3),
            "rate_per_s": round(self.rate, 3),
            "p50_ms": round(self.percentile(50), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies, default=0) * 1000, 1),
        }


class ReplyError(Exception):
    """The server's answer is not a well-formed HTTP response."""


def _dechunk(data: bytes) -> bytes:
    parts: list[bytes] = []
    position = 0
    while True:
        end = data.find(b"\r\n", position)
        if end < 0:
            raise ReplyError("truncated chunked body")
        size = int(data[position:end].split(b";", 1)[0], 16)
        if size == 0:
            return b"".join(parts)
        start = end + 2
        if start + size > len(data):
            raise ReplyError("truncated chunked body")
        parts.append(data[start : start + size])
        position = start + size + 2


def post(host: str, port: int, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    """POST ``body`` on a fresh connection (``Connection: close``): the status and the body."""
    head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
    ).encode("ascii")
    chunks: list[bytes] = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request + body)
        while data := sock.recv(262144):
            chunks.append(data)
    response = b"".join(chunks)
    header, found, payload = response.partition(b"\r\n\r\n")
    if not found or not header.startswith(b"HTTP/1."):
        raise ReplyError(f"not an HTTP response: {response[:60]!r}")
    status = int(header[9:12])
    fields = {}
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        payload = _dechunk(payload)
    elif b"content-length" in fields and int(fields[b"content-length"]) != len(payload):
        raise ReplyError(f"{len(payload)} of {int(fields[b'content-length'])} body bytes received")
    return status, payload


def _check_reply(kind: str, body: bytes) -> str | None:
    """None if the reply is what a real agent accepts, else why not."""
    try:
        text = zlib.decompress(body)
    except zlib.error:
        return "reply_not_zlib"
    if b"<REPLY" not in text:
        return "reply_not_reply"
    if kind.startswith("prolog") and b"<RESPONSE>SEND</RESPONSE>" not in text:
        return "prolog_not_send"
    if kind.startswith("inventory") and b"ACCOUNT_UPDATE</RESPONSE>" not in text:
        return "inventory_bad_response"
    return None


THREADS_PER_PROCESS = 8


def run_phase(
    url: str,
    kind: str,
    jobs: Sequence[tuple[int, bytes]],
    concurrency: int,
    *,
    timeout: float = 300.0,
) -> PhaseResult:
    """POST every ``(agent index, body)`` of ``jobs`` with ``concurrency`` clients."""
    processes = max(1, concurrency // THREADS_PER_PROCESS)
    if processes == 1:
        return _run_threads(url, kind, jobs, concurrency, timeout)
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[tuple[int, float, list[float], int, list[int], dict[str, int], list[str]]]
    queue = context.Queue()
    start = context.Event()

    def child(part: int) -> None:
        start.wait()
        share = jobs[part::processes]
        done = _run_threads(url, kind, share, concurrency // processes, timeout)
        queue.put(
            (part, done.wall, done.latencies, done.ok, done.acknowledged, dict(done.errors), done.samples)
        )

    children = [context.Process(target=child, args=(part,), daemon=True) for part in range(processes)]
    for process in children:
        process.start()
    started = time.perf_counter()
    start.set()
    result = PhaseResult(kind, concurrency, len(jobs))
    for _ in children:
        _part, _wall, latencies, ok, acknowledged, errors, samples = queue.get(timeout=timeout * 10)
        result.latencies.extend(latencies)
        result.ok += ok
        result.acknowledged.extend(acknowledged)
        result.errors.update(errors)
        result.samples.extend(samples[: max(0, 20 - len(result.samples))])
    result.wall = time.perf_counter() - started
    for process in children:
        process.join()
    return result


def _run_threads(
    url: str,
    kind: str,
    jobs: Sequence[tuple[int, bytes]],
    concurrency: int,
    timeout: float,
) -> PhaseResult:
    """POST every ``(agent index, body)`` of ``jobs`` with ``concurrency`` threads."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = parts.path or "/ocsinventory"
    result = PhaseResult(kind, concurrency, len(jobs))
    lock = threading.Lock()
    position = 0

    def worker() -> None:
        nonlocal position
        while True:
            with lock:
                if position >= len(jobs):
                    return
                index, body = jobs[position]
                position += 1
            started = time.perf_counter()
            error: str | None = None
            detail = ""
            try:
                status, payload = post(host, port, path, body, timeout)
                if status != 200:
                    error = f"http_{status}"
                    detail = payload[:200].decode("utf-8", "replace").strip()
                else:
                    error = _check_reply(kind, payload)
            except (OSError, ReplyError, ValueError) as exc:
                error = f"exc_{type(exc).__name__}"
                detail = str(exc)[:200]
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies.append(elapsed)
                if error is None:
                    result.ok += 1
                    result.acknowledged.append(index)
                else:
                    result.errors[error] += 1
                    if len(result.samples) < 20:
                        result.samples.append(f"{error}: {detail}" if detail else error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - started
    return result


def wait_http(url: str, *, expect: int = 400, deadline: float = 120.0) -> bool:
    """Wait until a GET on the agent endpoint answers ``expect`` (OCS and Ocelot: 400)."""
    parts = urlsplit(url)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
            try:
                conn.request("GET", parts.path or "/")
                status = conn.getresponse().status
            finally:
                conn.close()
            if status == expect:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    return False
