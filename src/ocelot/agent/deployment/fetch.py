"""Downloads over HTTP(S): the info file (always https, protocol.md §4.4) and fragments.

A download goes to a temporary file beside its target, is fsynced, checked by the caller
and only then renamed into place, so a crash, a dropped connection or a full disk never
leaves a partial fragment under its final name. TLS is verified against the agent's CA
(``--ca`` or the vardir's ``cacert.pem``) unless ``--ssl 0``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ocelot.agent.client import USER_AGENT

CHUNK = 1024 * 1024
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class FetchError(Exception):
    """The file could not be downloaded now; the engine retries later."""


class OutOfSpaceError(Exception):
    """The disk filled up while writing."""


def is_out_of_space(exc: OSError) -> bool:
    return exc.errno in NO_SPACE


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
        self, url: str, target: Path, limit: int, free_bytes: int | None = None, *, resume: bool = False
    ) -> Fetched:
        """Stream ``url`` to a temporary file beside ``target`` (fsynced, not yet renamed).

        With ``resume`` (the caller checks the result against a SHA-256 it knows), a
        temporary file left by a cut download is continued with an HTTP range request and
        kept when this download is cut too; a server that ignores ranges sends it all again.
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
        try:
            length = response.getheader("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            if expected is not None and offset + expected > limit:
                raise FetchError(f"{url}: {offset + expected} bytes is more than the {limit} expected")
            if expected is not None and free_bytes is not None and expected > free_bytes:
                raise OutOfSpaceError(f"{url}: {expected} bytes do not fit on the disk")
            digest = hashlib.sha256()
            if offset:
                with open(temporary, "rb") as done:
                    while chunk := done.read(CHUNK):
                        digest.update(chunk)
            size = offset
            keep = resume
            with open(temporary, "ab" if offset else "wb") as out:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        keep = False
                        raise FetchError(f"{url}: more than the {limit} bytes expected")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
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
