"""The duplicates page's domain (seed "Gérer les ordinateurs dupliqués")."""

from __future__ import annotations

import pytest

from ocelot.inventory import duplicate_report as report
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountInfo, BlacklistedMac, Computer
from ocelot.inventory.setting_values import set_global
from tests.inventory.payloads import small_inventory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_automatic_merge() -> None:
    # Automatic detection would merge these machines as they arrive.
    set_global("AUTO_DUPLICATE_LVL", 0)


def _machine(prefix: str, *, name: str, serial: str = "", macs: tuple[str, ...] = (), tag: str = "") -> int:
    networks = "".join(
        f"<NETWORKS><MACADDR>{mac}</MACADDR><IPADDRESS>10.0.0.{i}</IPADDRESS></NETWORKS>"
        for i, mac in enumerate(macs)
    )
    body = (
        f"<BIOS><SSN>{serial}</SSN></BIOS>{networks}"
        f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>"
    )
    device_id = f"{prefix}-01-01-00-00-00"  # e.g. pc-2025 -> pc-2025-01-01-00-00-00
    inventory = small_inventory(device_id, body)
    inventory.sections["hardware"][0]["name"] = name
    store_inventory(inventory)
    return Computer.objects.get(device_id=device_id).pk


def _groups(slug: str) -> list[tuple[tuple[str, ...], set[str]]]:
    _page, found = report.groups(report.method(slug))
    return [(group.values, {c.name for c in group.computers}) for group in found]


def _summary() -> dict[str, int]:
    return {chosen.slug: number for chosen, number in report.summary()}


def test_there_are_six_methods_in_the_seed_s_order() -> None:
    assert [m.slug for m in report.METHODS] == [
        "hostname-serial",
        "hostname-mac",
        "mac-serial",
        "hostname",
        "serial",
        "mac",
    ]


def test_the_summary_counts_redundant_computers_per_method() -> None:
    _machine("pc1-2024", name="pc1", serial="SN-1", macs=("02:00:00:00:00:01",))
    _machine("pc1-2025", name="PC1", serial="sn-1", macs=("02:00:00:00:00:01",))  # reinstalled
    _machine("pc2-2025", name="pc2", serial="SN-1", macs=("02:00:00:00:00:02",))  # same serial only
    _machine("pc3-2025", name="pc3", serial="SN-3", macs=("02:00:00:00:00:03",))
    assert _summary() == {
        "hostname-serial": 2,
        "hostname-mac": 2,
        "mac-serial": 2,
        "hostname": 2,
        "serial": 3,
        "mac": 2,
    }


def test_a_method_lists_groups_of_computers_sharing_its_values() -> None:
    _machine("a-2024", name="alpha", serial="SN-1", macs=("02:00:00:00:00:01",))
    _machine("a-2025", name="alpha", serial="SN-9", macs=("02:00:00:00:00:01",))
    _machine("b-2025", name="beta", serial="SN-1", macs=("02:00:00:00:00:02",))
    assert _groups("hostname") == [(("ALPHA",), {"alpha"})]
    assert _groups("hostname-mac") == [(("ALPHA", "02:00:00:00:00:01"), {"alpha"})]
    assert _groups("serial") == [(("SN-1",), {"alpha", "beta"})]
    assert _groups("mac-serial") == []
    assert _groups("hostname-serial") == []
    _page, (group,) = report.groups(report.method("hostname"))
    assert len(group.computers) == 2


def test_blacklisted_and_empty_values_never_count() -> None:
    BlacklistedMac.objects.get_or_create(value="02:00:00:00:00:99")
    for number in range(2):
        _machine(
            f"x{number}-2025", name=f"x{number}", serial="To be filled by O.E.M.", macs=("02:00:00:00:00:99",)
        )
        _machine(f"y{number}-2025", name=f"y{number}", serial="  ", macs=("",))
    assert _summary() == dict.fromkeys(_summary(), 0)


def test_a_computer_with_one_mac_on_several_addresses_is_not_its_own_duplicate() -> None:
    _machine("a-2025", name="alpha", macs=("02:00:00:00:00:01", "02:00:00:00:00:01"))
    assert _summary()["mac"] == 0


def test_each_computer_shows_its_name_serial_macs_last_inventory_and_tag() -> None:
    _machine(
        "a-2024", name="alpha", serial="SN-1", macs=("02:aa:00:00:00:01", "02:00:00:00:00:02"), tag="PARIS"
    )
    _machine("a-2025", name="alpha", serial="SN-2", tag="LYON")
    _page, (group,) = report.groups(report.method("hostname"))
    newest, _oldest = group.computers
    assert newest.last_inventory_at is not None
    shown = {(c.serial, c.macs, c.tag) for c in group.computers}
    assert shown == {("SN-1", ("02:00:00:00:00:02", "02:AA:00:00:00:01"), "PARIS"), ("SN-2", (), "LYON")}


def test_hostile_values_are_kept_as_text() -> None:
    hostile = "<script>alert(1)</script>"
    _machine("a-2024", name="h", serial="&lt;script&gt;alert(1)&lt;/script&gt;")
    _machine("a-2025", name="i", serial="&lt;script&gt;alert(1)&lt;/script&gt;")
    assert _groups("serial") == [((hostile.upper(),), {"h", "i"})]


def test_groups_are_paginated() -> None:
    Computer.objects.bulk_create(
        Computer(device_id=f"host{number:03d}-{copy}", name=f"host{number:03d}")
        for number in range(report.GROUPS_PER_PAGE + 1)
        for copy in range(2)
    )
    page, found = report.groups(report.method("hostname"), 2)
    assert page.paginator.count == report.GROUPS_PER_PAGE + 1
    assert [group.values for group in found] == [(f"HOST{report.GROUPS_PER_PAGE:03d}",)]


def test_merging_a_selection_keeps_the_newest_inventory_and_the_oldest_tag() -> None:
    old = _machine("pc-2024", name="pc", tag="OLD")
    new = _machine("pc-2025", name="pc", tag="NEW")
    (outcome,) = report.merge_selections([[old, new]])
    assert (outcome.kept_id, outcome.kept_name, outcome.merged_names, outcome.error) == (
        new,
        "pc",
        ("pc",),
        "",
    )
    assert list(Computer.objects.values_list("pk", flat=True)) == [new]
    assert AccountInfo.objects.get().tag == "OLD"


def test_one_computer_alone_is_not_merged() -> None:
    only = _machine("pc-2024", name="pc")
    (outcome,) = report.merge_selections([[only]])
    assert outcome.error and outcome.kept_id is None
    assert Computer.objects.count() == 1


def test_overlapping_selections_follow_earlier_merges() -> None:
    first = _machine("a-2024", name="a", macs=("02:00:00:00:00:01", "02:00:00:00:00:02"))
    second = _machine("b-2025", name="b", macs=("02:00:00:00:00:01",))
    third = _machine("c-2026", name="c", macs=("02:00:00:00:00:02",))
    outcomes = report.merge_selections([[first, second], [first, third]])
    assert [o.error for o in outcomes] == ["", ""]
    assert Computer.objects.count() == 1
    assert outcomes[1].kept_id == Computer.objects.get().pk


def test_an_unknown_method_is_an_error() -> None:
    with pytest.raises(report.DuplicateReportError):
        report.method("uuid")
