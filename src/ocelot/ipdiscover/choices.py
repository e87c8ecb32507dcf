"""Per-computer scanner choices made by hand: never, forced on a subnet, or automatic.

Seeds 004 ("N.B. : Vous pouvez personnaliser..."): IP discovery can be switched off for a
computer or forced on a given network. OCS stores these as IVALUE 0 and 2 (§11); the
election never undoes them (:mod:`ocelot.ipdiscover.election`).
"""

from __future__ import annotations

import ipaddress

from django.db import transaction

from ocelot.inventory.models import Computer, NetworkInterface
from ocelot.ipdiscover.errors import IpDiscoveryInputError, IpDiscoveryNotFoundError
from ocelot.ipdiscover.models import Scanner, Subnet
from ocelot.ipdiscover.networks import ipv4

AUTOMATIC = "automatic"
MODES = (AUTOMATIC, Scanner.NEVER, Scanner.FORCED)


def _netmask_of(computer: Computer, subnet: str) -> str:
    """The mask of ``subnet`` as the computer's NETWORKS or the subnet names give it."""
    for ip, mask in NetworkInterface.objects.filter(computer=computer).values_list("ip_address", "netmask"):
        try:
            network = ipaddress.IPv4Network(f"{ip}/{mask}", strict=False)
        except ValueError:
            continue
        if str(network.network_address) == subnet:
            return str(network.netmask)
    named = Subnet.objects.filter(address=subnet).values_list("netmask", flat=True).first()
    return named or ""


def current_choice(computer_id: int) -> tuple[str, str]:
    """(mode, subnet) of a computer: automatic also when the election made it a scanner."""
    scanner = Scanner.objects.filter(computer_id=computer_id).first()
    if scanner is None or scanner.role == Scanner.ELECTED:
        return AUTOMATIC, scanner.subnet if scanner else ""
    return scanner.role, scanner.subnet


@transaction.atomic
def set_choice(computer_id: int, mode: str, subnet: str = "") -> tuple[str, str]:
    """Record a choice by hand; returns the resulting (mode, subnet)."""
    if mode not in MODES:
        raise IpDiscoveryInputError(f"the scanner choice must be one of {', '.join(MODES)}")
    computer = Computer.objects.select_for_update().filter(pk=computer_id).first()
    if computer is None:
        raise IpDiscoveryNotFoundError(f"no computer with id {computer_id}")
    if mode == AUTOMATIC:
        # Back to the election: a hand-made role goes, an elected one stays.
        Scanner.objects.filter(computer=computer).exclude(role=Scanner.ELECTED).delete()
        return current_choice(computer.pk)
    if mode == Scanner.NEVER:
        Scanner.objects.update_or_create(
            computer=computer, defaults={"role": Scanner.NEVER, "subnet": "", "netmask": ""}
        )
        return current_choice(computer.pk)
    address = ipv4(subnet)
    if address is None:
        raise IpDiscoveryInputError("a forced scanner needs the network address of its subnet (a.b.c.d)")
    netmask = _netmask_of(computer, str(address))
    Scanner.objects.update_or_create(
        computer=computer, defaults={"role": Scanner.FORCED, "subnet": str(address), "netmask": netmask}
    )
    return current_choice(computer.pk)
