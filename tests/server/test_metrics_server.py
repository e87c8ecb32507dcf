"""``/metrics``, ``/healthz`` and the log file on a real ``ocelot server`` with several workers.

Requests spread over the workers of one listener (and over both listeners); whichever
worker answers the scrape must report the sum of all of them, exactly. Run with granian
(spawned workers) and gunicorn (workers forked from a preloaded application), on the
suite's database (several server processes on PostgreSQL is the production shape). The same
run shows the log file: every worker's lines through one writer, rotated by size.
"""

from __future__ import annotations

import http.client
import json
import ssl
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django import DjangoDbBlocker

from tests.server.test_metrics import parse
from tests.server_process import OcelotServer, current_test_database_url, start_server

pytestmark = pytest.mark.server

UNIX_AGENT = "OCS-NG_unified_unix_agent_v2.10.0"


def prolog(number: int) -> bytes:
    return zlib.compress(
        f"<?xml version='1.0' encoding='UTF-8'?><REQUEST><DEVICEID>metrics-{number}-2026-11-22-01-00-00"
        "</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>".encode()
    )


def post(port: int, body: bytes, user_agent: str = UNIX_AGENT) -> int:
    # A new connection each time, so that the listener hands requests to different workers.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/ocsinventory", body=body, headers={"User-Agent": user_agent})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def post_https(server: OcelotServer, body: bytes) -> int:
    context = ssl.create_default_context(cafile=str(server.cacert))
    connection = http.client.HTTPSConnection("127.0.0.1", server.https_port, timeout=60, context=context)
    try:
        connection.request("POST", "/ocsinventory", body=body, headers={"User-Agent": UNIX_AGENT})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def suite_database(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """The suite's test database (SQLite, PostgreSQL or MariaDB), emptied afterwards."""
    yield current_test_database_url()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("engine", ["granian", "gunicorn"])
def test_counters_add_up_across_the_worker_processes_of_both_listeners(
    engine: str, tmp_path: Path, suite_database: str
):
    # Small log files, to see the single writer rotate them while six workers log.
    environment = {
        "OCELOT_WORKERS": "3",
        "OCELOT_ENGINE": engine,
        "OCELOT_LOG_MAX_BYTES": "1000",
        "OCELOT_LOG_BACKUPS": "2",
    }
    server = start_server(tmp_path / "home", suite_database, environment=environment)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: post(server.http_port, prolog(n)), range(60)))
            refused = list(pool.map(lambda n: post(server.http_port, b"garbage"), range(5)))
            strangers = list(pool.map(lambda n: post(server.http_port, prolog(n), "curl/8"), range(3)))
            secure = list(pool.map(lambda n: post_https(server, prolog(100 + n)), range(10)))
        assert statuses == [200] * 60
        assert refused == [400] * 5
        assert strangers == [400] * 3
        assert secure == [200] * 10
        run_directories = [path for path in (server.home / "var" / "metrics").iterdir() if path.is_dir()]
        assert len(run_directories) == 1
        process_files = list(run_directories[0].glob("*.db"))
        assert len(process_files) >= 2, "the requests should have reached several worker processes"

        for _ in range(3):  # whichever worker answers, the totals are the same
            status, text = get(server.http_port, "/metrics")
            assert status == 200
            samples = parse(text.decode())
            # 60 over HTTP, 10 over HTTPS: two listeners, three workers each, one sum.
            assert samples[("ocelot_agent_requests_total", (("query", "PROLOG"), ("status", "200")))] == 70
            assert samples[("ocelot_agent_rejected_total", (("reason", "unknown_user_agent"),))] == 3
            garbage = sum(
                value
                for (name, labels), value in samples.items()
                if name == "ocelot_agent_rejected_total"
                and labels[0][1] not in ("unknown_user_agent", "not_post")
            )
            assert garbage == 5
        status, body = get(server.http_port, "/healthz")
        health = json.loads(body)
        assert health["checks"]["database"]["status"] == "ok"
        assert health["checks"]["server_certificate"]["status"] == "ok"
        assert status == (200 if health["checks"]["disk"]["status"] == "ok" else 503)
    finally:
        code = server.stop()
    assert code == 0, server.output()
    logs = sorted(path.name for path in (server.home / "log").iterdir())
    assert logs == ["server.log", "server.log.1", "server.log.2"]
    for path in (server.home / "log").iterdir():
        assert path.stat().st_size <= 1000 + 500  # one line may pass the limit
    # Whole lines only (one writer), and the access log of the last requests is there.
    text = "".join((server.home / "log" / name).read_text() for name in reversed(logs))
    assert "GET /healthz" in text
    assert all(line.strip() for line in text.splitlines())
    assert "GET /healthz" in server.output()  # copied to the output too (no journal here)
