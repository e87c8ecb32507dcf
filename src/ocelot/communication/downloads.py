"""Package files for agents on the embedded server: ``/download/<ID>/info`` and fragments.

* ``info`` only over HTTPS: agents always fetch it so (protocol.md §4.4) and it is what
  authenticates the deployment server (seeds 002); asked over plain HTTP it is refused.
* fragments ``<ID>-<n>`` over HTTP, and over HTTPS too (packages built with PROTO=HTTPS).
* ``Range: bytes=`` requests (one range) answer 206, or 416 when unsatisfiable;
  ``If-Modified-Since`` answers 304 (the Unix agent's LWP ``mirror`` sends it).

Only names of that exact shape are served, from the published directory
(``packages/download``, deployment.storage): nothing else under it, no other path, no
symbolic link. granian's own static serving was measured and not used: it ignores Range
(always 200 with the whole file) and cannot keep ``info`` off the HTTP listener.
In production nginx serves the same tree (docs/deployment.md).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from ocelot.deployment.storage import default_store

# granian moved 64 KiB blocks about twice as fast as one 1 MiB block or 256 KiB ones, 64
# clients on a 1 MiB fragment (bench/README.md, deployment).
CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _text(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            block = handle.read(min(CHUNK, length))
            if not block:
                return
            length -= len(block)
            yield block
    finally:
        handle.close()


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of one ``bytes=`` range; None to ignore the header; False if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file, as RFC 9110 allows
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # invalid: ignored
    if first >= size:
        return False
    return first, min(last, size - 1)


@dataclass
class FileAnswer:
    """What a GET or HEAD of one package file answers, independent of the web framework."""

    status: int
    headers: dict[str, str]
    handle: BinaryIO | None = None
    length: int = 0
    message: str = ""

    def body(self) -> Iterable[bytes]:
        """The bytes to send, in CHUNK blocks."""
        if self.handle is None:
            return [self.message.encode() + b"\n"] if self.message else []
        return _chunks(self.handle, self.length)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _refusal(status: int, message: str) -> FileAnswer:
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    return FileAnswer(status, headers, message=message)


Header = Callable[[str], "str | None"]


def answer_file(package_id: int, name: str, *, method: str, header: Header) -> FileAnswer:
    """The answer for ``/download/<package_id>/<name>``; ``header(name)`` reads a request header."""
    path = default_store().package_dir(package_id) / name
    try:
        # O_NOFOLLOW: a link planted in the tree is never followed (security.md S15).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return _refusal(404, "no such package file")
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        return _refusal(404, "no such package file")
    size, modified = info.st_size, int(info.st_mtime)
    headers = {
        "Last-Modified": http_date(modified),
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    wanted = header("Range")
    since = parse_http_date_safe(header("If-Modified-Since") or "")
    if since is not None and modified <= since and not wanted:
        handle.close()
        return FileAnswer(304, headers)
    first, last, status = 0, size - 1, 200
    if_range = header("If-Range")
    if wanted and (if_range is None or parse_http_date_safe(if_range) == modified):
        chosen = _byte_range(wanted, size)
        if chosen is False:
            handle.close()
            refused = _refusal(416, "range not satisfiable")
            refused.headers["Content-Range"] = f"bytes */{size}"
            return refused
        if isinstance(chosen, tuple):
            first, last = chosen
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = max(0, last - first + 1)
    headers["Content-Type"] = "application/xml" if name == "info" else "application/octet-stream"
    headers["Content-Length"] = str(length)
    if method == "HEAD":
        handle.close()
        return FileAnswer(status, headers)
    handle.seek(first)
    return FileAnswer(status, headers, handle, length)


def _serve(request: HttpRequest, package_id: str, name: str) -> HttpResponseBase:
    answer = answer_file(int(package_id), name, method=request.method or "GET", header=request.headers.get)
    response: HttpResponseBase
    if answer.message:
        response = HttpResponse(answer.message + "\n", status=answer.status)
    elif answer.handle is None:
        response = HttpResponse(status=answer.status)
    else:
        handle, length = answer.handle, answer.length
        response = StreamingHttpResponse(_chunks(handle, length), status=answer.status)
    for key, value in answer.headers.items():
        response[key] = value
    return response


# Fragments the WSGI fast path serves (communication/wsgi.py): the same shape as urls.py.
FRAGMENT_PATH = re.compile(r"^/download/([1-9][0-9]{0,17})/([0-9]{1,18})-([1-9][0-9]{0,5})$")


def fragment_answer(path: str, method: str, header: Header) -> FileAnswer | None:
    """A fragment's answer for the WSGI fast path, or None when ``path`` is not a fragment
    (Django then answers: the info file, 404s, anything else). Fragments are most of the
    bytes a deployment moves: Django's middleware and streaming cost most of the time of
    serving one (bench/README.md, deployment)."""
    match = FRAGMENT_PATH.match(path)
    if match is None or match.group(1) != match.group(2):
        return None
    if method not in ("GET", "HEAD"):
        refused = _refusal(405, "only GET and HEAD")
        refused.headers["Allow"] = "GET, HEAD"
        return refused
    package_id, number = match.group(1), match.group(3)
    return answer_file(int(package_id), f"{package_id}-{number}", method=method, header=header)


@require_safe
def info_file(request: HttpRequest, package_id: str) -> HttpResponseBase:
    """GET /download/<ID>/info, over HTTPS only (protocol.md §4.4, §8.1)."""
    if not request.is_secure():
        return _text(403, "package info files are served over HTTPS only")
    return _serve(request, package_id, "info")


@require_safe
def fragment(request: HttpRequest, package_id: str, fragment_id: str, number: str) -> HttpResponseBase:
    """GET /download/<ID>/<ID>-<n>, over HTTP (and HTTPS for PROTO=HTTPS packages)."""
    if fragment_id != package_id or number.startswith("0"):
        return _text(404, "no such package file")
    return _serve(request, package_id, f"{package_id}-{number}")
