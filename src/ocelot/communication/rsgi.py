"""Package fragments answered on granian's RSGI interface, their bytes sent from Rust.

``ocelot server`` runs its listeners as RSGI applications (server/rsgi.py). A request for
``/download/<ID>/<ID>-<n>`` is answered here with the rules of downloads.py (path shape,
GET and HEAD only, Range, If-Range, If-Modified-Since, the same headers), and granian
sends the file itself (``response_file``, ``response_file_range``): no Python thread, no
GIL and no 64 KiB blocks through Python per fragment. With 64 downloaders that took the
embedded server from 0.27-0.30x of nginx's ``sendfile`` to 0.39x; granian still copies
each block twice in user space where sendfile copies once (bench/README.md, deployment).

The file is checked and opened by us, and Rust is handed a descriptor path that cannot be
swapped for a link (open_fragments.py). Everything else, the info file included (HTTPS
only, downloads.info_file), goes on to the WSGI application.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ocelot.communication.downloads import FileAnswer, fragment_file, method_refusal, missing, plan_answer
from ocelot.communication.open_fragments import OpenFragments


def _send(proto: Any, answer: FileAnswer) -> None:
    headers = list(answer.headers.items())
    if answer.message:
        proto.response_bytes(answer.status, headers, answer.message.encode() + b"\n")
    else:
        proto.response_empty(answer.status, headers)


class FragmentSender:
    """Answers fragment requests on an RSGI protocol object; one per worker process."""

    def __init__(self, files: OpenFragments | None = None) -> None:
        self.files = files if files is not None else OpenFragments()
        self.download_dir = str(settings.CONFIG.package_dir / "download")

    def answer(self, scope: Any, proto: Any) -> int | None:
        """Answer ``scope`` if it asks for a fragment: the status sent; None, with nothing
        sent, otherwise."""
        located = fragment_file(scope.path)
        if located is None:
            return None
        method = scope.method
        refused = method_refusal(method)
        if refused is not None:
            _send(proto, refused)
            return refused.status
        package_id, name = located
        opened = self.files.open(f"{self.download_dir}/{package_id}/{name}")
        if opened is None:
            _send(proto, missing())
            return 404
        request_headers = scope.headers

        def header(key: str) -> str | None:
            value = request_headers.get(key.lower())
            return None if value is None else str(value)

        answer = plan_answer(name, opened.size, opened.modified, method=method, header=header)
        if not answer.sends_body:
            _send(proto, answer)
        elif answer.status == 206:
            # granian 2.8.7 sends [start, end) and the headers as given (Content-Range and
            # Content-Length are ours); the Range tests against a real server check the bytes.
            headers = list(answer.headers.items())
            proto.response_file_range(206, headers, opened.path, answer.first, answer.first + answer.length)
        else:
            proto.response_file(answer.status, list(answer.headers.items()), opened.path)
        return answer.status
