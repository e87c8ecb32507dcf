"""IP discovery on a real network: a bridge and 7 network namespaces on a private /24.

Three namespaces run our agent against a real ``ocelot server`` (inventoried), three only
answer ARP (non-inventoried), one answers nothing (``arp off``). One agent contacts the
server often enough to be elected automatically (FIDELITY 3, protocol.md §11: no manual
override), is told to scan at its next contact, scans and reports. The API and the console
then show the counts the test built; registering a device moves it to identified; a real
nmap "scan an IP" gives a type. Every packet stays on the test's bridge: the server listens
on the bridge's address in the test's own namespace, the agents probe only their /24.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ocelot.accounts.administrators import create_user
from ocelot.accounts.tokens import create_token
from ocelot.inventory.models import Computer
from ocelot.inventory.setting_values import set_global
from ocelot.ipdiscover.models import DiscoveredDevice, Scanner
from tests.server_process import (
    OcelotServer,
    current_test_database_url,
    free_port,
    ocelot_command,
    ocelot_environment,
)

AGENTS, ARP_ONLY, SILENT = ("a1", "a2", "a3"), ("d1", "d2", "d3"), ("s1",)


def run(*argv: str) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"
    return done.stdout


@dataclass
class Lab:
    """The bridge, the namespaces and their addresses; removed whatever happens."""

    tag: str
    prefix: str
    namespaces: dict[str, str] = field(default_factory=dict)  # short name -> namespace
    addresses: dict[str, str] = field(default_factory=dict)
    macs: dict[str, str] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"obr{self.tag}"

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.1"

    @property
    def subnet(self) -> str:
        return f"{self.prefix}.0"

    def create(self) -> None:
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        for number, name in enumerate(AGENTS + ARP_ONLY + SILENT, start=10):
            namespace, outside = f"ocl{self.tag}{name}", f"ov{self.tag}{name}"
            run("ip", "netns", "add", namespace)
            self.namespaces[name] = namespace
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            run("ip", "link", "set", outside, "master", self.bridge, "up")
            address = f"{self.prefix}.{number}"
            self.addresses[name] = address
            inside = ("ip", "netns", "exec", namespace, "ip")
            run(*inside, "addr", "add", f"{address}/24", "dev", "eth0")
            run(*inside, "link", "set", "lo", "up")
            run(*inside, "link", "set", "eth0", "up")
            if name in SILENT:
                run(*inside, "link", "set", "eth0", "arp", "off")
            self.macs[name] = run(*inside, "-br", "link", "show", "eth0").split()[2].lower()

    def remove(self) -> None:
        for namespace in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)


@pytest.fixture
def lab() -> Iterator[Lab]:
    assert shutil.which("ip"), "iproute2 is a test prerequisite"
    assert os.geteuid() == 0, "the network test creates namespaces: it runs as root"
    tag = f"{os.getpid() % 10000:04d}"
    # A /24 no interface of this machine uses (parallel workers each build their own lab).
    used = run("ip", "-4", "-o", "addr")
    free = [n for n in range(1, 250) if f" 10.213.{n}." not in used]
    made = Lab(tag, f"10.213.{random.choice(free)}")
    try:
        made.create()
        yield made
    finally:
        made.remove()


def start_on_bridge(home: Path, database_url: str, address: str) -> OcelotServer:
    """``ocelot server`` with its agent listener on the bridge's address (HTTPS on loopback)."""
    home.mkdir(parents=True, exist_ok=True)
    http_port, https_port = free_port(), free_port()
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ocelot_command(
                "server", "--http", f"{address}:{http_port}", "--https", f"127.0.0.1:{https_port}"
            ),
            env=ocelot_environment(home, database_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = OcelotServer(home, http_port, https_port, process, log_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.running():
        with contextlib.suppress(OSError):
            socket.create_connection((address, http_port), timeout=2).close()
            return server
        time.sleep(0.2)
    output = server.output()
    server.stop()
    raise AssertionError(f"the server did not start:\n{output[-3000:]}")


def agent_run(lab: Lab, name: str, url: str, work: Path) -> None:
    log = work / f"{name}-{time.monotonic_ns()}.log"
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            lab.namespaces[name],
            *ocelot_command("agent", f"--server={url}", f"--basevardir={work / name}", "--nosoft", "--info"),
            f"--logfile={log}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stderr}\n{log.read_text() if log.exists() else ''}"


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_an_automatically_elected_agent_discovers_its_network(lab: Lab, tmp_path: Path) -> None:
    assert shutil.which("nmap"), "nmap is a test prerequisite (Debian package nmap)"
    set_global("FREQUENCY", 0)
    set_global("IPDISCOVER", 1)
    set_global("IPDISCOVER_LATENCY", 0)
    set_global("AUTO_DUPLICATE_LVL", 0)  # every namespace is this machine: same name and serial
    server = start_on_bridge(tmp_path / "home", current_test_database_url(), lab.gateway)
    url = f"http://{lab.gateway}:{server.http_port}/ocsinventory"
    try:
        for name in ("a2", "a3"):
            agent_run(lab, name, url, tmp_path)
            # A DEVICEID is the host name and the second of the first run (OCS's format), and
            # every namespace has this machine's host name: one second apart, or two agents
            # would be one computer.
            time.sleep(1.05)
        for _ in range(3):  # the third inventory reaches FIDELITY 3: elected
            agent_run(lab, "a1", url, tmp_path)
        a1 = Computer.objects.get(networks__ip_address=lab.addresses["a1"])
        scanner = Scanner.objects.get()
        assert (scanner.computer, scanner.role, scanner.subnet) == (a1, Scanner.ELECTED, lab.subnet)
        assert not DiscoveredDevice.objects.exists()
        agent_run(lab, "a1", url, tmp_path)  # told to scan at this contact: scans and reports
    finally:
        # Every exchange is over and committed; a graceful stop would wait for the worker's
        # idle keep-alive connections (about 30 s) for nothing.
        server.stop(signal.SIGKILL)

    seen = dict(DiscoveredDevice.objects.filter(subnet=lab.subnet).values_list("mac", "ip_address"))
    answering = {lab.macs[name]: lab.addresses[name] for name in ("a2", "a3", *ARP_ONLY)}
    assert answering.items() <= seen.items()
    assert lab.addresses["s1"] not in seen.values()
    assert set(seen.values()) - set(answering.values()) == {lab.gateway}  # the test's own end
    assert {d.computer.name for d in DiscoveredDevice.objects.filter(computer__isnull=False)} == {
        Computer.objects.get(networks__ip_address=lab.addresses[n]).name for n in ("a2", "a3")
    }

    create_user("lab-admin", administrator=True)
    user = get_user_model().objects.get(username="lab-admin")
    headers = {"Authorization": f"Bearer {create_token(user, 'lab')[1]}"}
    api = Client()

    def counts() -> dict[str, int]:
        rows = api.get("/api/v1/ipdiscover/networks", secure=True, headers=headers).json()
        line = next(row for row in rows if row["address"] == lab.subnet)
        return {key: line[key] for key in ("inventoried", "non_inventoried", "scanners", "identified")}

    # Non-inventoried: the three ARP-only hosts and the bridge's own address.
    assert counts() == {"inventoried": 3, "non_inventoried": 4, "scanners": 1, "identified": 0}
    registered = api.post(
        "/api/v1/ipdiscover/devices",
        {"mac": lab.macs["d1"], "description": "lab printer"},
        content_type="application/json",
        secure=True,
        headers=headers,
    )
    assert registered.status_code == 201
    assert counts() == {"inventoried": 3, "non_inventoried": 3, "scanners": 1, "identified": 1}

    console = Client()
    console.force_login(user)
    page = console.get("/ipdiscover/", secure=True).content.decode()
    for which, count in (("inventoried", 3), ("non-inventoried", 3), ("scanners", 1), ("identified", 1)):
        assert f'href="/ipdiscover/networks/{lab.subnet}/{which}/">{count}</a>' in page

    scanned = api.post(
        "/api/v1/ipdiscover/scan",
        {"target": lab.addresses["d2"]},
        content_type="application/json",
        secure=True,
        headers=headers,
    )
    assert scanned.status_code == 200, scanned.content
    assert [(h["ip_address"], h["type"]) for h in scanned.json()] == [(lab.addresses["d2"], "Network")]
