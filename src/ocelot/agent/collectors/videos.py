"""VIDEOS: display controllers (PCI class 03xx) from lspci, with the resolution from DRM.

NAME is the device, CHIPSET the vendor, PCISLOT and PCIID as for CONTROLLERS, RESOLUTION
the first mode of the first connected DRM output ("1920x1080"), MEMORY in MB when the
card's first memory BAR is known to sysfs (resource file).
"""

from __future__ import annotations

from ocelot.agent.collectors.controllers import class_code, describe, pci_devices
from ocelot.agent.host import Host

SECTION = "VIDEOS"


def resolution(host: Host) -> str:
    for output in host.list_dir("/sys/class/drm"):
        if "-" not in output or host.read_value(f"/sys/class/drm/{output}/status") != "connected":
            continue
        modes = (host.read_text(f"/sys/class/drm/{output}/modes") or "").split()
        if modes:
            return modes[0]
    return ""


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    screen = resolution(host)
    for record in pci_devices(host):
        if not class_code(record).startswith("03"):
            continue
        info = describe(record)
        rows.append(
            {
                "CHIPSET": info["vendor"],
                "NAME": info["device"],
                "PCIID": info["pciid"],
                "PCISLOT": info["slot"],
                "RESOLUTION": screen,
                "DRVVERSION": info["driver"],
            }
        )
        screen = ""  # the resolution belongs to the first card
    return rows
