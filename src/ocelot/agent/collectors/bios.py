"""BIOS: the machine's and board's makers, models and serials from /sys/class/dmi/id.

The kernel exports the SMBIOS strings there (readable serials need root, as dmidecode).
A machine without DMI (many VMs, ARM boards) sends an empty BIOS, as the Unix agent does
(samples/unix-agent-inventory.xml has ``<BIOS></BIOS>``).
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "BIOS"

DMI = "/sys/class/dmi/id"
# SMBIOS chassis types (DMTF DSP0134, 7.4.1), the names dmidecode prints.
CHASSIS_TYPES = {
    1: "Other",
    2: "Unknown",
    3: "Desktop",
    4: "Low Profile Desktop",
    5: "Pizza Box",
    6: "Mini Tower",
    7: "Tower",
    8: "Portable",
    9: "Laptop",
    10: "Notebook",
    11: "Hand Held",
    12: "Docking Station",
    13: "All In One",
    14: "Sub Notebook",
    15: "Space-saving",
    16: "Lunch Box",
    17: "Main Server Chassis",
    18: "Expansion Chassis",
    19: "Sub Chassis",
    20: "Bus Expansion Chassis",
    21: "Peripheral Chassis",
    22: "RAID Chassis",
    23: "Rack Mount Chassis",
    24: "Sealed-case PC",
    25: "Multi-system",
    26: "CompactPCI",
    27: "AdvancedTCA",
    28: "Blade",
    29: "Blade Enclosing",
    30: "Tablet",
    31: "Convertible",
    32: "Detachable",
    33: "IoT Gateway",
    34: "Embedded PC",
    35: "Mini PC",
    36: "Stick PC",
}
_FIELDS = {
    "SMANUFACTURER": "sys_vendor",
    "SMODEL": "product_name",
    "SSN": "product_serial",
    "BMANUFACTURER": "bios_vendor",
    "BVERSION": "bios_version",
    "BDATE": "bios_date",
    "MMANUFACTURER": "board_vendor",
    "MMODEL": "board_name",
    "MSN": "board_serial",
    "ASSETTAG": "chassis_asset_tag",
}


def chassis_type(host: Host) -> str:
    code = host.read_value(f"{DMI}/chassis_type")
    return CHASSIS_TYPES.get(int(code), "") if code.isdigit() else ""


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    if not host.exists(DMI):
        return [{}]
    row = {tag: host.read_value(f"{DMI}/{name}") for tag, name in _FIELDS.items()}
    row["TYPE"] = chassis_type(host)
    return [row]
