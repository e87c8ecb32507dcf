"""``ocelot server`` as an administrator meets it: the first start on an empty home.

The server runs as a real process on an empty ``OCELOT_HOME`` with the default embedded
SQLite database (its own, never the test database), and is probed over HTTP (the agent
endpoint) and HTTPS (verified with the CA it publishes).
"""

from __future__ import annotations

import http.client
import signal
import ssl
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from tests import server_process
from tests.server_process import OcelotServer, run_ocelot, start_server

pytestmark = pytest.mark.server

UNIX_AGENT = "OCS-NG_unified_unix_agent_v2.10.0"
PROLOG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n'
    b"  <DEVICEID>e2e-host-2026-01-02-03-04-05</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n</REQUEST>\n"
)
PASSWORD = "password:"


def password_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if PASSWORD in line]


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def post_prolog(port: int) -> tuple[int, bytes]:
    """A PROLOG as the Unix agent 2.10 sends it: zlib, its User-Agent (protocol.md §1.2)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/ocsinventory",
            body=zlib.compress(PROLOG),
            headers={"User-Agent": UNIX_AGENT, "Content-Type": "application/x-compress"},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def https_get(port: int, path: str, context: ssl.SSLContext) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def the_home_is_initialised(home: Path) -> None:
    assert (home / "ocelot.sqlite3").stat().st_size > 0
    assert (home / "pki" / "ca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert (home / "pki" / "ca.key").stat().st_mode & 0o077 == 0
    assert (home / "public" / "cacert.pem").read_bytes() == (home / "pki" / "ca.pem").read_bytes()


def a_zlib_prolog_gets_a_zlib_reply_asking_for_an_inventory(server: OcelotServer) -> None:
    status, body = post_prolog(server.http_port)
    assert status == 200
    assert body[:2] == b"\x78\x9c"  # zlib at the default level (protocol.md §1.3)
    reply = ET.fromstring(zlib.decompress(body))
    assert reply.tag == "REPLY"
    assert reply.findtext("RESPONSE") == "SEND"


def https_is_verified_with_the_published_ca(server: OcelotServer) -> None:
    trusting = ssl.create_default_context(cafile=str(server.cacert))
    assert trusting.check_hostname  # so 127.0.0.1 must be among the certificate's names
    assert https_get(server.https_port, "/cacert.pem", trusting) == (200, server.cacert.read_bytes())
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(server.https_port, "/cacert.pem", ssl.create_default_context())  # system CAs only


def test_the_first_start_initialises_an_empty_home_serves_http_and_https_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "home", None)
    try:
        the_home_is_initialised(server.home)
        (line,) = password_lines(server.output())
        assert "admin" in line
        assert len(line.split(PASSWORD, 1)[1].strip()) >= 16
        assert get(server.http_port, "/ocsinventory") == 400
        a_zlib_prolog_gets_a_zlib_reply_asking_for_an_inventory(server)
        https_is_verified_with_the_published_ca(server)
    finally:
        code = server.stop(signal.SIGINT)
    assert code == 0, server.output()


def test_a_start_on_an_initialised_home_prints_no_new_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init = run_ocelot(home, None, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    assert len(password_lines(init.stdout)) == 1

    server = start_server(home, None)
    try:
        a_zlib_prolog_gets_a_zlib_reply_asking_for_an_inventory(server)
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert password_lines(server.output()) == []
    assert "Created a certificate authority" not in server.output()


def test_gunicorn_remains_available_as_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # granian is the default (bench/README.md); OCELOT_ENGINE=gunicorn serves the same.
    original = server_process.ocelot_environment
    monkeypatch.setattr(
        server_process,
        "ocelot_environment",
        lambda home, url: {**original(home, url), "OCELOT_ENGINE": "gunicorn"},
    )
    server = start_server(tmp_path / "home", None)
    try:
        a_zlib_prolog_gets_a_zlib_reply_asking_for_an_inventory(server)
        https_is_verified_with_the_published_ca(server)
        assert "gunicorn" in server.output().lower()
    finally:
        code = server.stop()
    assert code == 0, server.output()


def test_an_unknown_engine_is_refused_before_anything_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**server_process.ocelot_environment(home, None), "OCELOT_ENGINE": "runserver"}
    done = subprocess.run(
        server_process.ocelot_command("server"), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "OCELOT_ENGINE" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
