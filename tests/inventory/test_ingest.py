"""Storing inventories: sections, software catalogue, CHECKSUM-driven diffs, bookkeeping."""

from __future__ import annotations

import pytest

from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import (
    Computer,
    Drive,
    LocalGroup,
    LocalUser,
    NetworkInterface,
    PackageHistoryEntry,
    Software,
    SoftwareInstallation,
)
from ocelot.inventory.setting_values import set_global
from tests.inventory.payloads import UNIX_SAMPLE, small_inventory, unix_inventory

pytestmark = pytest.mark.django_db

SOFTWARE_ENTRIES = UNIX_SAMPLE.count(b"<SOFTWARES>")


def test_a_first_inventory_creates_the_computer_with_every_section() -> None:
    reply = store_inventory(
        unix_inventory(), source_ip="192.0.2.2", user_agent="OCS-NG_unified_unix_agent_v2.10.0"
    )

    assert reply.account_info is None
    computer = Computer.objects.get(device_id="vm-2026-11-21-17-46-56")
    assert computer.name == "vm"
    assert computer.os_name == "Debian GNU/Linux 12"
    assert computer.memory == 24105
    assert computer.processor_speed is None  # sent empty
    assert computer.source_ip == "192.0.2.2"
    assert computer.ip_address == "192.0.2.2"  # the interface the agent connected from
    assert computer.last_inventory_at is not None
    assert computer.checksum == 1572863 | 262143 | 1
    assert computer.software.count() == SOFTWARE_ENTRIES
    assert computer.networks.count() == UNIX_SAMPLE.count(b"<NETWORKS>")
    assert computer.local_users.count() == UNIX_SAMPLE.count(b"<LOCAL_USERS>")
    assert computer.local_groups.count() == UNIX_SAMPLE.count(b"<LOCAL_GROUPS>")
    assert computer.controllers.count() == UNIX_SAMPLE.count(b"<CONTROLLERS>")
    assert computer.storages.count() == UNIX_SAMPLE.count(b"<STORAGES>")
    assert computer.repositories.count() == UNIX_SAMPLE.count(b"<REPOSITORY>")
    assert computer.cpus.get().cores == "2"
    assert computer.cpus.get().extra == {}
    drive = computer.drives.get()
    assert (drive.mount_point, drive.volume, drive.free, drive.total) == ("/", "/dev/vda", 80517, 258019)
    assert computer.account_info.tag == "SAMPLE_TAG"


def test_software_is_normalised_into_one_catalogue_row_per_name_publisher_and_version() -> None:
    store_inventory(unix_inventory())
    store_inventory(unix_inventory(device_id="other-2026-11-21-17-46-56"))

    rows = unix_inventory().sections["software"]
    distinct = {(row.get("name"), row.get("publisher", ""), row.get("version", "")) for row in rows}
    assert Software.objects.count() == len(distinct)
    assert SoftwareInstallation.objects.count() == 2 * SOFTWARE_ENTRIES
    adduser = Software.objects.get(name="adduser")
    assert (adduser.version, adduser.publisher) == ("3.134", "")
    assert adduser.installations.count() == 2
    installation = adduser.installations.first()
    assert installation is not None
    assert (installation.source, installation.architecture, installation.file_size) == ("deb", "all", 702464)


def test_an_unchanged_section_keeps_its_rows_when_the_checksum_says_so() -> None:
    store_inventory(unix_inventory())
    computer = Computer.objects.get()
    network_ids = sorted(computer.networks.values_list("id", flat=True))

    # Second run of the real agent: only HARDWARE (1) and DRIVES (512) changed.
    changed = unix_inventory(checksum=513, replace={b"<FREE>80517</FREE>": b"<FREE>70000</FREE>"})
    changed.sections["networks"] = []  # even an empty section is left alone when its bit is clear
    store_inventory(changed)

    assert sorted(computer.networks.values_list("id", flat=True)) == network_ids
    assert Drive.objects.get(computer=computer).free == 70000
    assert computer.software.count() == SOFTWARE_ENTRIES


def test_software_is_left_alone_when_its_bit_is_clear() -> None:
    store_inventory(unix_inventory())
    before = set(SoftwareInstallation.objects.values_list("id", flat=True))
    store_inventory(unix_inventory(checksum=1, replace={b"<NAME>zstd</NAME>": b"<NAME>zstd-renamed</NAME>"}))
    assert set(SoftwareInstallation.objects.values_list("id", flat=True)) == before
    assert not Software.objects.filter(name="zstd-renamed").exists()


def test_sections_outside_the_checksum_bits_are_rewritten_from_every_inventory() -> None:
    store_inventory(unix_inventory())
    store_inventory(unix_inventory(checksum=1, replace={b"<NAME>daemon</NAME>": b"<NAME>renamed</NAME>"}))

    assert LocalGroup.objects.filter(name="renamed").count() == 1
    assert LocalUser.objects.count() == UNIX_SAMPLE.count(b"<LOCAL_USERS>")


def test_with_inventory_diff_off_every_section_is_rewritten() -> None:
    set_global("INVENTORY_DIFF", 0)
    store_inventory(unix_inventory())
    store_inventory(unix_inventory(checksum=1, replace={b"<MTU>1400</MTU>": b"<MTU>9000</MTU>"}))

    assert NetworkInterface.objects.filter(mtu="9000").count() == 2


def test_write_diff_only_replaces_the_rows_that_changed() -> None:
    store_inventory(unix_inventory())
    before = dict(SoftwareInstallation.objects.values_list("software__name", "id"))

    store_inventory(
        unix_inventory(checksum=65537, replace={b"<VERSION>3.1.0-3</VERSION>": b"<VERSION>3.2.0-1</VERSION>"})
    )

    after = dict(SoftwareInstallation.objects.values_list("software__name", "id"))
    assert after.keys() == before.keys()
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"yq"}
    assert SoftwareInstallation.objects.get(software__name="yq").software.version == "3.2.0-1"


def test_without_write_diff_a_changed_section_is_replaced_whole() -> None:
    set_global("INVENTORY_WRITE_DIFF", 0)
    store_inventory(unix_inventory())
    before = set(SoftwareInstallation.objects.values_list("id", flat=True))
    store_inventory(unix_inventory(checksum=65537))
    assert before.isdisjoint(SoftwareInstallation.objects.values_list("id", flat=True))
    assert SoftwareInstallation.objects.count() == SOFTWARE_ENTRIES


def test_duplicate_rows_within_a_section_are_all_kept() -> None:
    # The sample lists the same Debian repository twice.
    store_inventory(unix_inventory())
    store_inventory(unix_inventory(checksum=1))
    assert (
        Computer.objects.get()
        .repositories.filter(base_url="http://apt-mirror.example.invalid/debian")
        .count()
        == 2
    )


def test_the_checksum_column_accumulates_changed_sections() -> None:
    store_inventory(small_inventory("pc-2026-01-01-00-00-00", "", checksum=4096))
    store_inventory(small_inventory("pc-2026-01-01-00-00-00", "", checksum=2))
    assert Computer.objects.get().checksum == 262143 | 4096 | 2 | 1


def test_the_package_history_is_synced_with_what_the_agent_lists() -> None:
    history = '<DOWNLOAD><HISTORY><PACKAGE ID="1700000001"/><PACKAGE ID="1700000002"/></HISTORY></DOWNLOAD>'
    store_inventory(small_inventory("pc-2026-01-01-00-00-00", history))
    assert sorted(PackageHistoryEntry.objects.values_list("package_id", flat=True)) == [
        1700000001,
        1700000002,
    ]

    store_inventory(
        small_inventory(
            "pc-2026-01-01-00-00-00",
            '<DOWNLOAD><HISTORY><PACKAGE ID="1700000002"/><PACKAGE ID="1700000003"/></HISTORY></DOWNLOAD>',
        )
    )
    assert sorted(PackageHistoryEntry.objects.values_list("package_id", flat=True)) == [
        1700000002,
        1700000003,
    ]

    store_inventory(small_inventory("pc-2026-01-01-00-00-00", "<DOWNLOAD><HISTORY></HISTORY></DOWNLOAD>"))
    assert not PackageHistoryEntry.objects.exists()


def test_a_system_account_does_not_replace_the_last_real_user() -> None:
    store_inventory(small_inventory("pc-2026-01-01-00-00-00", ""))
    computer = Computer.objects.get()
    computer.user_id = "alice"
    computer.save()
    inventory = small_inventory("pc-2026-01-01-00-00-00", "")
    inventory.sections["hardware"][0]["user_id"] = "SYSTEM"
    store_inventory(inventory)
    assert Computer.objects.get().user_id == "alice"


def test_long_values_are_kept_whole_in_text_columns_and_bounded_in_indexed_ones() -> None:
    long_text = "x" * 5000
    store_inventory(
        small_inventory(
            "pc-2026-01-01-00-00-00",
            f"<SOFTWARES><NAME>{long_text}</NAME><COMMENTS>{long_text}</COMMENTS></SOFTWARES>",
        )
    )
    installation = SoftwareInstallation.objects.get()
    assert installation.software.name == long_text
    assert installation.comments == long_text


def test_an_imported_inventory_is_marked_as_imported() -> None:
    store_inventory(unix_inventory(), imported=True)
    assert Computer.objects.get().imported is True
    store_inventory(unix_inventory())
    assert Computer.objects.get().imported is False


def test_deviceids_that_differ_only_in_case_are_two_computers_on_every_database() -> None:
    # MariaDB's default collation ignores case; the column compares bytes (ExactCharField).
    set_global("AUTO_DUPLICATE_LVL", 0)
    store_inventory(small_inventory("Office-2026-01-02-03-04-05", ""))
    store_inventory(small_inventory("office-2026-01-02-03-04-05", ""))
    assert sorted(Computer.objects.values_list("device_id", flat=True)) == [
        "Office-2026-01-02-03-04-05",
        "office-2026-01-02-03-04-05",
    ]
    assert Computer.objects.filter(device_id="OFFICE-2026-01-02-03-04-05").count() == 0
