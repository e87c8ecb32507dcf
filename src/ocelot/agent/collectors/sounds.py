"""SOUNDS: audio controllers (PCI class 0401 and 0403) from lspci: NAME, MANUFACTURER, DESCRIPTION."""

from __future__ import annotations

from ocelot.agent.collectors.controllers import class_code, describe, pci_devices
from ocelot.agent.host import Host

SECTION = "SOUNDS"

_AUDIO = ("0401", "0403")


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for record in pci_devices(host):
        if class_code(record) not in _AUDIO:
            continue
        info = describe(record)
        rows.append(
            {
                "DESCRIPTION": info["rev"],
                "MANUFACTURER": info["vendor"],
                "NAME": info["device"],
            }
        )
    return rows
