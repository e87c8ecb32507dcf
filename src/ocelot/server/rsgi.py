"""The RSGI application granian runs for ``ocelot server`` (``--interface rsgi``).

Package fragments are answered from Rust (communication/rsgi.py): granian sends the file,
no Python thread touches its bytes. The agent endpoint is called in OCELOT_THREADS
threads per worker of its own, without a WSGI environ (communication/wsgi.py,
``AgentEndpoint.answer``), and those threads send its replies (server/answer_threads.py);
everything else goes to the WSGI application of server/wsgi.py, unchanged, in a pool of
as many threads (server/wsgi_bridge.py). gunicorn (``OCELOT_ENGINE=gunicorn``) runs that
WSGI application directly, fragments included.

The access log is written here, one line per request on standard output (``ocelot
server`` copies it into server.log), in the format of granian's (cli/server.py,
ACCESS_LOG): granian's own RSGI access log runs on the event loop through Python's logging
and cost about a third of a trivial request there (60 of 160-220 us of CPU, measured).
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from typing import Any

from django.conf import settings

# First: importing the WSGI application sets Django up, which the modules below need.
from ocelot.server.wsgi import agent_endpoint
from ocelot.server.wsgi import application as wsgi_application

# isort: split
from ocelot.communication.access_log import access_line as format_access_line
from ocelot.communication.open_fragments import SWEEP_SECONDS, descriptors_reachable
from ocelot.communication.rsgi import FragmentSender
from ocelot.communication.wsgi import ENDPOINT_PATHS, AgentEndpoint
from ocelot.server.answer_threads import AnswerThreads
from ocelot.server.wsgi_bridge import WSGIApp, WsgiBridge, request_body

_INTERNAL_ERROR = 500


def access_line(scope: Any, status: int, seconds: float) -> str:
    """The access log line of one request (communication/access_log.py)."""
    request = f"{scope.method} {scope.path} HTTP/{scope.http_version}"
    return format_access_line(scope.client.rpartition(":")[0], request, status, seconds)


class Listener:
    """One listener's application: fragments from Rust, the rest to ``app`` in threads."""

    def __init__(self, app: WSGIApp, agent: AgentEndpoint, threads: int) -> None:
        self.bridge = WsgiBridge(app, threads)
        self.agent = agent
        self.answers = AnswerThreads(threads)
        # Without /proc (not Linux), fragments are served by the WSGI fast path in Python.
        self.fragments = FragmentSender() if descriptors_reachable() else None
        self._timer: asyncio.TimerHandle | None = None

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.fragments is None:
            return
        files = self.fragments.files

        def sweep() -> None:
            # A deleted package's files are let go even when no request comes.
            files.sweep()
            self._timer = loop.call_later(SWEEP_SECONDS, sweep)

        self._timer = loop.call_later(SWEEP_SECONDS, sweep)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        # The slots stay open until the process exits: a response still in flight may open one.
        self.bridge.close()
        self.answers.close()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        started = time.perf_counter()
        status: int | None = _INTERNAL_ERROR
        try:
            status = self.fragments.answer(scope, proto) if self.fragments is not None else None
            if status is None:
                if scope.path in ENDPOINT_PATHS:
                    status = await self._agent(scope, proto)
                else:
                    status = await self.bridge(scope, proto)
        finally:
            line = access_line(scope, status or _INTERNAL_ERROR, time.perf_counter() - started)
            os.write(1, line.encode("utf-8", "replace"))

    async def _agent(self, scope: Any, proto: Any) -> int:
        headers = scope.headers
        body = await request_body(scope, proto)
        forwarded = None
        if "x-forwarded-for" in headers:
            forwarded = ",".join(value for name, value in headers.items() if name == "x-forwarded-for")
        call = functools.partial(
            self.agent.answer,
            scope.method,
            body.read,
            content_length=headers.get("content-length"),
            user_agent=headers.get("user-agent", ""),
            remote_addr=scope.client.rpartition(":")[0].strip("[]"),
            forwarded_for=forwarded,
        )
        return await self.answers.answer(call, proto)


application = Listener(wsgi_application, agent_endpoint, settings.CONFIG.threads)
