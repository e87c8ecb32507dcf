"""One agent message in, one answer out: the agent endpoint without any web framework.

Both doors to ``/ocsinventory`` call :func:`answer_message`: the Django view (tests, the
console's own server) and the WSGI fast path that ``ocelot server`` puts in front of Django
(``communication.wsgi``), which spares agents the console's middleware chain (sessions,
CSRF, locale, ...: about a third of a PROLOG's cost, bench/README.md).

Status codes follow protocol.md §1.5, except that nothing an agent sends can produce a 500:
bad input is a 4xx with a one-line reason, an unavailable database is a 503 with
Retry-After (security.md R1, R5).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError

from ocelot.deployment.results import record_result
from ocelot.inventory.contact import answer_contact
from ocelot.inventory.ingest import IngestError, store_inventory
from ocelot.inventory.network_notice import apply_network_notice
from ocelot.inventory.setting_values import agent_settings
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
    read_message,
)
from ocelot.protocol.reply_cache import encoded_contact_reply
from ocelot.protocol.useragent import is_agent

log = logging.getLogger("ocelot.communication")
READ_CHUNK = 64 * 1024
COMPRESSED = "application/x-compressed"


@dataclass
class Answer:
    """What goes back to the agent: status, body and headers."""

    status: int
    body: bytes
    content_type: str = COMPRESSED
    headers: dict[str, str] = field(default_factory=dict)
    # For the server's metrics: the QUERY answered and, for a refusal, why (a short word).
    query: str = ""
    reason: str = ""


def refusal(status: int, reason: str, code: str = "") -> Answer:
    return Answer(
        status,
        (reason + "\n").encode(),
        "text/plain; charset=utf-8",
        {"Cache-Control": "no-cache"},
        reason=code,
    )


def _busy() -> Answer:
    answer = refusal(503, "the server is busy, try again later")
    # The agent must come back later, not at once (security.md T14).
    answer.headers["Retry-After"] = str(random.randint(30, 120))
    return answer


def read_limited(read: Callable[[int], bytes], declared_length: str | None) -> bytes:
    """Read at most the body limit, without trusting Content-Length (T02)."""
    limit = DEFAULT_LIMITS.max_body
    try:
        declared = int(declared_length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise TooLargeError("body_too_large", "the request body exceeds the size limit")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise TooLargeError("body_too_large", "the request body exceeds the size limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _reply(xml: bytes, framing: Framing, query: str) -> Answer:
    return Answer(200, encode_body(xml, framing), headers={"Cache-Control": "no-cache"}, query=query)


def answer_message(
    method: str,
    read: Callable[[int], bytes],
    *,
    content_length: str | None,
    user_agent: str,
    remote_addr: str,
    forwarded_for: str | None,
) -> Answer:
    """POST /ocsinventory: check the request, read and decode it, call one domain function."""
    if method == "GET":
        return refusal(400, "the agent endpoint takes POST requests", "not_post")
    if method != "POST":
        return refusal(403, "method not allowed", "not_post")
    if not is_agent(user_agent):
        return refusal(400, "unknown user agent", "unknown_user_agent")
    address = client_address(remote_addr, forwarded_for, settings.CONFIG.trusted_proxies)  # type: ignore[misc]
    try:
        body = read_limited(read, content_length)
        # Decoding, contact and ingest all use these values (at most a second old).
        options = agent_settings()
        xml, framing = decode_body(body, try_others=bool(options["COMPRESS_TRY_OTHERS"]))
        message = read_message(xml)
        if isinstance(message, Contact):
            reply = answer_contact(message.device_id, user_agent=user_agent, base=options)
            body = encoded_contact_reply(reply, framing)
            return Answer(200, body, headers={"Cache-Control": "no-cache"}, query="PROLOG")
        if isinstance(message, Inventory):
            stored = store_inventory(message, source_ip=address, user_agent=user_agent, settings=options)
            return _reply(stored.to_xml(), framing, "INVENTORY")
        if isinstance(message, DeploymentResult):
            record_result(message.device_id, int(message.package_id), message.code)
            return Answer(200, b"", query="DOWNLOAD")
        if isinstance(message, NetworkNotice):
            apply_network_notice(message)
            return Answer(200, b"", query="NOTIFY")
        assert isinstance(message, UpdateQuery)
        return _reply(no_update_reply(), framing, "UPDATE")
    except ProtocolError as exc:
        log.info("refused request from %s: %s (%s)", address, exc, exc.reason)
        return refusal(exc.status, str(exc), exc.reason)
    except IngestError as exc:
        log.info("refused inventory from %s: %s", address, exc)
        answer = _busy() if exc.status == 503 else refusal(exc.status, str(exc), "inventory_refused")
        answer.query = "INVENTORY"
        return answer
    except DatabaseError:
        log.exception("database unavailable while answering %s", address)
        return _busy()
