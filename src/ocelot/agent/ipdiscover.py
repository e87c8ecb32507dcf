"""IP discovery on the agent: scan the subnet the server named and report what answered.

protocol.md §4.5: a PROLOG reply with ``<OPTION><NAME>IPDISCOVER</NAME><PARAM
IPDISC_LAT="ms">NETWORK</PARAM></OPTION>`` elects this computer; its inventory then carries
``CONTENT/IPDISCOVER/H`` with ``I`` (IP), ``M`` (MAC) and ``N`` (name) per host.

No external tool (OCS's Unix agent needs its ``ipdiscover`` binary or nmap): every address
of the subnet gets one empty UDP datagram, which makes the kernel resolve it with ARP, and
the neighbour table (``/proc/net/arp``, read through the host door) then lists the hosts
that answered. IPDISC_LAT milliseconds pass between two addresses (seeds 004, "Comment
l'agent travaille"). The table is read after every block of addresses, since the kernel
keeps only so many entries (``gc_thresh3``, 1,024 by default) and a /16 has 65,534 hosts.

Switches, as the seeds' agent options: ``--ipdisc NETWORK`` scans that network whenever an
inventory is sent (with ``--force`` too); ``--fastip`` scans only the first 5 addresses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Sequence

from ocelot.agent.host import Host
from ocelot.protocol.xmltree import Node

log = logging.getLogger(__name__)

DEFAULT_LATENCY_MS = 100
FAST_COUNT = 5
BLOCK = 256
# Time for the last ARP answers to arrive (the kernel retries a probe 3 times, 1 s apart).
SETTLE_SECONDS = 3.0
WIDEST_PREFIX = 16
_COMPLETE = 0x2  # ATF_COM: the neighbour answered
_NO_MAC = "00:00:00:00:00:00"

Prober = Callable[[str], None]


def udp_probe(address: str) -> None:
    """One empty datagram to the discard port: enough for the kernel to ARP the address."""
    # Unreachable or refused: the ARP request went out, or never could.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.sendto(b"", (address, 9))


def scan_order(options: Sequence[Node]) -> tuple[str, int] | None:
    """(network address, latency in ms) from a PROLOG reply's OPTIONs, or None."""
    for option in options:
        if (option.value("NAME") or "").strip().upper() != "IPDISCOVER":
            continue
        param = option.find("PARAM")
        if param is None or not (param.text or "").strip():
            continue
        raw = (param.attrib.get("IPDISC_LAT") or "").strip()
        latency = int(raw) if raw.isdigit() else DEFAULT_LATENCY_MS
        return (param.text or "").strip(), min(latency, 60_000)
    return None


def local_network(sections: dict[str, list[dict[str, str]]], address: str) -> ipaddress.IPv4Network | None:
    """The network of this computer's NETWORKS row on ``address`` (the server sends no mask)."""
    for row in sections.get("NETWORKS", []):
        try:
            network = ipaddress.IPv4Network(f"{row.get('IPADDRESS')}/{row.get('IPMASK')}", strict=False)
        except ValueError:
            continue
        if str(network.network_address) == address and network.prefixlen >= WIDEST_PREFIX:
            return network
    return None


def neighbours(host: Host, network: ipaddress.IPv4Network) -> dict[str, str]:
    """IP -> MAC of the complete entries of the kernel's ARP table inside ``network``."""
    found: dict[str, str] = {}
    text = host.read_text("/proc/net/arp") or ""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        ip, flags, mac = fields[0], fields[2], fields[3].lower()
        try:
            complete = int(flags, 16) & _COMPLETE
            inside = ipaddress.IPv4Address(ip) in network
        except ValueError:
            continue
        if complete and inside and mac != _NO_MAC:
            found[ip] = mac
    return found


def scan(
    host: Host,
    network: ipaddress.IPv4Network,
    latency_ms: int,
    *,
    fast: bool = False,
    probe: Prober = udp_probe,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[str, str, str]]:
    """(IP, MAC, name) of every host of ``network`` that answered ARP, in address order."""
    addresses = [str(address) for address in network.hosts()]
    if fast:
        addresses = addresses[:FAST_COUNT]
    found: dict[str, str] = {}
    for number, address in enumerate(addresses, start=1):
        probe(address)
        if latency_ms:
            sleep(latency_ms / 1000)
        if number % BLOCK == 0:
            found.update(neighbours(host, network))
    sleep(SETTLE_SECONDS)
    found.update(neighbours(host, network))
    log.info("IP discovery of %s: %d of %d addresses answered", network, len(found), len(addresses))
    # No name service is asked: OCS's own scanner reports "-" for most hosts too.
    return [(ip, found[ip], "-") for ip in sorted(found, key=ipaddress.IPv4Address)]


def report(hosts: Sequence[tuple[str, str, str]]) -> Node:
    """The inventory's CONTENT/IPDISCOVER element (§4.5)."""
    return Node(
        "IPDISCOVER",
        children=[
            Node("H", children=[Node("I", text=ip), Node("M", text=mac), Node("N", text=name)])
            for ip, mac, name in hosts
        ],
    )


def discover(
    host: Host,
    sections: dict[str, list[dict[str, str]]],
    options: Sequence[Node],
    *,
    forced_network: str | None = None,
    fast: bool = False,
    probe: Prober = udp_probe,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Node]:
    """The IPDISCOVER element to add to this inventory: [] when nobody asked for a scan."""
    order = scan_order(options)
    if forced_network is None and order is None:
        return []
    address = forced_network or (order[0] if order else "")
    latency = order[1] if order else DEFAULT_LATENCY_MS
    network = local_network(sections, address)
    if network is None:
        log.warning("IP discovery of %s: not a network of this computer (or wider than a /16)", address)
        # An empty report still says "scanned": the server keeps the role (§11).
        return [report([])]
    return [report(scan(host, network, latency, fast=fast, probe=probe, sleep=sleep))]
