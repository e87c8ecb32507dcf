"""BIOS from /sys/class/dmi/id; empty without SMBIOS, as the Unix agent's sample."""

from __future__ import annotations

from tests.agent.conftest import inventory_of


def test_a_vm_without_dmi_sends_an_empty_bios() -> None:
    assert inventory_of("debian12-vm").sections["BIOS"] == [{}]


def test_a_laptop_sends_its_makers_serials_and_chassis_type() -> None:
    (bios,) = inventory_of("fedora40-laptop").sections["BIOS"]
    assert bios == {
        "SMANUFACTURER": "LENOVO",
        "SMODEL": "20XW0055FR",
        "SSN": "PF3ABCDE",
        "BMANUFACTURER": "LENOVO",
        "BVERSION": "N32ET86W (1.62 )",
        "BDATE": "03/15/2024",
        "MMANUFACTURER": "LENOVO",
        "MMODEL": "20XW0055FR",
        "MSN": "L1HF1AB2CD3",
        "ASSETTAG": "No Asset Information",
        "TYPE": "Notebook",
    }


def test_a_rack_server_is_a_rack_mount_chassis() -> None:
    (bios,) = inventory_of("debian12-server").sections["BIOS"]
    assert bios["TYPE"] == "Rack Mount Chassis"
    assert bios["ASSETTAG"] == "ASSET-0042"
