"""Scanning an address or a small network from the server with nmap and nmblookup.

Seeds 004 ("Analyser", "Scanner une adresse IP"): OCS's ipdiscover-util.pl gives each
device its DNS or NetBIOS name and a type: Windows, Linux, Network (cannot tell: a router,
a printer...) or Phantom (does not answer in time).

Security (design.md §6, security.md): the target is parsed with :mod:`ipaddress` and only
its canonical form reaches the command line, so nothing an administrator types becomes
an option or a shell word; commands run as argv lists, never through a shell, with a
time-out; a range is capped at 256 addresses (a /24).

How the type is guessed, from a TCP connect scan of five ports and NetBIOS:

* Windows: RPC (135) or RDP (3389) open, or a NetBIOS name without SSH;
* Linux: SSH (22) open and none of the Windows ports;
* Network: it answers, but nothing above says which;
* Phantom: an address asked about that does not answer.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ocelot.ipdiscover.errors import IpDiscoveryInputError, ScanToolError

MAX_ADDRESSES = 256
PORTS = (22, 135, 139, 445, 3389)
NMAP_TIMEOUT = 120.0
NMBLOOKUP_TIMEOUT = 5.0
_TARGET = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9.]{1,15})?$")
_NETBIOS = re.compile(r"^\s+(\S{1,15})\s+<00>\s+-\s+(?!<GROUP>)", re.MULTILINE)
WINDOWS, LINUX, NETWORK, PHANTOM = "Windows", "Linux", "Network", "Phantom"


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str


class Runner(Protocol):
    """Runs one command given as an argv list (never a shell) within ``timeout`` seconds."""

    def __call__(self, argv: Sequence[str], timeout: float) -> RunResult: ...


def run_command(argv: Sequence[str], timeout: float) -> RunResult:
    """The real runner: subprocess without a shell; a missing tool or time-out is a ScanToolError."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise ScanToolError(f"{argv[0]} is not installed on the server") from None
    except subprocess.TimeoutExpired:
        raise ScanToolError(f"{argv[0]} did not finish within {timeout:.0f} seconds") from None
    return RunResult(done.returncode, done.stdout)


@dataclass
class ScannedHost:
    """What a scan learnt about one address."""

    ip_address: str
    type: str
    dns_name: str = ""
    netbios_name: str = ""
    open_ports: list[int] = field(default_factory=list)


def parse_target(text: str) -> ipaddress.IPv4Network:
    """An IPv4 address or network of at most 256 addresses; IpDiscoveryInputError otherwise."""
    if not isinstance(text, str) or not _TARGET.match(text.strip(" ")):
        raise IpDiscoveryInputError(
            "the target is an IPv4 address or network, such as 192.168.1.7 or 192.168.1.0/24"
        )
    try:
        network = ipaddress.IPv4Network(text.strip(" "), strict=False)
    except ValueError as exc:
        raise IpDiscoveryInputError(f"not an IPv4 address or network: {exc}") from None
    if network.num_addresses > MAX_ADDRESSES:
        raise IpDiscoveryInputError(f"a scan covers at most {MAX_ADDRESSES} addresses (a /24)")
    address = network.network_address
    if address.is_unspecified or address.is_multicast or address.is_reserved or network.is_link_local:
        raise IpDiscoveryInputError(f"{network} is not a network of hosts")
    return network


def nmap_argv(network: ipaddress.IPv4Network) -> list[str]:
    """The nmap command for a validated network: canonical text only, after every option."""
    return [
        "nmap",
        "-oX",
        "-",
        "-sT",
        "-T4",
        "--host-timeout",
        "30s",
        "-p",
        ",".join(str(port) for port in PORTS),
        str(network.network_address) if network.num_addresses == 1 else str(network),
    ]


def _parse_nmap(xml: str) -> list[ScannedHost]:
    if "<!ENTITY" in xml:
        raise ScanToolError("nmap gave an unexpected answer")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise ScanToolError("nmap gave an answer that is not its XML report") from None
    hosts = []
    for host in root.iter("host"):
        status = host.find("status")
        address = next((a.get("addr", "") for a in host.iter("address") if a.get("addrtype") == "ipv4"), "")
        if status is None or status.get("state") != "up" or not address:
            continue
        names = [name.get("name", "") for name in host.iter("hostname") if name.get("type") == "PTR"]
        ports = sorted(
            int(port.get("portid", "0"))
            for port in host.iter("port")
            if (state := port.find("state")) is not None and state.get("state") == "open"
        )
        hosts.append(ScannedHost(address, NETWORK, dns_name=names[0] if names else "", open_ports=ports))
    return hosts


def _classify(host: ScannedHost) -> str:
    ports = set(host.open_ports)
    if ports & {135, 3389} or (host.netbios_name and 22 not in ports):
        return WINDOWS
    if 22 in ports:
        return LINUX
    return NETWORK


def netbios_name(ip: str, runner: Runner) -> str:
    """The host's NetBIOS name from ``nmblookup -A``, or "" (no answer, no tool)."""
    try:
        result = runner(["nmblookup", "-A", ip], NMBLOOKUP_TIMEOUT)
    except ScanToolError:
        return ""
    found = _NETBIOS.search(result.stdout)
    return found.group(1) if found else ""


def scan(target: str, *, runner: Runner = run_command, expected: Iterable[str] = ()) -> list[ScannedHost]:
    """Scan ``target``; ``expected`` addresses (and a single target) that do not answer are
    reported as Phantom. Raises IpDiscoveryInputError before anything runs for a bad target."""
    network = parse_target(target)
    started = time.monotonic()
    result = runner(nmap_argv(network), NMAP_TIMEOUT)
    if result.returncode != 0:
        raise ScanToolError(f"nmap failed (exit status {result.returncode})")
    hosts = {host.ip_address: host for host in _parse_nmap(result.stdout)}
    for host in hosts.values():
        # NetBIOS answers only where its ports are open; stay within the overall budget.
        if set(host.open_ports) & {139, 445} and time.monotonic() - started < NMAP_TIMEOUT:
            host.netbios_name = netbios_name(host.ip_address, runner)
        host.type = _classify(host)
    wanted = {str(network.network_address)} if network.num_addresses == 1 else set()
    wanted |= {ip for ip in expected if (address := _ipv4(ip)) is not None and address in network}
    for ip in wanted - set(hosts):
        hosts[ip] = ScannedHost(ip, PHANTOM)
    return sorted(hosts.values(), key=lambda host: ipaddress.IPv4Address(host.ip_address))


def _ipv4(text: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        return None


def tools_available() -> dict[str, bool]:
    return {tool: shutil.which(tool) is not None for tool in ("nmap", "nmblookup")}


def analyse(target: str, *, runner: Runner = run_command) -> list[ScannedHost]:
    """Scan ``target``; discovered devices there that do not answer come back as Phantom."""
    from ocelot.ipdiscover.models import DiscoveredDevice

    network = parse_target(target)
    # Compare as addresses, not text: the stored addresses of the range, bounded by the cap.
    prefix = ".".join(str(network.network_address).split(".")[: max(1, network.prefixlen // 8)])
    candidates = DiscoveredDevice.objects.filter(ip_address__startswith=prefix).values_list(
        "ip_address", flat=True
    )[: 4 * MAX_ADDRESSES]
    return scan(str(network), runner=runner, expected=list(candidates))
