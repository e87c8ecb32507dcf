"""CONTROLLERS: every PCI device, from ``lspci -vmmnnk`` (one record per device).

The Unix agent's spellings (samples/unix-agent-inventory.xml): NAME is the class with its
code ("Ethernet controller [0200]"), MANUFACTURER the vendor then device names, PCIID
``vendor:device``, PCISLOT the bus address, TYPE "rev NN", DRIVER the kernel driver.
"""

from __future__ import annotations

import re

from ocelot.agent.host import Host

SECTION = "CONTROLLERS"

LSPCI = ["lspci", "-vmmnnk"]
_CODE = re.compile(r"^(.*?)\s*\[([0-9a-fA-F]{4})\]$")


def parse_lspci(text: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                records.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current.setdefault(key.strip(), value.strip())
    if current:
        records.append(current)
    return [record for record in records if "Slot" in record]


def split_code(text: str) -> tuple[str, str]:
    """``"Red Hat, Inc. [1af4]"`` -> ("Red Hat, Inc.", "1af4")."""
    match = _CODE.match(text)
    if match is None:
        return text, ""
    return match.group(1), match.group(2).lower()


def pci_devices(host: Host) -> list[dict[str, str]]:
    return parse_lspci(host.output(LSPCI) or "")


def class_code(record: dict[str, str]) -> str:
    return split_code(record.get("Class", ""))[1]


def describe(record: dict[str, str]) -> dict[str, str]:
    vendor, vendor_id = split_code(record.get("Vendor", ""))
    device, device_id = split_code(record.get("Device", ""))
    slot = record.get("Slot", "")
    return {
        "vendor": vendor,
        "device": device,
        "pciid": f"{vendor_id}:{device_id}" if vendor_id and device_id else "",
        "slot": slot.removeprefix("0000:"),
        "rev": f"rev {record['Rev']}" if record.get("Rev") else "",
        "driver": record.get("Driver", ""),
    }


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for record in pci_devices(host):
        info = describe(record)
        rows.append(
            {
                "DRIVER": info["driver"],
                "MANUFACTURER": f"{info['vendor']} {info['device']}".strip(),
                "NAME": record.get("Class", ""),
                "PCIID": info["pciid"],
                "PCISLOT": info["slot"],
                "TYPE": info["rev"],
            }
        )
    return rows
