"""Storing what a scanner reports: one row per MAC with first and last seen (protocol.md §11).

A /16 scan is 65,536 hosts from one agent. They are written in chunks with one upsert
statement per chunk (INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE), so the time grows
with the number of hosts and the memory with the chunk, not with the scan
(bench/ipdiscover.py measures both).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import connection

from ocelot.inventory.models import Computer, NetworkInterface
from ocelot.ipdiscover.models import DiscoveredDevice
from ocelot.ipdiscover.networks import mac_address
from ocelot.protocol.messages import DiscoveredHost

CHUNK = 2000
_DOTTED = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$")
_NAME_LENGTH = DiscoveredDevice._meta.get_field("name").max_length or 255


def _address_value(text: str) -> int | None:
    """A dotted quad as an integer, or None; what ipaddress accepts, 30 times faster (a /16
    scan is 65,536 of them)."""
    found = _DOTTED.match(text)
    if found is None:
        return None
    value = 0
    for part in found.groups():
        if len(part) > 1 and part[0] == "0":
            return None  # leading zeros are ambiguous (octal for some tools)
        number = int(part)
        if number > 255:
            return None
        value = value << 8 | number
    return value


def _valid_hosts(
    hosts: Iterable[DiscoveredHost], network: ipaddress.IPv4Network | None
) -> dict[str, tuple[str, str]]:
    """MAC -> (IP, name) of the well-formed hosts inside the scanner's network.

    OCS keeps an H only if I is a dotted quad and M looks like a MAC (§11). An address
    outside the subnet the scanner was asked to cover is dropped too: an agent cannot
    fill another network's list. A MAC seen twice keeps its last line.
    """
    base = int(network.network_address) if network is not None else 0
    mask = int(network.netmask) if network is not None else 0
    found: dict[str, tuple[str, str]] = {}
    for host in hosts:
        ip = host.ip.strip()
        value = _address_value(ip)
        mac = mac_address(host.mac)
        if mac is None or value is None or value & mask != base:
            continue
        found[mac] = (ip, host.name.strip()[:_NAME_LENGTH])
    return found


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def computers_by_mac(macs: Iterable[str]) -> dict[str, int]:
    """Inventoried computers that carry these MACs in their NETWORKS (any letter case).

    Plain SQL: building the ORM's IN lookup of 4,000 values cost more than running it.
    """
    wanted = set(macs)
    variants = sorted(wanted | {mac.upper() for mac in wanted})
    if not variants:
        return {}
    table = connection.ops.quote_name(NetworkInterface._meta.db_table)
    marks = ", ".join(["%s"] * len(variants))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT mac, computer_id FROM {table} WHERE mac IN ({marks})", variants)  # noqa: S608
        return {str(mac).lower(): int(computer_id) for mac, computer_id in cursor.fetchall()}


def store_scan(hosts: Iterable[DiscoveredHost], *, subnet: str, netmask: str, now: datetime) -> int:
    """Upsert the hosts of one scan of ``subnet``; returns how many rows were written."""
    network = None
    if netmask:
        try:
            network = ipaddress.IPv4Network(f"{subnet}/{netmask}")
        except ValueError:
            network = None
    found = _valid_hosts(hosts, network)
    stamp = connection.ops.adapt_datetimefield_value(now)
    written = 0
    with connection.cursor() as cursor:
        for macs in _chunks(sorted(found), CHUNK):
            linked = computers_by_mac(macs)
            cursor.executemany(
                _upsert_sql(),
                [
                    (mac, found[mac][0], netmask, subnet, found[mac][1], stamp, stamp, linked.get(mac))
                    for mac in macs
                ],
            )
            written += len(macs)
    return written


_COLUMNS = ("mac", "ip_address", "netmask", "subnet", "name", "first_seen_at", "last_seen_at", "computer_id")
# Everything but the MAC and the first sighting moves with each scan.
_UPDATED = ("ip_address", "netmask", "subnet", "name", "last_seen_at", "computer_id")


def _upsert_sql() -> str:
    """One row's upsert, in the dialect of the database (bound values only).

    ``bulk_create(update_conflicts=True)`` wrote the same statement but built a model
    instance per host and one very long statement per batch: about 10 times slower than a
    plain INSERT of the same rows (bench/ipdiscover.py).
    """
    quote = connection.ops.quote_name
    table = quote(DiscoveredDevice._meta.db_table)
    columns = ", ".join(quote(column) for column in _COLUMNS)
    values = ", ".join(["%s"] * len(_COLUMNS))
    if connection.vendor == "mysql":
        updates = ", ".join(f"{quote(c)} = VALUES({quote(c)})" for c in _UPDATED)
        conflict = f"ON DUPLICATE KEY UPDATE {updates}"
    else:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in _UPDATED)
        conflict = f"ON CONFLICT ({quote('mac')}) DO UPDATE SET {updates}"
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) {conflict}"  # noqa: S608 - model names


def link_computer(computer: Computer, macs: Iterable[str]) -> None:
    """Point the discovered devices with these MACs at ``computer`` (after its inventory)."""
    wanted = sorted({mac for mac in (mac_address(text) for text in macs) if mac})
    if wanted:
        # Plain SQL: after every inventory, and the ORM took longer to build this UPDATE
        # than the database to run it.
        quote = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(wanted))
        sql = (
            f"UPDATE {quote(DiscoveredDevice._meta.db_table)} SET {quote('computer_id')} = %s"  # noqa: S608
            f" WHERE {quote('mac')} IN ({marks})"
            f" AND ({quote('computer_id')} IS NULL OR {quote('computer_id')} <> %s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [computer.pk, *wanted, computer.pk])
