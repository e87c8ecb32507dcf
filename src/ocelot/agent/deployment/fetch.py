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
    """A downloaded temporary file, its size and SHA-256."""

    path: Path
    size: int
    sha256: str


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

    def get_file(self, url: str, target: Path, limit: int, free_bytes: int | None = None) -> Fetched:
        """Stream ``url`` to a temporary file beside ``target`` (fsynced, not yet renamed)."""
        connection, response = self._open(url)
        temporary = target.with_name(f".{target.name}.part")
        try:
            length = response.getheader("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            if expected is not None and expected > limit:
                raise FetchError(f"{url}: {expected} bytes is more than the {limit} expected")
            if expected is not None and free_bytes is not None and expected > free_bytes:
                raise OutOfSpaceError(f"{url}: {expected} bytes do not fit on the disk")
            digest = hashlib.sha256()
            size = 0
            with open(temporary, "wb") as out:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(f"{url}: more than the {limit} bytes expected")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if expected is not None and size != expected:
                raise FetchError(f"{url}: {size} of {expected} bytes received")
            return Fetched(temporary, size, digest.hexdigest())
        except (OSError, http.client.HTTPException) as exc:
            # A dropped connection mid-body is IncompleteRead (an HTTPException), not an OSError.
            with contextlib.suppress(OSError):
                temporary.unlink()
            if isinstance(exc, OSError) and is_out_of_space(exc):
                raise OutOfSpaceError(f"{target}: {exc.strerror}") from exc
            raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        finally:
            connection.close()

    def _open(self, url: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
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
            connection.request("GET", parts.path or "/", headers={"User-Agent": USER_AGENT})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            connection.close()
            raise FetchError(f"{url}: {exc or type(exc).__name__}") from exc
        if response.status != 200:
            connection.close()
            raise FetchError(f"{url}: HTTP {response.status} {response.reason}")
        return connection, response
