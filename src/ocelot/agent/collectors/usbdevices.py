"""USBDEVICES: devices under /sys/bus/usb/devices (hubs and interfaces left out).

DESCRIPTION is the product string, MANUFACTURER the maker string, SERIAL the serial, TYPE
``vendor:product`` ids and INTERFACE the USB version ("USB 2.00").
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "USBDEVICES"

BASE = "/sys/bus/usb/devices"
_HUB_CLASS = "09"


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for name in host.list_dir(BASE):
        if ":" in name or name.startswith("usb"):
            continue  # interfaces (1-1:1.0) and root hubs
        path = f"{BASE}/{name}"
        if host.read_value(f"{path}/bDeviceClass") == _HUB_CLASS:
            continue
        vendor, product = host.read_value(f"{path}/idVendor"), host.read_value(f"{path}/idProduct")
        version = host.read_value(f"{path}/version")
        rows.append(
            {
                "DESCRIPTION": host.read_value(f"{path}/product"),
                "INTERFACE": f"USB {version}" if version else "",
                "MANUFACTURER": host.read_value(f"{path}/manufacturer"),
                "SERIAL": host.read_value(f"{path}/serial"),
                "TYPE": f"{vendor}:{product}" if vendor and product else "",
            }
        )
    return rows
