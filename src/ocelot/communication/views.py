"""The agent endpoint: read the body within limits, decode, call one domain function, encode.

Status codes follow protocol.md §1.5, except that nothing an agent sends can produce a 500:
bad input is a 4xx with a one-line reason, an unavailable database is a 503 with
Retry-After (security.md R1, R5).
"""

from __future__ import annotations

import logging
import random

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ocelot.deployment.agent_files import AgentFileUnavailableError, read_agent_file
from ocelot.deployment.results import record_result
from ocelot.inventory.contact import answer_contact
from ocelot.inventory.ingest import IngestError, store_inventory
from ocelot.inventory.network_notice import apply_network_notice
from ocelot.inventory.setting_values import global_values
from ocelot.protocol.client_address import client_address
from ocelot.protocol.codec import Framing, decode_body, encode_body
from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS
from ocelot.protocol.messages import (
    Contact,
    DeploymentResult,
    Inventory,
    NetworkNotice,
    UpdateQuery,
    no_update_reply,
    read_request,
)
from ocelot.protocol.useragent import is_agent
from ocelot.protocol.xmltree import parse_xml

log = logging.getLogger("ocelot.communication")
_READ_CHUNK = 64 * 1024


def _refuse(status: int, reason: str) -> HttpResponse:
    response = HttpResponse(reason + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def _read_body(request: HttpRequest) -> bytes:
    """Read at most the body limit, without trusting Content-Length (T02)."""
    limit = DEFAULT_LIMITS.max_body
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise TooLargeError("body_too_large", "the request body exceeds the size limit")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = request.read(_READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise TooLargeError("body_too_large", "the request body exceeds the size limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _reply(xml: bytes, framing: Framing) -> HttpResponse:
    response = HttpResponse(encode_body(xml, framing), content_type="application/x-compressed")
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """POST /ocsinventory: one agent message in, one reply out."""
    if request.method == "GET":
        return _refuse(400, "the agent endpoint takes POST requests")
    if request.method != "POST":
        return _refuse(403, "method not allowed")
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if not is_agent(user_agent):
        return _refuse(400, "unknown user agent")
    address = client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.CONFIG.trusted_proxies,  # type: ignore[misc]
    )
    try:
        body = _read_body(request)
        # Read once per request: decoding, contact and ingest all use these values.
        options = global_values()
        try_others = bool(options["COMPRESS_TRY_OTHERS"])
        xml, framing = decode_body(body, try_others=try_others)
        message = read_request(parse_xml(xml))
        if isinstance(message, Contact):
            return _reply(
                answer_contact(message.device_id, user_agent=user_agent, base=options).to_xml(), framing
            )
        if isinstance(message, Inventory):
            reply = store_inventory(message, source_ip=address, user_agent=user_agent, settings=options)
            return _reply(reply.to_xml(), framing)
        if isinstance(message, DeploymentResult):
            record_result(message.device_id, int(message.package_id), message.code)
            return HttpResponse(b"", content_type="application/x-compressed")
        if isinstance(message, NetworkNotice):
            apply_network_notice(message)
            return HttpResponse(b"", content_type="application/x-compressed")
        assert isinstance(message, UpdateQuery)
        return _reply(no_update_reply(), framing)
    except ProtocolError as exc:
        log.info("refused request from %s: %s (%s)", address, exc, exc.reason)
        return _refuse(exc.status, str(exc))
    except IngestError as exc:
        log.info("refused inventory from %s: %s", address, exc)
        response = _refuse(exc.status, str(exc))
        if exc.status == 503:
            # Retries exhausted: the agent must come back later, not at once (security.md T14).
            response["Retry-After"] = str(random.randint(30, 120))
        return response
    except DatabaseError:
        log.exception("database unavailable while answering %s", address)
        response = _refuse(503, "the server is busy, try again later")
        response["Retry-After"] = str(random.randint(30, 120))
        return response


def agent_file(request: HttpRequest, name: str) -> HttpResponse:
    """GET /ocsinventory/deploy/<name>: launcher files and the TAG label (option DEPLOY)."""
    try:
        content = read_agent_file(name)
    except AgentFileUnavailableError:
        return _refuse(404, "no such agent file")
    response = HttpResponse(content, content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "attachment"
    return response


def ca_certificate(request: HttpRequest) -> HttpResponse:
    """GET /cacert.pem: the CA agents use to verify this server (protocol.md §1.6)."""
    path = settings.CONFIG.public_dir / "cacert.pem"  # type: ignore[misc]
    if not path.exists():
        return _refuse(404, "no CA certificate yet")
    return HttpResponse(path.read_bytes(), content_type="application/x-pem-file")
