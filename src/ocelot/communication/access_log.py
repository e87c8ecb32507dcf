"""The access log line every listener of ``ocelot server`` writes: ``addr "METHOD path HTTP/v" status 1.2ms``.

Written by our own code, one line per request on standard output (``ocelot server`` copies
it into server.log): by the RSGI application of the granian listeners (server/rsgi.py) and
by the fragment listener (fragment_listener.py), in gunicorn's shape (cli/server.py).
"""

from __future__ import annotations


def _printable(text: str) -> str:
    # A path is %-decoded: a %0A must not start a forged line in the log.
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def access_line(address: str, request: str, status: int, seconds: float) -> str:
    """One request's line; ``request`` is ``METHOD path HTTP/v``, escaped here when needed."""
    return f'{address} "{_printable(request)}" {status} {seconds * 1000:.1f}ms\n'
