"""``/healthz`` and ``/metrics`` answered in front of Django (issue 7).

They are for load balancers and Prometheus, which talk plain HTTP to each process: they
must not be redirected to HTTPS like console pages, nor pay for sessions and CSRF. Both
listeners answer them.

``/healthz`` is open to anyone and shows nothing secret. ``/metrics`` answers clients whose
address is in ``OCELOT_METRICS_ALLOW`` (default: loopback; the address behind a trusted
proxy counts, as for agents) or that present ``Authorization: Bearer <token>`` where the
token is ``OCELOT_METRICS_TOKEN`` or a REST API token of an active administrator
(``ocelot tokens create admin --name prometheus``); anyone else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, connections

from ocelot.accounts.roles import is_administrator
from ocelot.accounts.tokens import authenticate_token
from ocelot.protocol.client_address import client_address
from ocelot.server.config import Config
from ocelot.server.health import health_answer
from ocelot.server.metrics import render

log = logging.getLogger("ocelot.server.operations")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def metrics_allowed(config: Config, environ: dict[str, Any]) -> bool:
    address = client_address(
        environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"), config.trusted_proxies
    )
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and any(ip in network for network in config.metrics_allow):
        return True
    scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return False
    if config.metrics_token and hmac.compare_digest(given.encode(), config.metrics_token.encode()):
        return True
    try:
        return is_administrator(authenticate_token(given))
    except DatabaseError:
        return False


def _release_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            connection.close()


class OperationsEndpoints:
    """WSGI middleware: ``/healthz`` and ``/metrics``, every other path to ``app``."""

    def __init__(self, app: WSGIApp, config: Config) -> None:
        self.app = app
        self.config = config

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path not in ("/healthz", "/metrics"):
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self._send(start_response, 405, b"GET only\n", "text/plain; charset=utf-8")
        if path == "/healthz":
            try:
                status, body = health_answer(self.config)
            finally:
                _release_connections()
            return self._send(start_response, status, body, "application/json")
        if not metrics_allowed(self.config, environ):
            return self._send(start_response, 403, b"forbidden\n", "text/plain; charset=utf-8")
        try:
            text = render(self.config)
        except DatabaseError:
            log.exception("metrics: the database did not answer")
            return self._send(start_response, 503, b"database unavailable\n", "text/plain; charset=utf-8")
        finally:
            _release_connections()
        return self._send(start_response, 200, text.encode(), PROMETHEUS_TEXT)

    @staticmethod
    def _send(start_response: StartResponse, status: int, body: bytes, content_type: str) -> list[bytes]:
        phrases = {200: "OK", 403: "Forbidden", 405: "Method Not Allowed", 503: "Service Unavailable"}
        start_response(
            f"{status} {phrases[status]}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-cache"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [body]
