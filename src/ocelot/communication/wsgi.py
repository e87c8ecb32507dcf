"""The agent paths in front of Django: ``/ocsinventory`` and package fragments answered
straight from WSGI.

Agents are the bulk of the traffic (a PROLOG from every computer every PROLOG_FREQ hours)
and need none of the console's middleware: sessions, CSRF, locale, authentication,
messages, static files. Going through them cost about a third of a PROLOG
(bench/README.md, "Where the time goes"). Everything else goes to Django unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.db import DatabaseError, connections

from ocelot.communication.downloads import CHUNK, fragment_answer
from ocelot.communication.exchange import Answer, answer_message

log = logging.getLogger("ocelot.communication")
ENDPOINT_PATHS = frozenset({"/ocsinventory", "/ocsinventory/"})

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _release_connections() -> None:
    """What Django's request_finished signal does for a view, without the next request's
    health check: a connection that is too old or failed in this request (its own health
    check then) is closed; one that worked stays marked healthy, which spares every agent
    request on PostgreSQL and MariaDB a ``SELECT 1`` round trip. A database that went away
    while the connection was idle costs one 503, and the connection is replaced.
    """
    for connection in connections.all(initialized_only=True):
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            # MySQLdb cannot even say whether a dead connection is in autocommit.
            with contextlib.suppress(DatabaseError):
                connection.close()
            connection.connection = None
            continue
        if connection.connection is not None and not connection.errors_occurred:
            connection.health_check_done = True  # type: ignore[attr-defined]


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def _fragment(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes] | None:
    """A package fragment served without Django (downloads.fragment_answer), or None."""

    def header(name: str) -> str | None:
        return environ.get("HTTP_" + name.upper().replace("-", "_"))

    answer = fragment_answer(environ["PATH_INFO"], environ.get("REQUEST_METHOD", ""), header)
    if answer is None:
        return None
    start_response(_status_line(answer.status), list(answer.headers.items()))
    file_wrapper = environ.get("wsgi.file_wrapper")
    if file_wrapper is not None and answer.handle is not None and answer.status == 200:
        # gunicorn sends a whole file with sendfile(2) (over TLS it reads it in CHUNK blocks);
        # a range keeps the bounded blocks below, the wrapper would read on to the end.
        return file_wrapper(answer.handle, CHUNK)  # type: ignore[no-any-return]
    return answer.body()


class AgentEndpoint:
    """WSGI middleware: the agent endpoint itself, every other path to ``app``."""

    def __init__(self, app: WSGIApp, observe: Callable[[Answer, float], None] | None = None) -> None:
        self.app = app
        # The server's metrics (server/metrics.py): called with each answer and its duration.
        self.observe = observe

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in ENDPOINT_PATHS:
            if path.startswith("/download/"):
                fragment = _fragment(environ, start_response)
                if fragment is not None:
                    return fragment
            return self.app(environ, start_response)
        status, headers, body = self.answer(
            environ.get("REQUEST_METHOD", ""),
            environ["wsgi.input"].read,
            content_length=environ.get("CONTENT_LENGTH"),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            remote_addr=environ.get("REMOTE_ADDR", ""),
            forwarded_for=environ.get("HTTP_X_FORWARDED_FOR"),
        )
        start_response(_status_line(status), headers)
        return [body]

    def answer(
        self,
        method: str,
        read: Callable[[int], bytes],
        *,
        content_length: str | None,
        user_agent: str,
        remote_addr: str,
        forwarded_for: str | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request to the agent endpoint: status, headers and body. Called by the WSGI
        middleware above and, under granian, straight from the RSGI listener
        (server/rsgi.py), which builds no WSGI environ for agents."""
        started = time.perf_counter()
        try:
            answer = answer_message(
                method,
                read,
                content_length=content_length,
                user_agent=user_agent,
                remote_addr=remote_addr,
                forwarded_for=forwarded_for,
            )
        except Exception:
            # A bug, not bad input: logged here, and no stack trace to the agent.
            log.exception("unexpected error on the agent endpoint")
            answer = Answer(500, b"internal error\n", "text/plain; charset=utf-8")
        finally:
            _release_connections()
        if self.observe is not None:
            self.observe(answer, time.perf_counter() - started)
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            ("X-Content-Type-Options", "nosniff"),
            *answer.headers.items(),
        ]
        return answer.status, headers, answer.body
