"""Package files for agents on the embedded server: ``/download/<ID>/info`` and fragments.

* ``info`` only over HTTPS: agents always fetch it so (protocol.md §4.4) and it is what
  authenticates the deployment server (seeds 002); asked over plain HTTP it is refused.
* fragments ``<ID>-<n>`` over HTTP, and over HTTPS too (packages built with PROTO=HTTPS).
* ``Range: bytes=`` requests (one range) answer 206, or 416 when unsatisfiable;
  ``If-Modified-Since`` answers 304 (the Unix agent's LWP ``mirror`` sends it).

Only names of that exact shape are served, from the published directory
(``packages/download``, deployment.storage): nothing else under it, no other path, no
symbolic link. The rules are here (:func:`plan_answer`); three doors send the bytes:

* granian (``ocelot server``'s default): fragments are answered on its RSGI interface and
  the file is sent from Rust (communication/rsgi.py, open_fragments.py);
* gunicorn, or any WSGI server: fragments are answered in front of Django
  (communication/wsgi.py), with ``sendfile`` where the server offers ``wsgi.file_wrapper``;
* Django's views below: the info file, and fragments reached through Django (tests).

granian's own static files (``--static-path-mount``) were measured and are not used: they
ignore Range (always 200 with the whole file) and cannot keep ``info`` off the HTTP
listener. In production nginx serves the same tree (docs/deployment.md).
"""

from __future__ import annotations

import functools
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

# Blocks of a file sent by Python: granian's WSGI interface moved 64 KiB blocks about twice
# as fast as one 1 MiB block or 256 KiB ones, 64 clients on a 1 MiB fragment
# (bench/README.md, deployment).
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
    # The bytes a 200 or 206 sends: from ``first``, ``length`` of them (none for HEAD).
    first: int = 0
    sends_body: bool = False

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


def missing() -> FileAnswer:
    """The 404 for a package file that is not there (or is a link, or not a regular file)."""
    return _refusal(404, "no such package file")


Header = Callable[[str], "str | None"]


# The same few dates over and over (a package's fragments are written together).
_http_date = functools.lru_cache(maxsize=256)(http_date)


def plan_answer(name: str, size: int, modified: int, *, method: str, header: Header) -> FileAnswer:
    """What GET or HEAD of a package file of ``size`` bytes last modified at ``modified``
    (epoch seconds) answers: status, headers, and which bytes (``first``, ``length``) when
    a body goes out. Both doors use it: Python sending the bytes (:func:`answer_file`) and
    granian sending them from Rust (communication/rsgi.py)."""
    headers = {
        "Last-Modified": _http_date(modified),
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    wanted = header("Range")
    since_text = header("If-Modified-Since")
    since = parse_http_date_safe(since_text) if since_text else None
    if since is not None and modified <= since and not wanted:
        return FileAnswer(304, headers)
    first, last, status = 0, size - 1, 200
    if_range = header("If-Range")
    if wanted and (if_range is None or parse_http_date_safe(if_range) == modified):
        chosen = _byte_range(wanted, size)
        if chosen is False:
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
    return FileAnswer(status, headers, first=first, length=length, sends_body=method != "HEAD")


def answer_file(package_id: int, name: str, *, method: str, header: Header) -> FileAnswer:
    """The answer for ``/download/<package_id>/<name>``, its bytes read by Python;
    ``header(name)`` reads a request header."""
    path = default_store().package_dir(package_id) / name
    try:
        # O_NOFOLLOW: a link planted in the tree is never followed (security.md S15).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return missing()
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        return missing()
    answer = plan_answer(name, info.st_size, int(info.st_mtime), method=method, header=header)
    if not answer.sends_body:
        handle.close()
        return answer
    handle.seek(answer.first)
    answer.handle = handle
    return answer


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


# Fragments answered in front of Django (communication/wsgi.py, communication/rsgi.py):
# the same shape as urls.py.
FRAGMENT_PATH = re.compile(r"^/download/([1-9][0-9]{0,17})/([0-9]{1,18})-([1-9][0-9]{0,5})$")


def fragment_file(path: str) -> tuple[int, str] | None:
    """The package id and file name a fragment's URL path names, or None when ``path`` is
    not a fragment (Django then answers: the info file, 404s, anything else)."""
    match = FRAGMENT_PATH.match(path)
    if match is None or match.group(1) != match.group(2):
        return None
    return int(match.group(1)), f"{match.group(1)}-{match.group(3)}"


def method_refusal(method: str) -> FileAnswer | None:
    """The 405 for a fragment asked with anything but GET or HEAD, else None."""
    if method in ("GET", "HEAD"):
        return None
    refused = _refusal(405, "only GET and HEAD")
    refused.headers["Allow"] = "GET, HEAD"
    return refused


def fragment_answer(path: str, method: str, header: Header) -> FileAnswer | None:
    """A fragment's answer for the WSGI fast path, or None when ``path`` is not a fragment.
    Fragments are most of the bytes a deployment moves: Django's middleware and streaming
    cost most of the time of serving one (bench/README.md, deployment)."""
    located = fragment_file(path)
    if located is None:
        return None
    refused = method_refusal(method)
    if refused is not None:
        return refused
    package_id, name = located
    return answer_file(package_id, name, method=method, header=header)


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
