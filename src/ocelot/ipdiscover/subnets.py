"""Subnet names and the network list with its counts (seeds 004, "Gérer les noms de vos
réseaux" and "Voir la liste des réseaux").

For each subnet: inventoried computers (a NETWORKS row on it), non-inventoried devices
(discovered, not an inventoried computer, not registered), scanners (elected or forced)
and identified devices (discovered and registered). One grouped query per count.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count

from ocelot.inventory.models import NetworkInterface
from ocelot.ipdiscover.election import scanners_per_subnet
from ocelot.ipdiscover.errors import IpDiscoveryInputError, IpDiscoveryNotFoundError
from ocelot.ipdiscover.models import DiscoveredDevice, IdentifiedDevice, Subnet
from ocelot.ipdiscover.networks import ipv4


@dataclass(frozen=True)
class NetworkSummary:
    """One line of the network list."""

    address: str
    netmask: str
    name: str
    identifier: str
    inventoried: int
    non_inventoried: int
    scanners: int
    identified: int


def add_subnet(*, name: str, identifier: str, address: str, netmask: str) -> Subnet:
    """Name a network; the address must be the network address of the mask."""
    name, identifier = name.strip(), identifier.strip()
    if not name or len(name) > 255:
        raise IpDiscoveryInputError("a subnet needs a name of at most 255 characters")
    if len(identifier) > 64:
        raise IpDiscoveryInputError("the subnet ID has at most 64 characters")
    try:
        network = ipaddress.IPv4Network(f"{address.strip()}/{netmask.strip()}")
    except ValueError as exc:
        raise IpDiscoveryInputError(f"not an IPv4 network address and mask: {exc}") from None
    try:
        with transaction.atomic():
            return Subnet.objects.create(
                name=name,
                identifier=identifier,
                address=str(network.network_address),
                netmask=str(network.netmask),
            )
    except IntegrityError:
        raise IpDiscoveryInputError(f"{network.network_address} already has a name") from None


def analysable_target(address: str) -> str | None:
    """``address/prefix`` when the subnet's mask is known and it has at most 256 addresses
    (what a server scan covers), else None."""
    mask = (
        Subnet.objects.filter(address=address).values_list("netmask", flat=True).first()
        or DiscoveredDevice.objects.filter(subnet=address).values_list("netmask", flat=True).first()
        or ""
    )
    try:
        network = ipaddress.IPv4Network(f"{address}/{mask}")
    except ValueError:
        return None
    return str(network) if mask and network.num_addresses <= 256 else None


def delete_subnet(subnet_id: int) -> None:
    deleted, _ = Subnet.objects.filter(pk=subnet_id).delete()
    if not deleted:
        raise IpDiscoveryNotFoundError(f"no subnet name with id {subnet_id}")


def _grouped(rows: object) -> dict[str, int]:
    return {row["subnet"]: row["count"] for row in rows}  # type: ignore[attr-defined]


def network_list() -> list[NetworkSummary]:
    """Every subnet seen by an inventory, a scan or a name, with its four counts."""
    identified_macs = IdentifiedDevice.objects.values("mac")
    inventoried = _grouped(
        NetworkInterface.objects.exclude(subnet="")
        .values("subnet")
        .annotate(count=Count("computer", distinct=True))
    )
    discovered = DiscoveredDevice.objects.values("subnet")
    non_inventoried = _grouped(
        discovered.filter(computer__isnull=True).exclude(mac__in=identified_macs).annotate(count=Count("id"))
    )
    identified = _grouped(discovered.filter(mac__in=identified_macs).annotate(count=Count("id")))
    scanners = scanners_per_subnet()
    names = {subnet.address: subnet for subnet in Subnet.objects.all()}
    masks = dict(DiscoveredDevice.objects.values_list("subnet", "netmask").distinct())
    addresses = {
        address
        for address in (*inventoried, *non_inventoried, *identified, *scanners, *names)
        if ipv4(address) is not None
    }
    summaries = []
    for address in sorted(addresses, key=lambda text: ipaddress.IPv4Address(text)):
        named = names.get(address)
        summaries.append(
            NetworkSummary(
                address=address,
                netmask=named.netmask if named else masks.get(address, ""),
                name=named.name if named else "",
                identifier=named.identifier if named else "",
                inventoried=inventoried.get(address, 0),
                non_inventoried=non_inventoried.get(address, 0),
                scanners=scanners.get(address, 0),
                identified=identified.get(address, 0),
            )
        )
    return summaries
