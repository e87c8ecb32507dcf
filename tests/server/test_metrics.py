"""``/metrics``: counters that add up across processes, the exposition format, access.

The per-process files are exercised with real processes (``multiprocessing`` with fork, as
gunicorn forks its workers); the agent endpoint's counters through the real WSGI
application; the exposition is parsed back line by line.
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from ocelot.server import metrics_store
from ocelot.server.config import Config
from ocelot.server.metrics import AgentObserver, render
from ocelot.server.operations_wsgi import OperationsEndpoints, metrics_allowed

DATA = Path(__file__).parents[1] / "data"
SAMPLE = re.compile(r'^([a-z_]+)(?:\{((?:[a-z_]+="[^"]*",?)*)\})? (\S+)$')


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition; any malformed line fails the test."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        name, labels, value = match.groups()
        pairs = tuple(re.findall(r'([a-z_]+)="([^"]*)"', labels or ""))
        samples[(name, pairs)] = float(value)
    return samples


def _add_many(directory: str, count: int) -> None:
    values = metrics_store.process_values(Path(directory))
    for _ in range(count):
        values.add("hits", 1)
        values.add("seconds", 0.5)


def test_counters_of_several_processes_add_up(tmp_path):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_many, args=(str(tmp_path), 1000 + n)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert len(list(tmp_path.glob("*.db"))) == 4
    totals = metrics_store.merged(tmp_path)
    assert totals["hits"] == 1000 + 1001 + 1002 + 1003
    assert totals["seconds"] == 0.5 * totals["hits"]


def test_a_process_file_grows_past_its_first_size_and_reopens_with_its_values(tmp_path):
    path = tmp_path / "1.db"
    values = metrics_store.ProcessValues(path)
    keys = [f"key-{n:05d}-" + "x" * 40 for n in range(3000)]  # about 200 KiB of entries
    for n, key in enumerate(keys):
        values.add(key, n)
    values.add(keys[0], 7)
    values.close()
    assert path.stat().st_size > metrics_store.INITIAL_SIZE
    again = metrics_store.ProcessValues(path)
    again.add(keys[-1], 1)
    again.close()
    totals = metrics_store.merged(tmp_path)
    assert len(totals) == 3000
    assert totals[keys[0]] == 7
    assert totals[keys[1234]] == 1234
    assert totals[keys[-1]] == 3000


@dataclasses.dataclass
class FakeAnswer:
    status: int
    query: str = ""
    reason: str = ""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return dataclasses.replace(settings.CONFIG, home=tmp_path)


@pytest.mark.django_db
def test_the_exposition_counts_queries_rejections_and_ingest_times(config):
    observe = AgentObserver(config.metrics_dir)
    observe(FakeAnswer(200, "PROLOG"), 0.001)
    observe(FakeAnswer(200, "PROLOG"), 0.001)
    observe(FakeAnswer(200, "INVENTORY"), 0.04)
    observe(FakeAnswer(200, "INVENTORY"), 3.0)
    observe(FakeAnswer(400, "", "bad_zlib"), 0.001)
    observe(FakeAnswer(413, "", "body_too_large"), 0.001)
    observe(FakeAnswer(503, "INVENTORY"), 0.001)  # busy: counted, but no ingest time
    samples = parse(render(config))
    assert samples[("ocelot_agent_requests_total", (("query", "PROLOG"), ("status", "200")))] == 2
    assert samples[("ocelot_agent_requests_total", (("query", "INVENTORY"), ("status", "200")))] == 2
    assert samples[("ocelot_agent_requests_total", (("query", "none"), ("status", "400")))] == 1
    assert samples[("ocelot_agent_requests_total", (("query", "INVENTORY"), ("status", "503")))] == 1
    assert samples[("ocelot_agent_rejected_total", (("reason", "bad_zlib"),))] == 1
    assert samples[("ocelot_agent_rejected_total", (("reason", "body_too_large"),))] == 1
    assert samples[("ocelot_inventory_ingest_seconds_count", ())] == 2
    assert samples[("ocelot_inventory_ingest_seconds_sum", ())] == pytest.approx(3.04)
    assert samples[("ocelot_inventory_ingest_seconds_bucket", (("le", "0.05"),))] == 1
    assert samples[("ocelot_inventory_ingest_seconds_bucket", (("le", "2.5"),))] == 1
    assert samples[("ocelot_inventory_ingest_seconds_bucket", (("le", "5.0"),))] == 2
    assert samples[("ocelot_inventory_ingest_seconds_bucket", (("le", "+Inf"),))] == 2


@pytest.mark.django_db
def test_deployment_status_counts_come_from_the_database_at_scrape_time(config, settings):
    from ocelot.deployment.activation import activate
    from ocelot.deployment.assignment import assign
    from ocelot.deployment.build import PackageRequest, build_package
    from ocelot.deployment.models import Assignment
    from ocelot.inventory.models import Computer

    settings.CONFIG = config
    package = build_package(PackageRequest(name="cmd", os="linux", action="EXECUTE", command="true"), None)
    activation = activate(package, "ocs.example.org/download", "ocs.example.org/download", check=False)
    ids = [Computer.objects.create(device_id=f"metrics-{n}").pk for n in range(5)]
    assign(activation.activation, ids)
    for computer_id, status in zip(ids, ["", "", "NOTIFIED", "SUCCESS", "ERR_EXIT_CODE_3"], strict=True):
        Assignment.objects.filter(computer_id=computer_id).update(status=status)
    samples = parse(render(config))
    assert samples[("ocelot_deployment_assignments", (("status", "WAITING"),))] == 2
    assert samples[("ocelot_deployment_assignments", (("status", "NOTIFIED"),))] == 1
    assert samples[("ocelot_deployment_assignments", (("status", "SUCCESS"),))] == 1
    assert samples[("ocelot_deployment_assignments", (("status", "ERR_EXIT_CODE_3"),))] == 1


def environ(remote: str, **extra: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/metrics",
        "REMOTE_ADDR": remote,
        "wsgi.input": io.BytesIO(b""),
        **extra,
    }


def test_metrics_are_open_to_loopback_only_by_default(config):
    assert metrics_allowed(config, environ("127.0.0.1"))
    assert metrics_allowed(config, environ("::1"))
    assert not metrics_allowed(config, environ("192.0.2.10"))
    assert not metrics_allowed(config, environ("192.0.2.10", HTTP_AUTHORIZATION="Bearer "))


def test_a_configured_token_opens_metrics_to_other_addresses(config):
    with_token = dataclasses.replace(config, metrics_token="s3cret-metrics-token")
    assert metrics_allowed(
        with_token, environ("192.0.2.10", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    )
    assert not metrics_allowed(with_token, environ("192.0.2.10", HTTP_AUTHORIZATION="Bearer wrong"))
    assert not metrics_allowed(with_token, environ("192.0.2.10"))


@pytest.mark.django_db
def test_an_administrators_api_token_opens_metrics_and_another_users_does_not(config):
    from ocelot.accounts.administrators import create_user
    from ocelot.accounts.tokens import create_token_for

    create_user("metrics-admin", administrator=True)
    create_user("metrics-reader", administrator=False)
    admin_token = create_token_for("metrics-admin", "prometheus")
    reader_token = create_token_for("metrics-reader", "prometheus")
    assert metrics_allowed(config, environ("192.0.2.10", HTTP_AUTHORIZATION=f"Bearer {admin_token}"))
    assert not metrics_allowed(config, environ("192.0.2.10", HTTP_AUTHORIZATION=f"Bearer {reader_token}"))
    assert not metrics_allowed(config, environ("192.0.2.10", HTTP_AUTHORIZATION=f"Bearer {admin_token}x"))


def test_behind_a_trusted_proxy_the_forwarded_client_counts_not_the_proxy(config):
    import ipaddress

    proxied = dataclasses.replace(config, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    assert not metrics_allowed(proxied, environ("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert metrics_allowed(proxied, environ("127.0.0.1"))


def call(application: Any, env: dict[str, Any]) -> tuple[str, bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"] = status

    body = b"".join(application(env, start_response))
    return seen["status"], body


@pytest.mark.django_db
def test_a_refused_scrape_is_403_and_shows_nothing(config):
    endpoints = OperationsEndpoints(lambda env, start: [b"django"], config)
    status, body = call(endpoints, environ("198.51.100.1"))
    assert status.startswith("403")
    assert b"ocelot_" not in body


@pytest.mark.django_db(transaction=True)
def test_the_agent_endpoint_counts_what_it_answers(tmp_path):
    from ocelot.communication.wsgi import AgentEndpoint

    config = dataclasses.replace(settings.CONFIG, home=tmp_path)
    application = OperationsEndpoints(
        AgentEndpoint(lambda env, start: [b""], observe=AgentObserver(config.metrics_dir)), config
    )
    # The captured Unix agent payloads, announced by a PROLOG of the same computer.
    prolog = zlib.compress(
        b"<?xml version='1.0' encoding='UTF-8'?><REQUEST><DEVICEID>vm-2026-11-21-17-46-56"
        b"</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"
    )
    inventory = zlib.compress((DATA / "unix-agent-2.10-inventory.xml").read_bytes())
    result = zlib.compress((DATA / "unix-agent-2.10-download-result.xml").read_bytes())
    agent = "OCS-NG_unified_unix_agent_v2.10.0"
    requests = [(prolog, agent), (inventory, agent), (result, agent), (prolog, agent)]
    for body, user_agent in [*requests, (b"not zlib", agent), (prolog, "curl/8")]:
        env = environ("127.0.0.1", PATH_INFO="/ocsinventory", REQUEST_METHOD="POST")
        env.update(
            HTTP_USER_AGENT=user_agent, CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)}
        )
        call(application, env)
    status, text = call(application, environ("127.0.0.1"))
    assert status.startswith("200")
    samples = parse(text.decode())
    assert samples[("ocelot_agent_requests_total", (("query", "PROLOG"), ("status", "200")))] == 2
    assert samples[("ocelot_agent_requests_total", (("query", "INVENTORY"), ("status", "200")))] == 1
    assert samples[("ocelot_agent_requests_total", (("query", "DOWNLOAD"), ("status", "200")))] == 1
    assert samples[("ocelot_agent_requests_total", (("query", "none"), ("status", "400")))] == 2
    assert samples[("ocelot_inventory_ingest_seconds_count", ())] == 1
    assert 0 < samples[("ocelot_inventory_ingest_seconds_sum", ())] < 60
    assert samples[("ocelot_inventory_ingest_seconds_bucket", (("le", "+Inf"),))] == 1
    assert samples[("ocelot_agent_rejected_total", (("reason", "unknown_user_agent"),))] == 1
    rejected = {labels[0][1] for (name, labels) in samples if name == "ocelot_agent_rejected_total"}
    assert len(rejected) == 2  # the bad body under its own protocol reason


def test_each_server_run_counts_in_a_fresh_directory_and_dead_runs_are_removed(tmp_path):
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / str(dead.pid) / "1.db").parent.mkdir()
    (tmp_path / str(dead.pid) / "1.db").write_bytes(b"old")
    alive = tmp_path / str(os.getppid())  # another running server sharing the home
    alive.mkdir()
    mine = tmp_path / str(os.getpid())
    mine.mkdir()
    (mine / "stale.db").write_bytes(b"from a previous run with the same pid")
    directory = metrics_store.start_run_directory(tmp_path)
    assert directory == mine
    assert list(mine.iterdir()) == []
    assert alive.exists()
    assert not (tmp_path / str(dead.pid)).exists()
