"""BIOS from /sys/class/dmi/id; empty without SMBIOS, as the Unix agent's sample."""

from __future__ import annotations

import json
from pathlib import Path

from ocelot.agent.collectors import bios as bios_collector
from ocelot.agent.host import CapturedHost
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


def test_without_sysfs_dmi_the_values_come_from_dmidecode(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "dmidecode.out").write_text(
        "# dmidecode 3.4\n"
        "Getting SMBIOS data from sysfs.\n"
        "SMBIOS 2.8 present.\n\n"
        "Handle 0x0000, DMI type 0, 24 bytes\nBIOS Information\n\tVendor: SeaBIOS\n\tVersion: 1.16.2\n"
        "\tRelease Date: 04/01/2014\n\tCharacteristics:\n\t\tBIOS characteristics not supported\n\n"
        "Handle 0x0100, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: QEMU\n"
        "\tProduct Name: Standard PC (Q35 + ICH9, 2009)\n\tSerial Number: Not Specified\n\n"
        "Handle 0x0300, DMI type 3, 22 bytes\nChassis Information\n\tManufacturer: QEMU\n\tType: Other\n"
        "\tAsset Tag: Not Specified\n"
    )
    (tmp_path / "commands.json").write_text(
        json.dumps({"dmidecode -t 0 -t 1 -t 2 -t 3": {"stdout": "dmidecode.out", "returncode": 0}})
    )
    (bios,) = bios_collector.collect(CapturedHost(tmp_path), {})
    assert bios == {
        "SMANUFACTURER": "QEMU",
        "SMODEL": "Standard PC (Q35 + ICH9, 2009)",
        "SSN": "",
        "BMANUFACTURER": "SeaBIOS",
        "BVERSION": "1.16.2",
        "BDATE": "04/01/2014",
        "MMANUFACTURER": "",
        "MMODEL": "",
        "MSN": "",
        "ASSETTAG": "",
        "TYPE": "Other",
    }
