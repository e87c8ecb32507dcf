"""DRIVES from df: data filesystems only, sizes in MB, TYPE = mount point, VOLUMN = device."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_the_vm_has_one_data_filesystem_as_in_the_sample() -> None:
    (root,) = inventory_of("debian12-vm").sections["DRIVES"]
    assert root["TYPE"] == "/"
    assert root["VOLUMN"] == "/dev/vda"
    assert root["FILESYSTEM"] == "ext4"
    assert root["TOTAL"] == "258019"


def test_pseudo_and_overlay_filesystems_are_left_out_and_network_ones_kept() -> None:
    drives = inventory_of("debian12-server").sections["DRIVES"]
    assert [drive["TYPE"] for drive in drives] == ["/", "/boot/efi", "/srv/data", "/mnt/backup"]
    data = drives[2]
    assert (data["VOLUMN"], data["FILESYSTEM"], data["TOTAL"], data["FREE"]) == (
        "/dev/md0",
        "xfs",
        "3815318",
        "2640067",
    )


def test_filesystem_labels_and_uuids_come_from_lsblk() -> None:
    drives = {drive["TYPE"]: drive for drive in inventory_of("debian12-server").sections["DRIVES"]}
    assert drives["/"]["LABEL"] == "root"
    assert drives["/"]["SERIAL"] == "0b6f4e8a-3c2d-4f1e-9a8b-7c6d5e4f3a2b"
    assert drives["/srv/data"]["LABEL"] == "data"  # a RAID device nested under its members
    assert drives["/boot/efi"]["SERIAL"] == "7A3B-1C2D"
    assert drives["/mnt/backup"]["LABEL"] == ""
