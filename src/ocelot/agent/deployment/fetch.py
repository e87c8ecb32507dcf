"""Downloads over HTTP(S): the info file (always https, protocol.md §4.4) and fragments.

A download goes to a temporary file beside its target, is checked by the caller and only
then renamed into place, so a crash, a dropped connection or a full disk never leaves a
partial fragment under its final name. Its SHA-256 (and the whole-archive digests the
caller passes) are computed on the bytes as they arrive, in worker threads. TLS is
verified against the agent's CA (``--ca`` or the vardir's ``cacert.pem``) unless
``--ssl 0``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import io
import os
import ssl
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ocelot.agent.client import USER_AGENT
from ocelot.agent.deployment.digests import Hashers

CHUNK = 1024 * 1024
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class FetchError(Exception):
    """The file could not be downloaded now; the engine retries later."""


class OutOfSpaceError(Exception):
    """The disk filled up while writing."""


def is_out_of_space(exc: OSError) -> bool:
    return exc.errno in NO_SPACE


def _write_all(out: io.RawIOBase, data: memoryview) -> None:
    while data:
        written = out.write(data)
        data = data[written or 0 :]


class _HashPipeline:
    """Blocks of a download hashed in worker threads while the next block is read.

    One single-thread worker per digest: each digest sees the blocks in order, the digests
    run beside each other and beside the socket (hashlib releases the GIL on large blocks;
    on this benchmark's 2 cores SHA-256 alone is ~375 MiB/s, more than the network).
    ``DEPTH`` blocks rotate: a block is refilled only once every digest has read it.
    """

    DEPTH = 3

    def __init__(self, consumers: list[Callable[[memoryview], object]]) -> None:
        self._consumers = consumers
        self._workers = [ThreadPoolExecutor(1, thread_name_prefix="fragment-digest") for _ in consumers]
        self._blocks = [memoryview(bytearray(CHUNK)) for _ in range(self.DEPTH)]
        self._pending: list[list[Future[object]]] = [[] for _ in range(self.DEPTH)]
        self._slot = 0

    def next_block(self) -> memoryview:
        """The next free block (waits until the digests are done with it)."""
        for future in self._pending[self._slot]:
            future.result()
        self._pending[self._slot] = []
        return self._blocks[self._slot]

    def submit(self, data: memoryview) -> None:
        """Hand the block :meth:`next_block` gave (or its first bytes) to every digest."""
        self._pending[self._slot] = [
            worker.submit(consume, data)
            for worker, consume in zip(self._workers, self._consumers, strict=True)
        ]
        self._slot = (self._slot + 1) % self.DEPTH

    def finish(self) -> None:
        """Wait until every digest has read every block."""
        for pending in self._pending:
            for future in pending:
                future.result()
            pending.clear()

    def close(self) -> None:
        for worker in self._workers:
            worker.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Fetched:
    """A downloaded temporary file, its size and SHA-256; ``resumed`` when a cut download was continued."""

    path: Path
    size: int
    sha256: str
    resumed: bool = False


class Fetcher:
    """GETs URLs with one TLS context; ``timeout`` bounds each socket operation."""

    def __init__(self, context: ssl.SSLContext | None, timeout: float = 60.0) -> None:
        self._context = context
        self._timeout = timeout

    def get_bytes(self, url: str, limit: int) -> bytes:
        """A small file (the info file) in memory, at most ``limit`` bytes."""
        connection, response = self._open(url)
        try:
            length = response.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise FetchError(f"{url}: {length} bytes is more than the {limit} allowed")
            data = response.read(limit + 1)
            if len(data) > limit:
                raise FetchError(f"{url}: more than the {limit} bytes allowed")
            return data
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
        finally:
            connection.close()

    def get_file(
        self,
        url: str,
        target: Path,
        limit: int,
        free_bytes: int | None = None,
        *,
        resume: bool = False,
        also: Hashers | None = None,
        durable: bool = True,
    ) -> Fetched:
        """Stream ``url`` to a temporary file beside ``target`` (not yet renamed).

        With ``resume`` (the caller checks the result against a SHA-256 it knows), a
        temporary file left by a cut download is continued with an HTTP range request and
        kept when this download is cut too; a server that ignores ranges sends it all again.
        ``also`` (the whole-archive digests, digests.py) is fed with every byte of the file
        in order, the kept part included. ``durable`` fsyncs the file before returning: the
        caller asks for it when nothing could tell a fragment a power cut emptied after its
        rename from a good one (no SHA-256 per fragment to check it again at the next run).
        """
        temporary = target.with_name(f".{target.name}.part")
        offset = 0
        if resume:
            with contextlib.suppress(OSError):
                offset = temporary.stat().st_size
            if offset >= limit:
                offset = 0
        connection, response = self._open(url, {"Range": f"bytes={offset}-"} if offset else {})
        if response.status != 206:
            offset = 0  # a whole file (200): start again
        elif not (response.getheader("Content-Range") or "").startswith(f"bytes {offset}-"):
            connection.close()
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise FetchError(f"{url}: the server answered another range than asked")
        keep = False
        digest = hashlib.sha256()
        pipeline = _HashPipeline([digest.update, *([also.update] if also is not None else [])])
        try:
            length = response.getheader("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            if expected is not None and offset + expected > limit:
                raise FetchError(f"{url}: {offset + expected} bytes is more than the {limit} expected")
            if expected is not None and free_bytes is not None and expected > free_bytes:
                raise OutOfSpaceError(f"{url}: {expected} bytes do not fit on the disk")
            if offset:
                with open(temporary, "rb", buffering=0) as done:
                    while count := done.readinto(block := pipeline.next_block()):
                        pipeline.submit(block[:count])
            size = offset
            keep = resume
            with open(temporary, "ab" if offset else "wb", buffering=0) as out:
                while True:
                    # Straight from the socket into a block the digests then read in their
                    # threads while the next block arrives: no copy in Python.
                    block = pipeline.next_block()
                    count = response.readinto(block)
                    if not count:
                        break
                    size += count
                    if size > limit:
                        keep = False
                        raise FetchError(f"{url}: more than the {limit} bytes expected")
                    _write_all(out, block[:count])
                    pipeline.submit(block[:count])
                pipeline.finish()
                if durable:
                    os.fsync(out.fileno())
            if expected is not None and size != offset + expected:
                raise FetchError(f"{url}: {size - offset} of {expected} bytes received")
            return Fetched(temporary, size, digest.hexdigest(), resumed=offset > 0)
        except (OSError, http.client.HTTPException) as exc:
            # A dropped connection mid-body is IncompleteRead (an HTTPException), not an OSError.
            full = isinstance(exc, OSError) and is_out_of_space(exc)
            if full or not keep:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            if isinstance(exc, OSError) and full:
                raise OutOfSpaceError(f"{target}: {exc.strerror}") from exc
            raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
        except FetchError:
            if not keep:
                with contextlib.suppress(OSError):
                    temporary.unlink()
            raise
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        finally:
            pipeline.close()
            connection.close()

    def _open(
        self, url: str, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not a download URL: {url}")
        connection: http.client.HTTPConnection
        try:
            if parts.scheme == "https":
                connection = http.client.HTTPSConnection(
                    parts.hostname, parts.port, timeout=self._timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self._timeout)
        except ValueError as exc:  # a bad port
            raise FetchError(f"not a download URL: {url}") from exc
        try:
            connection.request(
                "GET", parts.path or "/", headers={"User-Agent": USER_AGENT, **(headers or {})}
            )
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            connection.close()
            raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
        if response.status != 200 and not (response.status == 206 and headers and "Range" in headers):
            connection.close()
            raise FetchError(f"{url}: HTTP {response.status} {response.reason}")
        return connection, response
