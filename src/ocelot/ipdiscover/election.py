"""Choosing the computers that scan their subnet, after each inventory (protocol.md §11).

The rules of OCS 2.8.1, with its bug fixed (it never elected anyone automatically, §11):

* IPDISCOVER is the number of scanners per subnet; 0 switches the feature off.
* A candidate runs an eligible agent on Windows or Linux (seeds 004, "Mécanisme
  d'élection"), has contacted the server at least 3 times (FIDELITY) with a QUALITY (the
  average days between contacts) other than 0, unless IPDISCOVER_NO_POSTPONE.
* Its subnet comes from an interface that is up, not ppp, with a mask of /16 at most
  (a class B; a /8 is never scanned): see :mod:`ocelot.ipdiscover.networks`.
* A subnet with room gets the candidate. A full one swaps its worst automatic scanner
  (highest QUALITY) for the candidate when that scanner sent no inventory for
  IPDISCOVER_MAX_ALIVE days, or when the candidate's QUALITY is better by more than
  IPDISCOVER_BETTER_THRESHOLD days.
* A scanner whose inventory carries no scan result loses an automatic role; a subnet with
  too many scanners loses the extra automatic one.
* Choices made by hand ("never", "forced on a subnet") are never changed by the election.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from ocelot.inventory import groups
from ocelot.inventory.computer_queries import IPDISCOVER_FORCED, IPDISCOVER_NEVER, IPDISCOVER_OVERRIDE
from ocelot.inventory.contact import ScanProvider
from ocelot.inventory.models import Computer, NetworkInterface, SettingOverride
from ocelot.ipdiscover import choices, discovered
from ocelot.ipdiscover.models import Scanner
from ocelot.ipdiscover.networks import Subnetwork, scannable_subnet
from ocelot.protocol.messages import Inventory
from ocelot.protocol.useragent import split_user_agent

# Agents that can scan: OCS's list (§11) and ours.
SCANNING_AGENTS = frozenset(
    {"OCS-NG_unified_unix_agent", "OCS-NG_windows_client", "OCS-NG_WINDOWS_AGENT", "Ocelot-Agent"}
)
ACTIVE_ROLES = (Scanner.ELECTED, Scanner.FORCED)
MIN_FIDELITY = 3


def scan_provider() -> ScanProvider:
    """The contact's hook: the subnet this computer scans, or NULL (§4.5).

    A choice by hand (the computer's IPDISCOVER override, see choices.py) counts at once:
    "never" gives NULL, "forced:<network>" that network; otherwise an elected row's subnet.
    """
    scanners = Scanner._meta.db_table
    overrides = SettingOverride._meta.db_table
    own = (
        f"SELECT o.value FROM {overrides} o WHERE o.computer_id = {{computer}}"  # noqa: S608
        f" AND o.name = '{IPDISCOVER_OVERRIDE}'"
    )
    forced = len(IPDISCOVER_FORCED) + 1
    # Tables and names come from the models and constants; the computer id is a column.
    return ScanProvider(
        f"(CASE WHEN ({own}) = '{IPDISCOVER_NEVER}' THEN NULL"  # noqa: S608
        f" WHEN SUBSTR(({own}), 1, {forced}) = '{IPDISCOVER_FORCED}:' THEN SUBSTR(({own}), {forced + 1})"
        f" ELSE (SELECT s.subnet FROM {scanners} s WHERE s.computer_id = {{computer}}"
        f" AND s.role = '{Scanner.ELECTED}') END)"
    )


def eligible(computer: Computer, settings: dict[str, int | str]) -> bool:
    """OS, agent, FIDELITY and QUALITY rules for a candidate (seeds 004; §11)."""
    os_name = computer.os_name.lower()
    if "windows" not in os_name and "linux" not in os_name:
        return False
    parts = split_user_agent(computer.user_agent)
    if parts is None or parts[0] not in SCANNING_AGENTS:
        return False
    postponed = computer.fidelity < MIN_FIDELITY or computer.quality == 0
    if postponed and not int(settings["IPDISCOVER_NO_POSTPONE"]):
        return False
    # The groups' query last: a first inventory (FIDELITY 1) never needs it.
    return not _switched_off_by_groups(computer, settings)


def _switched_off_by_groups(computer: Computer, settings: dict[str, int | str]) -> bool:
    """A group of the computer says IPDISCOVER never (protocol.md §4.5, IPDISCOVER_USE_GROUPS)."""
    return bool(int(settings["IPDISCOVER_USE_GROUPS"])) and groups.ipdiscover_switched_off(computer.pk)


def candidate_subnets(computer: Computer) -> list[Subnetwork]:
    """The computer's scannable subnets, in interface order, each once."""
    found: list[Subnetwork] = []
    rows = NetworkInterface.objects.filter(computer=computer).order_by("id")
    for ip, mask, subnet, status, description in rows.values_list(
        "ip_address", "netmask", "subnet", "status", "description"
    ):
        candidate = scannable_subnet(
            ip_address=ip, netmask=mask, subnet=subnet, status=status, description=description
        )
        if candidate is not None and candidate not in found:
            found.append(candidate)
    return found


def scanner_count(subnet: str) -> int:
    return Scanner.objects.filter(subnet=subnet, role__in=ACTIVE_ROLES).count()


def _stale(computer: Computer, max_alive_days: int) -> bool:
    last = computer.last_inventory_at
    return last is None or last < timezone.now() - timedelta(days=max_alive_days)


def elect(computer: Computer, settings: dict[str, int | str]) -> Scanner | None:
    """Make ``computer`` a scanner if the rules say so; returns its new role, or None."""
    per_subnet = int(settings["IPDISCOVER"])
    if per_subnet <= 0 or not eligible(computer, settings):
        return None
    subnets = candidate_subnets(computer)
    for subnet in subnets:
        if scanner_count(subnet.address) < per_subnet:
            return Scanner.objects.create(
                computer=computer, role=Scanner.ELECTED, subnet=subnet.address, netmask=subnet.netmask
            )
    max_alive = int(settings["IPDISCOVER_MAX_ALIVE"])
    threshold = float(settings["IPDISCOVER_BETTER_THRESHOLD"])
    for subnet in subnets:
        # The worst automatic scanner: the longest average interval between contacts.
        worst = (
            Scanner.objects.select_related("computer")
            .filter(subnet=subnet.address, role=Scanner.ELECTED)
            .order_by("-computer__quality", "computer_id")
            .first()
        )
        if worst is None:
            continue  # every scanner there was chosen by hand
        if _stale(worst.computer, max_alive) or computer.quality < worst.computer.quality - threshold:
            worst.delete()
            return Scanner.objects.create(
                computer=computer, role=Scanner.ELECTED, subnet=subnet.address, netmask=subnet.netmask
            )
    return None


def after_inventory(
    computer: Computer, inventory: Inventory, settings: dict[str, int | str], imported: bool
) -> None:
    """The inventory hook: store a scan, keep or drop a role, or elect (§11)."""
    networks = inventory.sections.get("networks")
    if networks is not None:
        discovered.link_computer(computer, (str(row.get("mac") or "") for row in networks))
    if imported:
        return  # a file import is not an agent that could scan (§11: "local" agents skipped)
    # A choice made on the computer page since the last inventory takes effect here.
    scanner = choices.sync(computer.pk)
    if scanner is None:
        elect(computer, settings)
        return
    if scanner.role == Scanner.NEVER:
        return
    if inventory.discovered_hosts is None:
        if scanner.role == Scanner.ELECTED:
            scanner.delete()  # asked to scan, sent nothing: someone else may do better
        return
    discovered.store_scan(
        inventory.discovered_hosts, subnet=scanner.subnet, netmask=scanner.netmask, now=timezone.now()
    )
    if scanner.role == Scanner.ELECTED and (
        scanner_count(scanner.subnet) > int(settings["IPDISCOVER"])
        or _switched_off_by_groups(computer, settings)
    ):
        scanner.delete()


def scanners_per_subnet() -> dict[str, int]:
    """Subnet -> number of active scanners (elected or forced)."""
    rows = (
        Scanner.objects.filter(role__in=ACTIVE_ROLES)
        .values("subnet")
        .annotate(count=Count("id", filter=Q(role__in=ACTIVE_ROLES)))
    )
    return {row["subnet"]: row["count"] for row in rows}
