"""A group's IPDISCOVER "never" keeps its members from scanning (protocol.md §4.5: no IP
discovery for a computer with a group at IPDISCOVER 0, when IPDISCOVER_USE_GROUPS is on)."""

from __future__ import annotations

import pytest

from ocelot.inventory import groups
from ocelot.ipdiscover.election import after_inventory
from ocelot.ipdiscover.models import DiscoveredDevice, Scanner
from ocelot.protocol.messages import DiscoveredHost
from tests.ipdiscover.factories import computer, inventory, settings

pytestmark = pytest.mark.django_db


def roles() -> list[str]:
    return list(Scanner.objects.values_list("role", flat=True))


def switched_off_group(*members: int) -> groups.Group:
    group = groups.create_group("No scanning")
    groups.force_in(group, members)
    groups.update_group_settings(group, {"IPDISCOVER": "never"})
    return group


def test_a_member_of_a_group_at_never_is_not_elected() -> None:
    made = computer()
    switched_off_group(made.pk)
    after_inventory(made, inventory(made), settings(), False)
    assert roles() == []


def test_with_ipdiscover_use_groups_off_the_group_changes_nothing() -> None:
    made = computer()
    switched_off_group(made.pk)
    after_inventory(made, inventory(made), settings(IPDISCOVER_USE_GROUPS=0), False)
    assert roles() == ["elected"]


def test_an_elected_scanner_whose_group_switches_off_stores_its_last_scan_and_steps_down() -> None:
    made = computer()
    after_inventory(made, inventory(made), settings(), False)
    assert roles() == ["elected"]
    group = switched_off_group(made.pk)
    host = DiscoveredHost(ip="192.168.10.7", mac="00:11:22:33:44:55", name="")
    after_inventory(made, inventory(made, [host]), settings(), False)
    assert roles() == []
    assert DiscoveredDevice.objects.filter(ip_address="192.168.10.7").exists()
    # Excluded from that group: elected again.
    groups.exclude(group, [made.pk])
    after_inventory(made, inventory(made), settings(), False)
    assert roles() == ["elected"]


def test_no_postpone_does_not_overrule_a_group_at_never() -> None:
    # The election checks FIDELITY and QUALITY before the groups (a first inventory then
    # costs no groups query); IPDISCOVER_NO_POSTPONE skips the former, never the latter.
    made = computer(fidelity=1, quality=0)
    switched_off_group(made.pk)
    after_inventory(made, inventory(made), settings(IPDISCOVER_NO_POSTPONE=1), False)
    assert roles() == []
