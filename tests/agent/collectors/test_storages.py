"""STORAGES from /sys/block: disks and CD drives, sizes in MB of 10^6 bytes."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_the_vm_has_its_virtio_disk_and_zram_but_no_loop_devices() -> None:
    disks = inventory_of("debian12-vm").sections["STORAGES"]
    assert [disk["NAME"] for disk in disks] == ["vda", "zram0"]
    assert disks[0]["DISKSIZE"] == "274877"  # the sample says 274877.906944
    assert disks[0]["TYPE"] == "disk"
    assert disks[0]["MANUFACTURER"] == ""  # virtio's "0x1af4" is a PCI id, not a maker


def test_a_server_lists_nvme_sata_and_cd_drives_with_models_and_firmware() -> None:
    disks = {disk["NAME"]: disk for disk in inventory_of("debian12-server").sections["STORAGES"]}
    assert sorted(disks) == ["nvme0n1", "sda", "sdb", "sr0"]  # md0 and loop0 left out
    assert disks["sda"]["DESCRIPTION"] == "HDD"
    assert disks["sda"]["DISKSIZE"] == "4000787"
    assert disks["sda"]["MANUFACTURER"] == "ATA"
    assert disks["sda"]["FIRMWARE"] == "SN04"
    assert disks["nvme0n1"]["DESCRIPTION"] == "SSD"
    assert disks["nvme0n1"]["SERIALNUMBER"] == "S6CRNA0R900123"
    assert disks["sr0"]["TYPE"] == "rom"
