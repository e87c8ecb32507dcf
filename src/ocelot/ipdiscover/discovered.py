"""Storing what a scanner reports: one row per MAC with first and last seen (protocol.md §11).

A /16 scan is 65,536 hosts from one agent. They are written in chunks with one upsert
statement per chunk (INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE), so the time grows
with the number of hosts and the memory with the chunk, not with the scan
(bench/ipdiscover.py measures both).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import connection

from ocelot.inventory.models import Computer, NetworkInterface
from ocelot.ipdiscover.models import DiscoveredDevice
from ocelot.ipdiscover.networks import ipv4, mac_address
from ocelot.protocol.messages import DiscoveredHost

CHUNK = 2000
_NAME_LENGTH = DiscoveredDevice._meta.get_field("name").max_length or 255


def _valid_hosts(
    hosts: Iterable[DiscoveredHost], network: ipaddress.IPv4Network | None
) -> dict[str, tuple[str, str]]:
    """MAC -> (IP, name) of the well-formed hosts inside the scanner's network.

    OCS keeps an H only if I is a dotted quad and M looks like a MAC (§11). An address
    outside the subnet the scanner was asked to cover is dropped too: an agent cannot
    fill another network's list. A MAC seen twice keeps its last line.
    """
    found: dict[str, tuple[str, str]] = {}
    for host in hosts:
        mac = mac_address(host.mac)
        address = ipv4(host.ip)
        if mac is None or address is None or (network is not None and address not in network):
            continue
        found[mac] = (str(address), host.name.strip()[:_NAME_LENGTH])
    return found


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def computers_by_mac(macs: Iterable[str]) -> dict[str, int]:
    """Inventoried computers that carry these MACs in their NETWORKS (any letter case)."""
    wanted = set(macs)
    variants = sorted(wanted | {mac.upper() for mac in wanted})
    return {
        str(mac).lower(): int(computer_id)
        for mac, computer_id in NetworkInterface.objects.filter(mac__in=variants).values_list(
            "mac", "computer_id"
        )
    }


def store_scan(hosts: Iterable[DiscoveredHost], *, subnet: str, netmask: str, now: datetime) -> int:
    """Upsert the hosts of one scan of ``subnet``; returns how many rows were written."""
    network = None
    if netmask:
        try:
            network = ipaddress.IPv4Network(f"{subnet}/{netmask}")
        except ValueError:
            network = None
    found = _valid_hosts(hosts, network)
    conflicts: dict[str, object] = {
        "update_conflicts": True,
        "update_fields": ["ip_address", "netmask", "subnet", "name", "last_seen_at", "computer"],
    }
    if connection.features.supports_update_conflicts_with_target:
        conflicts["unique_fields"] = ["mac"]  # MariaDB names no target: any unique key
    written = 0
    for macs in _chunks(sorted(found), CHUNK):
        linked = computers_by_mac(macs)
        rows = [
            DiscoveredDevice(
                mac=mac,
                ip_address=found[mac][0],
                name=found[mac][1],
                netmask=netmask,
                subnet=subnet,
                first_seen_at=now,  # kept by the upsert for MACs already known
                last_seen_at=now,
                computer_id=linked.get(mac),
            )
            for mac in macs
        ]
        DiscoveredDevice.objects.bulk_create(rows, batch_size=CHUNK, **conflicts)  # type: ignore[arg-type]
        written += len(rows)
    return written


def link_computer(computer: Computer, macs: Iterable[str]) -> None:
    """Point the discovered devices with these MACs at ``computer`` (after its inventory)."""
    wanted = {mac for mac in (mac_address(text) for text in macs) if mac}
    if wanted:
        DiscoveredDevice.objects.filter(mac__in=sorted(wanted)).exclude(computer=computer).update(
            computer=computer
        )
