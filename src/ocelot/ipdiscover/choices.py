"""Per-computer scanner choices made by hand: never, forced on a subnet, or automatic.

Seeds 004 ("N.B. : Vous pouvez personnaliser..."): IP discovery can be switched off for a
computer or forced on a given network, from the computer's page. The choice is stored
where the computer page keeps it (inventory/computer_queries.py): a SettingOverride named
IPDISCOVER whose value is ``never``, ``automatic`` or ``forced:<network>`` (OCS's
``devices`` IVALUE 0 and 2, protocol.md §11). :func:`sync` mirrors it into the Scanner
table, at once when set here and after each inventory when set from the computer page;
the contact reads the override itself, so a change counts from the next contact. The
election never changes a choice made by hand.
"""

from __future__ import annotations

import ipaddress

from django.db import connection, transaction

from ocelot.inventory.computer_queries import (
    IPDISCOVER_AUTOMATIC,
    IPDISCOVER_FORCED,
    IPDISCOVER_NEVER,
    IPDISCOVER_OVERRIDE,
)
from ocelot.inventory.models import Computer, NetworkInterface, SettingOverride
from ocelot.ipdiscover.errors import IpDiscoveryInputError, IpDiscoveryNotFoundError
from ocelot.ipdiscover.models import Scanner, Subnet
from ocelot.ipdiscover.networks import ipv4

AUTOMATIC = IPDISCOVER_AUTOMATIC
MODES = (AUTOMATIC, Scanner.NEVER, Scanner.FORCED)
_FORCED_PREFIX = f"{IPDISCOVER_FORCED}:"


def _netmask_of(computer_id: int, subnet: str) -> str:
    """The mask of ``subnet`` as the computer's NETWORKS or the subnet names give it."""
    rows = NetworkInterface.objects.filter(computer_id=computer_id).values_list("ip_address", "netmask")
    for ip, mask in rows:
        try:
            network = ipaddress.IPv4Network(f"{ip}/{mask}", strict=False)
        except ValueError:
            continue
        if str(network.network_address) == subnet:
            return str(network.netmask)
    named = Subnet.objects.filter(address=subnet).values_list("netmask", flat=True).first()
    return named or ""


def own_choice(computer_id: int) -> tuple[str, str]:
    """(mode, forced subnet) the computer's own override says; automatic without one."""
    value = (
        SettingOverride.objects.filter(computer_id=computer_id, name=IPDISCOVER_OVERRIDE)
        .values_list("value", flat=True)
        .first()
    )
    return _choice(value or "")


def _choice(value: str) -> tuple[str, str]:
    if value == IPDISCOVER_NEVER:
        return Scanner.NEVER, ""
    if value.startswith(_FORCED_PREFIX):
        address = ipv4(value[len(_FORCED_PREFIX) :])
        if address is not None:
            return Scanner.FORCED, str(address)
    return AUTOMATIC, ""


def _override_and_scanner(computer_id: int) -> tuple[str, int | None]:
    """The computer's IPDISCOVER override ("" without one) and its Scanner row's id, in
    one statement: this runs after every inventory, where most computers have neither."""
    quote = connection.ops.quote_name
    computers = quote(Computer._meta.db_table)
    overrides = quote(SettingOverride._meta.db_table)
    scanners = quote(Scanner._meta.db_table)
    # Table names come from the models; the values are bound.
    sql = (
        f"SELECT (SELECT o.value FROM {overrides} o WHERE o.computer_id = c.id AND o.name = %s),"  # noqa: S608
        f" s.id FROM {computers} c LEFT JOIN {scanners} s ON s.computer_id = c.id WHERE c.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [IPDISCOVER_OVERRIDE, computer_id])
        row = cursor.fetchone()
    if row is None:
        return "", None
    return row[0] or "", row[1]


def sync(computer_id: int) -> Scanner | None:
    """Make the Scanner row agree with the choice by hand; returns the row, if any."""
    value, scanner_id = _override_and_scanner(computer_id)
    mode, subnet = _choice(value)
    scanner = Scanner.objects.filter(pk=scanner_id).first() if scanner_id is not None else None
    if mode == AUTOMATIC:
        if scanner is not None and scanner.role != Scanner.ELECTED:
            scanner.delete()  # back to the election
            return None
        return scanner
    wanted = {"role": mode, "subnet": subnet, "netmask": _netmask_of(computer_id, subnet) if subnet else ""}
    if scanner is not None and all(getattr(scanner, key) == value for key, value in wanted.items()):
        return scanner
    scanner, _ = Scanner.objects.update_or_create(computer_id=computer_id, defaults=wanted)
    return scanner


def current_choice(computer_id: int) -> tuple[str, str]:
    """(mode, subnet): by hand, or automatic with the subnet the election gave it ("" if none)."""
    mode, subnet = own_choice(computer_id)
    if mode != AUTOMATIC:
        return mode, subnet
    elected = Scanner.objects.filter(computer_id=computer_id, role=Scanner.ELECTED).first()
    return AUTOMATIC, elected.subnet if elected else ""


@transaction.atomic
def set_choice(computer_id: int, mode: str, subnet: str = "") -> tuple[str, str]:
    """Record a choice by hand (as the computer page does); returns the resulting (mode, subnet)."""
    if mode not in MODES:
        raise IpDiscoveryInputError(f"the scanner choice must be one of {', '.join(MODES)}")
    computer = Computer.objects.select_for_update().filter(pk=computer_id).first()
    if computer is None:
        raise IpDiscoveryNotFoundError(f"no computer with id {computer_id}")
    value = mode
    if mode == Scanner.FORCED:
        address = ipv4(subnet)
        if address is None:
            raise IpDiscoveryInputError("a forced scanner needs the network address of its subnet (a.b.c.d)")
        value = f"{_FORCED_PREFIX}{address}"
    SettingOverride.objects.update_or_create(
        computer=computer, name=IPDISCOVER_OVERRIDE, defaults={"value": value}
    )
    sync(computer.pk)
    return current_choice(computer.pk)
