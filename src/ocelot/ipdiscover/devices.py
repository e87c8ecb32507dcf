"""The device lists of one subnet, registering devices and the device types.

Seeds 004: "Voir les matériels réseau non-inventoriés" (register moves a device to the
identified list), "Voir les hôtes identifiés", "Gérer les types de matériel connus".
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from ocelot.inventory.models import NetworkInterface
from ocelot.ipdiscover.election import ACTIVE_ROLES
from ocelot.ipdiscover.errors import IpDiscoveryInputError, IpDiscoveryNotFoundError
from ocelot.ipdiscover.models import DeviceType, DiscoveredDevice, IdentifiedDevice, Scanner
from ocelot.ipdiscover.networks import ipv4, mac_address

LISTS = ("inventoried", "non-inventoried", "scanners", "identified")


def _subnet(text: str) -> str:
    address = ipv4(text)
    if address is None:
        raise IpDiscoveryInputError("a subnet is given by its network address (a.b.c.d)")
    return str(address)


def device_list(subnet: str, which: str) -> QuerySet[Any]:
    """The rows behind one count of the network list, as dictionaries, in address order."""
    subnet = _subnet(subnet)
    identified_macs = IdentifiedDevice.objects.values("mac")
    if which == "inventoried":
        return (
            NetworkInterface.objects.filter(subnet=subnet)
            .order_by("ip_address", "computer_id")
            .values("computer_id", "computer__name", "ip_address", "mac")
        )
    if which == "non-inventoried":
        return (
            DiscoveredDevice.objects.filter(subnet=subnet, computer__isnull=True)
            .exclude(mac__in=identified_macs)
            .order_by("ip_address", "mac")
            .values("mac", "ip_address", "name", "first_seen_at", "last_seen_at")
        )
    if which == "scanners":
        return (
            Scanner.objects.filter(subnet=subnet, role__in=ACTIVE_ROLES)
            .order_by("computer__name", "computer_id")
            .values(
                "computer_id", "computer__name", "role", "computer__quality", "computer__last_inventory_at"
            )
        )
    if which == "identified":
        return (
            DiscoveredDevice.objects.filter(subnet=subnet, mac__in=identified_macs)
            .order_by("ip_address", "mac")
            .values("mac", "ip_address", "name", "last_seen_at")
        )
    raise IpDiscoveryInputError(f"the list is one of {', '.join(LISTS)}")


def identified_details(macs: list[str]) -> dict[str, dict[str, Any]]:
    """Type and description of registered MACs."""
    rows = IdentifiedDevice.objects.filter(mac__in=macs).values(
        "mac", "type__name", "description", "registered_by", "registered_at"
    )
    return {row["mac"]: dict(row) for row in rows}


def register_device(
    mac: str, *, type_id: int | None, description: str, registered_by: str = ""
) -> IdentifiedDevice:
    """Record a MAC as a known device: it leaves the non-inventoried list for the identified one."""
    clean = mac_address(mac)
    if clean is None:
        raise IpDiscoveryInputError("a MAC address looks like 00:11:22:aa:bb:cc")
    if len(description) > 1000:
        raise IpDiscoveryInputError("the description has at most 1000 characters")
    device_type = None
    if type_id is not None:
        device_type = DeviceType.objects.filter(pk=type_id).first()
        if device_type is None:
            raise IpDiscoveryNotFoundError(f"no device type with id {type_id}")
    device, _ = IdentifiedDevice.objects.update_or_create(
        mac=clean,
        defaults={
            "type": device_type,
            "description": description.strip(),
            "registered_by": registered_by[:150],
        },
    )
    return device


def unregister_device(mac: str) -> None:
    clean = mac_address(mac) or ""
    deleted, _ = IdentifiedDevice.objects.filter(mac=clean).delete()
    if not deleted:
        raise IpDiscoveryNotFoundError(f"{mac[:40]!r} is not a registered device")


def add_device_type(name: str) -> DeviceType:
    name = name.strip()
    if not name or len(name) > 255:
        raise IpDiscoveryInputError("a device type needs a name of at most 255 characters")
    try:
        with transaction.atomic():
            return DeviceType.objects.create(name=name)
    except IntegrityError:
        raise IpDiscoveryInputError(f"the device type {name!r} exists already") from None


def delete_device_type(type_id: int) -> None:
    deleted, _ = DeviceType.objects.filter(pk=type_id).delete()
    if not deleted:
        raise IpDiscoveryNotFoundError(f"no device type with id {type_id}")
