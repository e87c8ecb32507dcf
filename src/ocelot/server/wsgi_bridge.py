"""The WSGI application called from granian's RSGI interface, in a pool of threads.

``ocelot server`` runs its listeners as RSGI applications so that package fragments go out
from Rust (communication/rsgi.py). Every other request (the agent endpoint, agent files,
``/healthz``, ``/metrics``, Django) goes to the same WSGI application as before
(server/wsgi.py), unchanged, through this bridge:

* the environ is built from the RSGI scope as granian's own WSGI interface builds it
  (method, path decoded then given as latin-1 text per PEP 3333, query string, headers,
  client and server addresses, scheme); header names holding ``_`` are dropped, so that
  ``X_Forwarded_For`` cannot pose as ``X-Forwarded-For`` (gunicorn does the same);
* the body: up to ``PREFETCH`` bytes declared by ``Content-Length`` (every PROLOG, most
  inventories) are received before the thread starts; a larger or chunked body is read
  from the connection as the application asks for it (``wsgi.input``), so the limits of
  the application hold as before (the agent endpoint reads at most 16 MiB, uploads stream
  to disk);
* the application runs in one of ``threads`` threads per worker (OCELOT_THREADS, as the
  blocking threads of granian's WSGI interface were), the whole request in one thread, so
  that Django's per-thread database connections and ``request_finished`` stay together;
* a list answer goes back in one piece; an iterator is streamed chunk by chunk;
* an exception out of the application is logged and answered with a bare 500: no stack
  trace to the client (the applications answer bad input with a 4xx themselves).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("ocelot.server")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
PREFETCH = 1024 * 1024
_INTERNAL_ERROR = (500, [("Content-Type", "text/plain; charset=utf-8")], b"internal error\n")

_BASE_ENVIRON: dict[str, Any] = {
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "granian",
    "wsgi.errors": sys.stderr,
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
}


def _split_address(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def wsgi_environ(scope: Any, body: Any) -> dict[str, Any]:
    """The WSGI environ of the RSGI ``scope``, reading its body from ``body``."""
    server_host, server_port = _split_address(scope.server)
    client_host, client_port = _split_address(scope.client)
    environ = dict(_BASE_ENVIRON)
    environ.update(
        {
            "REQUEST_METHOD": scope.method,
            # granian decoded the path's %-escapes as UTF-8; WSGI wants its bytes as latin-1.
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": "HTTP/" + scope.http_version,
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": client_port,
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": body,
        }
    )
    for name, value in scope.headers.items():
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
        else:
            environ[key] = value
    return environ


class StreamedBody(io.RawIOBase):
    """``wsgi.input`` for a body still arriving: a read the pending bytes cannot satisfy
    asks the event loop, from the application's thread, for the chunks it lacks (one trip
    per read, not per chunk: TLS brings 16 KiB at a time)."""

    def __init__(self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._chunks = chunks
        self._loop = loop
        self._pending = b""
        self._ended = False

    async def _fill(self, wanted: int) -> list[bytes]:
        """Chunks as they arrive, until ``wanted`` bytes or the end (an empty list)."""
        chunks: list[bytes] = []
        size = 0
        while size < wanted:
            try:
                chunk = bytes(await self._chunks.__anext__())
            except StopAsyncIteration:
                self._ended = True
                break
            chunks.append(chunk)
            size += len(chunk)
        return chunks

    def _receive(self, wanted: int) -> bool:
        """Add at least ``wanted`` more bytes to what is pending (one trip to the event
        loop, however many chunks that takes); False once the body has ended."""
        if self._ended:
            return False
        chunks = asyncio.run_coroutine_threadsafe(self._fill(wanted), self._loop).result()
        self._pending += b"".join(chunks)
        return bool(chunks)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._receive(sys.maxsize):
                pass
            size = len(self._pending)
        elif len(self._pending) < size:
            self._receive(size - len(self._pending))
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        while b"\n" not in self._pending and (size is None or size < 0 or len(self._pending) < size):
            if not self._receive(1):
                break
        end = self._pending.find(b"\n") + 1 or len(self._pending)
        if size is not None and size >= 0:
            end = min(end, size)
        line, self._pending = self._pending[:end], self._pending[end:]
        return line


async def request_body(scope: Any, proto: Any) -> Any:
    """The request body as a file: received already when small and of declared length,
    else read from the connection as the application asks (:class:`StreamedBody`)."""
    declared = scope.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) <= PREFETCH:
        # hyper delivers exactly Content-Length bytes: this cannot hold more than PREFETCH.
        return io.BytesIO(await proto()) if int(declared) else io.BytesIO(b"")
    if declared is None and "transfer-encoding" not in scope.headers:
        return io.BytesIO(b"")
    return StreamedBody(proto.__aiter__(), asyncio.get_running_loop())


class WsgiBridge:
    """Calls ``app`` for an RSGI request in a thread of its pool, and sends the answer."""

    def __init__(self, app: WSGIApp, threads: int) -> None:
        self.app = app
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None

    def executor(self) -> ThreadPoolExecutor:
        # Made in the worker process at its first request, not where the module was imported.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ocelot-wsgi")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    async def __call__(self, scope: Any, proto: Any) -> int:
        """Answer the request with the WSGI application; the status sent."""
        loop = asyncio.get_running_loop()
        environ = wsgi_environ(scope, await request_body(scope, proto))
        whole = await loop.run_in_executor(self.executor(), self._run, environ, proto, loop)
        if whole is None:
            return int(environ["ocelot.status"])
        status, headers, content = whole
        proto.response_bytes(status, headers, content)
        return status

    def _run(
        self, environ: dict[str, Any], proto: Any, loop: asyncio.AbstractEventLoop
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The application's answer in one piece, or None once it was streamed."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and streaming:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]), [(str(k), str(v)) for k, v in headers]]
            return written.append

        streaming = False
        request = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        try:
            result = self.app(environ, start_response)
        except Exception:
            log.exception("unexpected error answering %s", request)
            return _INTERNAL_ERROR
        try:
            if isinstance(result, list | tuple):
                return started[0], started[1], b"".join([*written, *result])
            chunks = iter(result)
            # The first non-empty chunk: start_response may come as late as that (PEP 3333).
            first = next((chunk for chunk in chunks if chunk), None)
            if first is None:
                return started[0], started[1], b"".join(written)
            streaming = True
            environ["ocelot.status"] = started[0]
            transport = asyncio.run_coroutine_threadsafe(_open_stream(proto, *started), loop).result()
            for chunk in (b"".join(written), first) if written else (first,):
                asyncio.run_coroutine_threadsafe(_send(transport, chunk), loop).result()
            for chunk in chunks:
                if chunk:
                    asyncio.run_coroutine_threadsafe(_send(transport, chunk), loop).result()
            return None
        except Exception as error:
            if not streaming:
                log.exception("unexpected error answering %s", request)
                return _INTERNAL_ERROR
            # The client went away, or the application failed half-way: the answer stops there.
            log.info("the answer to %s was cut short: %r", request, error)
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


async def _open_stream(proto: Any, status: int, headers: list[tuple[str, str]]) -> Any:
    return proto.response_stream(status, headers)


async def _send(transport: Any, chunk: bytes) -> None:
    await transport.send_bytes(bytes(chunk))
