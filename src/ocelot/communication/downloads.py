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
from collections.abc import Iterator
from typing import BinaryIO

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from ocelot.deployment.storage import default_store

CHUNK = 256 * 1024
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


def _serve(request: HttpRequest, package_id: str, name: str) -> HttpResponseBase:
    path = default_store().package_dir(int(package_id)) / name
    try:
        # O_NOFOLLOW: a link planted in the tree is never followed (security.md S15).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return _text(404, "no such package file")
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        return _text(404, "no such package file")
    size, modified = info.st_size, int(info.st_mtime)
    headers = {
        "Last-Modified": http_date(modified),
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if since is not None and modified <= since and "Range" not in request.headers:
        handle.close()
        unchanged = HttpResponse(status=304)
        for key, value in headers.items():
            unchanged[key] = value
        return unchanged
    first, last, status = 0, size - 1, 200
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if wanted and (if_range is None or parse_http_date_safe(if_range) == modified):
        chosen = _byte_range(wanted, size)
        if chosen is False:
            handle.close()
            refused = _text(416, "range not satisfiable")
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        if isinstance(chosen, tuple):
            first, last = chosen
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = max(0, last - first + 1)
    handle.seek(first)
    content_type = "application/xml" if name == "info" else "application/octet-stream"
    response: HttpResponseBase
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(status=status, content_type=content_type)
    else:
        response = StreamingHttpResponse(_chunks(handle, length), status=status, content_type=content_type)
    for key, value in headers.items():
        response[key] = value
    response["Content-Length"] = str(length)
    return response


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
