"""STORAGES: block devices from /sys/block (disks and CD drives; loop, ram and dm skipped).

DISKSIZE is in MB of 10^6 bytes, as the Unix agent computes it from lsblk
(samples/unix-agent-inventory.xml: 274877906944 bytes -> 274877.906944; we send the
integer part). TYPE is "disk" (rotational or not) or "rom"; MODEL, MANUFACTURER, SERIALNUMBER
and FIRMWARE come from the device's sysfs attributes.
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "STORAGES"

_SKIPPED_PREFIXES = ("loop", "ram", "dm-", "md", "zd", "nbd", "sr_fake")


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    rows = []
    for name in host.list_dir("/sys/block"):
        if name.startswith(_SKIPPED_PREFIXES):
            continue
        base = f"/sys/block/{name}"
        sectors = host.read_value(f"{base}/size")
        size = int(sectors) * 512 // 1_000_000 if sectors.isdigit() else 0
        device = f"{base}/device"
        kind = "rom" if name.startswith("sr") or host.read_value(f"{device}/type") == "5" else "disk"
        model = host.read_value(f"{device}/model")
        vendor = host.read_value(f"{device}/vendor")
        serial = host.read_value(f"{device}/serial") or host.read_value(f"{base}/serial")
        firmware = host.read_value(f"{device}/rev") or host.read_value(f"{device}/firmware_rev")
        rotational = host.read_value(f"{base}/queue/rotational")
        description = {"1": "HDD", "0": "SSD"}.get(rotational, "") if host.exists(device) else ""
        if kind == "rom":
            description = "CD-ROM"
        if vendor.startswith("0x"):
            vendor = ""  # a PCI vendor id (virtio), not a name
        if name.startswith(("vd", "xvd")):
            description = "Virtual disk"
        rows.append(
            {
                "DESCRIPTION": description,
                "DISKSIZE": str(size) if size else "",
                "FIRMWARE": firmware,
                "MANUFACTURER": vendor,
                "MODEL": model,
                "NAME": name,
                "SERIALNUMBER": serial,
                "TYPE": kind,
            }
        )
    return rows
