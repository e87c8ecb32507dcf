"""``ocelot server`` answers /ocsinventory in front of Django (communication.wsgi).

The fast path must answer exactly as the Django view does, hand every other path to Django,
and keep the endpoint's promises: bad input is a 4xx, a bug is a bare 500 with no trace.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from ocelot.communication import exchange
from ocelot.inventory.models import Computer
from ocelot.server.wsgi import application

pytestmark = pytest.mark.django_db(transaction=True)

DATA = Path(__file__).parents[1] / "data"
UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"
DEVICE = "wsgi-2026-11-21-17-47-44"


def prolog(device_id: str = DEVICE) -> bytes:
    return zlib.compress(
        f"<?xml version='1.0' encoding='UTF-8'?><REQUEST><DEVICEID>{device_id}</DEVICEID>"
        "<QUERY>PROLOG</QUERY></REQUEST>".encode()
    )


def call(
    body: bytes = b"", *, path: str = "/ocsinventory", method: str = "POST", user_agent: str = UNIX_UA
) -> tuple[str, dict[str, str], bytes]:
    """One request straight into the WSGI application, as gunicorn makes it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": user_agent,
        "CONTENT_TYPE": "application/x-compress",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    result = application(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return seen["status"], seen["headers"], content


def test_a_prolog_is_answered_like_the_django_view_answers_it():
    status, headers, body = call(prolog())
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/x-compressed"
    assert headers["Content-Length"] == str(len(body))
    fast = ET.fromstring(zlib.decompress(body))
    view = Client().post(
        "/ocsinventory", data=prolog(), content_type="application/x-compress", HTTP_USER_AGENT=UNIX_UA
    )
    assert view.status_code == 200
    assert ET.tostring(fast) == ET.tostring(ET.fromstring(zlib.decompress(view.content)))
    assert fast.findtext("RESPONSE") == "SEND"


def test_an_inventory_through_the_fast_path_is_stored():
    status, _, body = call(zlib.compress((DATA / "unix-agent-2.10-inventory.xml").read_bytes()))
    assert status == "200 OK"
    answer = ET.fromstring(zlib.decompress(body)).findtext("RESPONSE")
    assert answer in {"ACCOUNT_UPDATE", "NO_ACCOUNT_UPDATE"}
    assert Computer.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "method", "user_agent", "status"),
    [
        (b"", "GET", UNIX_UA, "400 Bad Request"),
        (b"", "PUT", UNIX_UA, "403 Forbidden"),
        (prolog(), "POST", "curl/8.0", "400 Bad Request"),
        (b"not zlib at all", "POST", UNIX_UA, "400 Bad Request"),
        (zlib.compress(b"<REQUEST><QUERY>PROLOG</QUERY></REQUEST>"), "POST", UNIX_UA, "400 Bad Request"),
    ],
    ids=["get", "put", "not-an-agent", "not-zlib", "no-deviceid"],
)
def test_bad_requests_get_a_plain_text_reason(body, method, user_agent, status):
    got, headers, content = call(body, method=method, user_agent=user_agent)
    assert got == status
    assert headers["Content-Type"].startswith("text/plain")
    assert content.strip() and b"Traceback" not in content
    assert Computer.objects.count() == 0


def test_a_bug_is_a_bare_500_with_no_trace(monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(exchange, "answer_contact", broken)
    status, _, content = call(prolog())
    assert status == "500 Internal Server Error"
    assert b"secret" not in content and b"Traceback" not in content


def test_other_paths_go_through_django():
    status, headers, _ = call(path="/cacert.pem", method="GET")
    assert status in {"200 OK", "404 Not Found"}
    # Django's middleware ran: the security headers of every console response are there.
    assert "Content-Security-Policy" in headers or "X-Frame-Options" in headers


def test_a_database_connection_lost_while_idle_costs_one_503_then_is_replaced():
    # The fast path does not run Django's per-request health check (one round trip per
    # agent request): a connection that died while idle is found by the request using it.
    if connection.vendor == "sqlite":
        pytest.skip("an embedded database cannot go away underneath its connection")
    assert call(prolog())[0] == "200 OK"
    connection.connection.close()  # what a database restart does to an idle connection
    assert call(prolog())[0] == "503 Service Unavailable"
    assert call(prolog())[0] == "200 OK"
