"""Duplicate computers: AUTO_DUPLICATE_LVL criteria, blacklists, OLD_DEVICEID and manual merge."""

from __future__ import annotations

import pytest

from ocelot.inventory import duplicates
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import (
    AccountInfo,
    BlacklistedSerial,
    Computer,
    Group,
    GroupMember,
    SettingOverride,
)
from ocelot.inventory.setting_values import set_global, set_override
from tests.inventory.payloads import small_inventory

pytestmark = pytest.mark.django_db


def _machine(
    device_id: str,
    *,
    serial: str = "SN-1",
    mac: str = "02:00:00:00:00:01",
    model: str = "T14",
    uuid: str = "",
    asset: str = "",
    tag: str = "",
) -> None:
    name = device_id.split("-")[0]
    body = (
        f"<BIOS><SSN>{serial}</SSN><SMODEL>{model}</SMODEL><ASSETTAG>{asset}</ASSETTAG></BIOS>"
        f"<NETWORKS><MACADDR>{mac}</MACADDR></NETWORKS>"
        f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>"
    )
    inventory = small_inventory(device_id, body)
    inventory.sections["hardware"][0].update({"name": name, "uuid": uuid})
    store_inventory(inventory)


def test_the_default_level_merges_on_hostname_serial_and_mac() -> None:
    _machine("pc-2024-01-01-00-00-00", tag="OLD")
    _machine("pc-2025-01-01-00-00-00", tag="NEW")  # the same machine, reinstalled

    computer = Computer.objects.get()
    assert computer.device_id == "pc-2025-01-01-00-00-00"
    assert computer.account_info.tag == "OLD"  # the old administrative data is kept


def test_a_different_serial_is_not_a_duplicate_at_the_default_level() -> None:
    _machine("pc-2024-01-01-00-00-00")
    _machine("pc-2025-01-01-00-00-00", serial="SN-2")
    assert Computer.objects.count() == 2


def test_blacklisted_serials_never_match() -> None:
    set_global("AUTO_DUPLICATE_LVL", duplicates.SERIAL)
    _machine("pc-2024-01-01-00-00-00", serial="To be filled by O.E.M.")
    _machine("other-2025-01-01-00-00-00", serial="To be filled by O.E.M.")
    assert Computer.objects.count() == 2
    assert BlacklistedSerial.objects.filter(value="NNNNNNNN").exists()


def test_a_blacklisted_serial_never_matches_whatever_its_case() -> None:
    set_global("AUTO_DUPLICATE_LVL", duplicates.SERIAL)
    _machine("pc-2024-01-01-00-00-00", serial="to be filled by o.e.m.")
    _machine("other-2025-01-01-00-00-00", serial="to be filled by o.e.m.")
    assert Computer.objects.count() == 2


def test_blacklisted_macs_never_match() -> None:
    set_global("AUTO_DUPLICATE_LVL", duplicates.MAC)
    _machine("a-2024-01-01-00-00-00", mac="00:00:00:00:00:00")
    _machine("b-2025-01-01-00-00-00", mac="00:00:00:00:00:00")
    assert Computer.objects.count() == 2


def test_macs_compare_without_regard_to_case() -> None:
    set_global("AUTO_DUPLICATE_LVL", duplicates.MAC)
    _machine("a-2024-01-01-00-00-00", mac="02:ab:00:00:00:01")
    _machine("b-2025-01-01-00-00-00", mac="02:AB:00:00:00:01")
    assert Computer.objects.get().device_id == "b-2025-01-01-00-00-00"


@pytest.mark.parametrize(
    ("level", "same", "different"),
    [
        (duplicates.HOSTNAME, {}, {"name": "other"}),
        (duplicates.MODEL, {}, {"model": "X1"}),
        (duplicates.UUID, {"uuid": "u-1"}, {"uuid": "u-2"}),
        (duplicates.ASSET_TAG, {"asset": "A-77"}, {"asset": "A-78"}),
    ],
)
def test_each_criterion_matches_only_equal_values(level: int, same: dict, different: dict) -> None:
    set_global("AUTO_DUPLICATE_LVL", level)
    _machine("pc-2024-01-01-00-00-00", **same)
    first_name = different.pop("name", "pc")
    _machine(f"{first_name}-2025-01-01-00-00-00", **{**same, **different})
    assert Computer.objects.count() == 2
    _machine("pc-2026-01-01-00-00-00", **same)
    assert Computer.objects.count() == 2  # the first one was absorbed


def test_an_empty_value_never_matches() -> None:
    set_global("AUTO_DUPLICATE_LVL", duplicates.UUID)
    _machine("a-2024-01-01-00-00-00")
    _machine("b-2025-01-01-00-00-00")
    assert Computer.objects.count() == 2


def test_level_zero_switches_detection_off() -> None:
    set_global("AUTO_DUPLICATE_LVL", 0)
    _machine("pc-2024-01-01-00-00-00")
    _machine("pc-2025-01-01-00-00-00")
    assert Computer.objects.count() == 2


def test_settings_and_groups_move_to_the_new_computer() -> None:
    _machine("pc-2024-01-01-00-00-00")
    old = Computer.objects.get()
    group = Group.objects.create(name="lab")
    GroupMember.objects.create(group=group, computer=old)
    set_override("FREQUENCY", 3, computer=old)

    _machine("pc-2025-01-01-00-00-00")

    new = Computer.objects.get()
    assert SettingOverride.objects.get().computer == new
    assert GroupMember.objects.get().computer == new


def test_merge_hooks_let_other_domains_move_their_rows() -> None:
    seen: list[tuple[str, str]] = []
    duplicates.merge_hooks.append(lambda keep, gone: seen.append((keep.device_id, gone.device_id)))
    try:
        _machine("pc-2024-01-01-00-00-00")
        _machine("pc-2025-01-01-00-00-00")
    finally:
        duplicates.merge_hooks.pop()
    assert seen == [("pc-2025-01-01-00-00-00", "pc-2024-01-01-00-00-00")]


def test_a_manual_merge_keeps_the_newest_inventory_and_the_oldest_account_info() -> None:
    set_global("AUTO_DUPLICATE_LVL", 0)
    _machine("a-2024-01-01-00-00-00", tag="OLDEST")
    _machine("b-2025-01-01-00-00-00", tag="MIDDLE")
    _machine("c-2026-01-01-00-00-00", tag="NEWEST")
    ids = list(Computer.objects.values_list("id", flat=True))

    kept = duplicates.merge_computers(ids)

    assert Computer.objects.get() == kept
    assert kept.device_id == "c-2026-01-01-00-00-00"
    assert AccountInfo.objects.get().tag == "OLDEST"


def test_a_manual_merge_needs_two_existing_computers() -> None:
    _machine("a-2024-01-01-00-00-00")
    with pytest.raises(duplicates.MergeError):
        duplicates.merge_computers([Computer.objects.get().pk])
    with pytest.raises(duplicates.MergeError):
        duplicates.merge_computers([Computer.objects.get().pk, 999999])
