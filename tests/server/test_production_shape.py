"""The production shape, stood up for real (issue 7, first "What must be true").

Debian's nginx runs ``packaging/nginx/ocelot.conf`` (the file docs/operations.md tells
administrators to install; only its ports and paths are replaced) in front of two
``ocelot server`` processes sharing one home, on the suite's database (PostgreSQL in the
PostgreSQL pass; SQLite and MariaDB in theirs: two processes share any of them). TLS ends
on nginx with the Ocelot CA's server certificate. Debian's ``ocsinventory-agent``
inventories through nginx over HTTPS, verifying that CA, and deploys a package whose info
file and fragments nginx serves from the package directory: its access log says so
(``upstream=-``). ``/healthz`` and ``/metrics`` answer through nginx, and the client
address nginx passes in X-Forwarded-For is the one the servers believe (trusted proxy).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import signal
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pytest_django import DjangoDbBlocker

from ocelot.accounts.models import AuditEntry
from ocelot.deployment.models import Assignment
from ocelot.inventory.models import Computer
from ocelot.inventory.setting_values import set_global
from ocelot.server.backup import verify_archive
from tests.communication.test_real_agent import run_agent
from tests.deployment.archives import tar_gz
from tests.server_process import (
    OcelotServer,
    ServerStartError,
    current_test_database_url,
    free_port,
    run_ocelot,
    start_server,
)

pytestmark = [pytest.mark.real_agent, pytest.mark.server]

NGINX = Path("/usr/sbin/nginx")
TEMPLATE = Path(__file__).resolve().parents[2] / "packaging" / "nginx" / "ocelot.conf"
METRICS_TOKEN = "scrape-me-0123456789"
# A second loopback address: a client nginx sees as 127.0.0.2 while the servers only
# ever see nginx (127.0.0.1). Linux answers the whole of 127.0.0.0/8 on lo.
OTHER_CLIENT = "127.0.0.2"

_ACCESS = re.compile(
    r'^(\S+) \[[^]]*\] "(\S+) (\S+) [^"]*" (\d+) (\d+) "[^"]*" upstream=(\S+)$', re.MULTILINE
)


def prolog(device: str) -> bytes:
    return zlib.compress(
        f"<?xml version='1.0' encoding='UTF-8'?><REQUEST><DEVICEID>{device}-2026-11-22-01-00-00"
        "</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>".encode()
    )


@dataclass
class Hit:
    client: str
    method: str
    path: str
    status: int
    size: int
    upstream: str


def nginx_configuration(
    root: Path, home: Path, http_port: int, https_port: int, servers: list[OcelotServer]
) -> str:
    """``packaging/nginx/ocelot.conf`` with this test's ports and paths, in a whole nginx.conf."""
    text = TEMPLATE.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/var/lib/ocelot": str(home),
        "/var/log/nginx/ocelot-access.log": str(root / "access.log"),
        "server 127.0.0.1:8080;\n    server 127.0.0.1:8081;": "\n    ".join(
            f"server 127.0.0.1:{server.http_port};" for server in servers
        ),
        "server 127.0.0.1:8443;\n    server 127.0.0.1:8444;": "\n    ".join(
            f"server 127.0.0.1:{server.https_port};" for server in servers
        ),
    }
    for old, new in replacements.items():
        assert old in text, f"{TEMPLATE} no longer holds {old!r}: update this test with it"
        text = text.replace(old, new)
    # Private temporary directories are mode 700: nginx's workers read them as root.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  types {{ }}
  default_type application/octet-stream;
{text}
}}
"""


class Production:
    """nginx, two servers and the ``ocelot`` command line of their shared home."""

    def __init__(self, root: Path, servers: list[OcelotServer], http_port: int, https_port: int) -> None:
        self.root = root
        self.servers = servers
        self.http_port = http_port
        self.https_port = https_port
        self.home = servers[0].home
        self.database = current_test_database_url()
        self.context = ssl.create_default_context(cafile=str(servers[0].cacert))

    def ocelot(self, *args: str) -> Any:
        result = run_ocelot(self.home, self.database, *args)
        assert result.returncode == 0, f"ocelot {' '.join(args)}: {result.stdout}{result.stderr}"
        return json.loads(result.stdout) if "--json" in args else result.stdout

    def get(
        self,
        path: str,
        *,
        secure: bool = True,
        client: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection: http.client.HTTPConnection
        if secure:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, context=self.context, source_address=(client, 0), timeout=30
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.http_port, source_address=(client, 0), timeout=30
            )
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_agent(self, body: bytes) -> int:
        """POST to the agent endpoint on nginx's HTTP listener, as the Unix agent."""
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            headers = {"User-Agent": "OCS-NG_unified_unix_agent_v2.10.0"}
            connection.request("POST", "/ocsinventory", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (BrokenPipeError, ConnectionResetError):
            return 413  # nginx may answer and close before the whole body is sent
        finally:
            connection.close()

    def diagnostics(self) -> str:
        """nginx's error log and the end of each server's output, for a failure message."""
        parts = [(self.root / "error.log").read_text(errors="replace")[-3000:]]
        parts += [server.output()[-3000:] for server in self.servers]
        return "\n".join(parts)

    def hits(self) -> list[Hit]:
        text = (self.root / "access.log").read_text()
        return [Hit(c, m, p, int(s), int(n), u) for c, m, p, s, n, u in _ACCESS.findall(text)]

    def upstreams(self) -> set[str]:
        """The addresses of both servers' two listeners, as nginx names them."""
        return {f"127.0.0.1:{server.http_port}" for server in self.servers} | {
            f"127.0.0.1:{server.https_port}" for server in self.servers
        }


def stop_download_worker(basevardir: Path) -> None:
    """The agent's download worker forked from our run: never left running after a failure."""
    for lock in basevardir.glob("*/download/lock"):
        pid = lock.read_text().strip()
        try:
            if pid.isdigit() and b"ocsinventory-agent" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(int(pid), signal.SIGTERM)
        except OSError:
            continue


@pytest.fixture(scope="module")
def production(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Production]:
    assert NGINX.is_file(), f"{NGINX} is missing: run tests/system/install-deps.sh as root"
    root = tmp_path_factory.mktemp("production")
    home = root / "home"
    database = current_test_database_url()
    servers: list[OcelotServer] = []
    nginx: subprocess.Popen[bytes] | None = None
    try:
        # `ocelot init` once (CA, first administrator), then both servers at the same time.
        initialised = run_ocelot(home, database, "init")
        assert initialised.returncode == 0, initialised.stdout + initialised.stderr

        def start(name: str) -> OcelotServer:
            return start_server(
                home,
                database,
                log_name=name,
                environment={
                    "OCELOT_LOG_DIR": str(root / name),
                    "OCELOT_TRUSTED_PROXIES": "127.0.0.1",
                    "OCELOT_METRICS_ALLOW": "127.0.0.1/32",
                    "OCELOT_METRICS_TOKEN": METRICS_TOKEN,
                },
            )

        with ThreadPoolExecutor(2) as pool:
            starting = [pool.submit(start, name) for name in ("server-a", "server-b")]
            for future in starting:
                try:
                    servers.append(future.result())
                except ServerStartError:
                    for other in starting:  # the other one must not outlive the test
                        if other is not future and other.exception() is None:
                            servers.append(other.result())
                    raise
        http_port, https_port = free_port(), free_port()
        conf = root / "nginx.conf"
        conf.write_text(nginx_configuration(root, home, http_port, https_port, servers))
        checked = subprocess.run(
            [str(NGINX), "-t", "-c", str(conf), "-p", str(root)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr
        with (root / "nginx.out").open("wb") as output:
            nginx = subprocess.Popen(
                [str(NGINX), "-c", str(conf), "-p", str(root)], stdout=output, stderr=subprocess.STDOUT
            )
        scene = Production(root, servers, http_port, https_port)

        deadline = time.monotonic() + 20
        while True:
            try:
                scene.get("/healthz")
                break
            except OSError:
                assert nginx.poll() is None, (root / "nginx.out").read_text() + (
                    root / "error.log"
                ).read_text()
                assert time.monotonic() < deadline, "nginx did not answer within 20 s"
                time.sleep(0.1)
        yield scene
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        codes = [server.stop() for server in servers]
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
    assert codes == [0, 0], "\n".join(server.output()[-3000:] for server in servers)


@pytest.mark.django_db(transaction=True)
def test_the_real_agent_inventories_and_deploys_through_nginx_in_front_of_two_servers(
    production: Production, tmp_path: Path
) -> None:
    # Straight into the shared database (what `ocelot settings set` does, without five
    # more Django start-ups): the servers read them at the next contact.
    for name, value in (
        ("DOWNLOAD", "1"),
        ("DOWNLOAD_FRAG_LATENCY", "0"),
        ("DOWNLOAD_CYCLE_LATENCY", "0"),
        ("DOWNLOAD_PERIOD_LATENCY", "1"),
        ("DOWNLOAD_PERIOD_LENGTH", "10"),
    ):
        set_global(name, value)
    marker = tmp_path / "installed"
    archive = tmp_path / "job.tar.gz"
    archive.write_bytes(
        tar_gz(("job.sh", f"#!/bin/sh\necho ran > '{marker}'\n".encode()), ("blob.bin", os.urandom(30_000)))
    )
    package_id = int(
        production.ocelot(
            *("package", "build", "--name", "through-nginx", "--os", "linux", "--action", "EXECUTE"),
            *("--command", "sh job.sh", "--fragments", "3", "--file", str(archive), "--json"),
        )["id"]
    )
    # Activated at nginx's addresses: the activation check fetches every file through nginx.
    activation = production.ocelot(
        *("package", "activate", str(package_id)),
        *("--info-location", f"127.0.0.1:{production.https_port}/download"),
        *("--fragment-location", f"127.0.0.1:{production.http_port}/download"),
        "--json",
    )
    assert activation["checked"] is True

    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    agent = (
        f"--server=https://127.0.0.1:{production.https_port}/ocsinventory",
        f"--basevardir={agent_dir}",
        f"--ca={production.servers[0].cacert}",  # the Ocelot CA: verified, never skipped
        "--nolocal",
    )
    first = run_agent(tmp_path / "run-1.log", *agent)
    assert first.returncode == 0 and "INVENTORY" in first.queries(), (
        first.describe() + production.diagnostics()
    )
    (computer,) = Computer.objects.all()
    production.ocelot("package", "assign", str(package_id), "--computer", str(computer.pk), "--json")

    try:
        second = run_agent(tmp_path / "run-2.log", *agent)
        assert second.returncode == 0, second.describe() + production.diagnostics()
        deadline = time.monotonic() + 120
        status = ""
        while time.monotonic() < deadline:
            status = Assignment.objects.get(package__package_id=package_id).status
            if status not in ("", Assignment.NOTIFIED):
                break
            time.sleep(0.5)
    finally:
        stop_download_worker(agent_dir)
    assert status == "SUCCESS", (tmp_path / "run-2.log").read_text(errors="replace")[-4000:]
    assert marker.read_text() == "ran\n"

    hits = production.hits()
    # nginx served the info file over HTTPS and every fragment itself (no upstream).
    served = {hit.path: hit for hit in hits if hit.path.startswith(f"/download/{package_id}/")}
    files = [f"/download/{package_id}/info"] + [f"/download/{package_id}/{package_id}-{n}" for n in (1, 2, 3)]
    assert sorted(served) == sorted(files)
    for path in files:
        agent_hits = [hit for hit in hits if hit.path == path and hit.status == 200]
        # Twice each: the activation check, then the agent (every byte from disk).
        assert len(agent_hits) == 2 and {hit.upstream for hit in agent_hits} == {"-"}, agent_hits
    fragment = production.home / "packages" / "download" / str(package_id) / f"{package_id}-2"
    assert served[f"/download/{package_id}/{package_id}-2"].size == fragment.stat().st_size
    # The agent's conversation went to the servers, and both of them took part.
    agent_upstreams = {hit.upstream for hit in hits if hit.path == "/ocsinventory"}
    assert {hit.status for hit in hits if hit.path == "/ocsinventory"} == {200}
    assert agent_upstreams <= production.upstreams()
    assert len(agent_upstreams) == 2, f"one server took every agent request: {agent_upstreams}"
    for server in production.servers:
        assert "/download/" not in (production.root / server.log_path.stem / "server.log").read_text()


@pytest.mark.django_db(transaction=True)
def test_healthz_metrics_and_the_console_answer_through_nginx_with_the_client_address_nginx_saw(
    production: Production,
) -> None:
    status, headers, body = production.get("/healthz")
    health = json.loads(body)
    assert health["checks"]["database"]["status"] == "ok"
    assert health["checks"]["server_certificate"]["status"] == "ok"
    assert status == (200 if health["checks"]["disk"]["status"] == "ok" else 503)

    # Loopback may scrape: nginx passed 127.0.0.1 and the servers believed it.
    status, headers, body = production.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE ocelot_agent_requests_total counter" in body
    # 127.0.0.2 may not (OCELOT_METRICS_ALLOW is 127.0.0.1/32 here), even when it claims
    # to be 127.0.0.1: nginx overwrites X-Forwarded-For, it does not append to it.
    assert production.get("/metrics", client=OTHER_CLIENT)[0] == 403
    spoofed = {"X-Forwarded-For": "127.0.0.1"}
    assert production.get("/metrics", client=OTHER_CLIENT, headers=spoofed)[0] == 403
    token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert production.get("/metrics", client=OTHER_CLIENT, headers=token)[0] == 200

    # The console is proxied over HTTPS; plain HTTP sends browsers there.
    # A 200, not the servers' redirect to HTTPS: they were reached over TLS.
    status, headers, body = production.get("/login/")
    assert status == 200 and b"<form" in body
    status, headers, _ = production.get("/login/", secure=False)
    assert status == 301 and headers["Location"] == "https://127.0.0.1/login/"
    # The info file never goes over HTTP, and nothing but package files is served from disk.
    assert production.get("/download/1/info", secure=False)[0] == 404
    assert production.get("/download/staging", secure=True)[0] == 404
    status, _, body = production.get("/cacert.pem", secure=False)
    assert (status, body) == (200, production.servers[0].cacert.read_bytes())
    # Agents configured with plain HTTP reach the servers too; nginx bounds the body first.
    assert production.post_agent(prolog("http-agent")) == 200
    assert production.post_agent(b"\0" * (33 * 1024 * 1024)) == 413
    # nginx logs the 413 once it has finished with the connection (lingering close).
    deadline = time.monotonic() + 10
    while [hit.status for hit in production.hits() if hit.path == "/ocsinventory"][-2:] != [200, 413]:
        assert time.monotonic() < deadline, production.hits()[-3:]
        time.sleep(0.1)
    hits = production.hits()
    scrapes = [hit for hit in hits if hit.path == "/metrics"]
    assert {hit.client for hit in scrapes} == {"127.0.0.1", OTHER_CLIENT}
    assert {hit.upstream for hit in scrapes} <= production.upstreams()


def test_the_operations_guide_shows_the_nginx_configuration_this_test_runs() -> None:
    guide = (TEMPLATE.parents[2] / "docs" / "operations.md").read_text()
    assert f"```nginx\n{TEMPLATE.read_text()}```" in guide


@pytest.mark.django_db(transaction=True)
def test_an_administrator_downloads_a_backup_through_nginx(production: Production, tmp_path: Path) -> None:
    # Made by the command line (the test process hashes with MD5 for speed, which the
    # servers do not read); each transactional test ends with the database flushed.
    created = production.ocelot("users", "add", "backup-admin", "--admin")
    password = created.rsplit(": ", 1)[1].strip()
    base = f"https://127.0.0.1:{production.https_port}"
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=production.context), urllib.request.HTTPCookieProcessor(cookies)
    )

    def post(path: str, fields: dict[str, str]) -> Any:
        token = next(cookie.value for cookie in cookies if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        # Django checks the Referer of an HTTPS POST against the Host nginx passed on.
        request = urllib.request.Request(base + path, data=data, headers={"Referer": base + path})
        return browser.open(request, timeout=120)

    browser.open(base + "/login/", timeout=30).read()
    with post("/login/", {"username": "backup-admin", "password": password, "next": "/"}) as page:
        assert page.url == base + "/", page.read().decode()[-3000:]
    browser.open(base + "/backup/", timeout=30).read()
    archive = tmp_path / "download.tar"
    with post("/backup/", {"password": password}) as download, archive.open("wb") as out:
        assert download.headers["Content-Type"] == "application/x-tar"
        while block := download.read(256 * 1024):
            out.write(block)
    manifest = verify_archive(archive)  # what `ocelot restore --check` runs
    assert any(name.startswith("files/pki/") for name in manifest.members)
    (entry,) = AuditEntry.objects.filter(action="backup.download")
    assert (entry.username, entry.address) == ("backup-admin", "127.0.0.1")  # as nginx passed it on
