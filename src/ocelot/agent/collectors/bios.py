"""BIOS: the machine's and board's makers, models and serials from /sys/class/dmi/id.

The kernel exports the SMBIOS strings there (readable serials need root, as dmidecode).
A value sysfs does not give (an old kernel without the directory, a field it lacks) is
taken from ``dmidecode -t 0 -t 1 -t 2 -t 3`` when that answers. A machine without SMBIOS
(many VMs, ARM boards) sends an empty BIOS, as the Unix agent does
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


# The same values in dmidecode's output: (record title, key).
_DMIDECODE = {
    "SMANUFACTURER": ("System Information", "Manufacturer"),
    "SMODEL": ("System Information", "Product Name"),
    "SSN": ("System Information", "Serial Number"),
    "BMANUFACTURER": ("BIOS Information", "Vendor"),
    "BVERSION": ("BIOS Information", "Version"),
    "BDATE": ("BIOS Information", "Release Date"),
    "MMANUFACTURER": ("Base Board Information", "Manufacturer"),
    "MMODEL": ("Base Board Information", "Product Name"),
    "MSN": ("Base Board Information", "Serial Number"),
    "ASSETTAG": ("Chassis Information", "Asset Tag"),
    "TYPE": ("Chassis Information", "Type"),
}
_PLACEHOLDERS = frozenset(
    {"Not Specified", "Not Present", "To Be Filled By O.E.M.", "Default string", "None"}
)


def parse_dmidecode(text: str) -> dict[str, dict[str, str]]:
    """Record title -> key -> value, for the first record of each title."""
    records: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("Handle "):
            current = None
        elif not line.startswith("\t") and current is None:
            current = records.setdefault(line.strip(), {}) if line.strip() not in records else None
        elif current is not None and line.startswith("\t") and not line.startswith("\t\t"):
            key, sep, value = line.strip().partition(":")
            if sep:
                current.setdefault(key.strip(), value.strip())
    return records


def from_dmidecode(host: Host) -> dict[str, str]:
    records = parse_dmidecode(host.output(["dmidecode", "-t", "0", "-t", "1", "-t", "2", "-t", "3"]) or "")
    values = {}
    for tag, (title, key) in _DMIDECODE.items():
        value = records.get(title, {}).get(key, "")
        values[tag] = "" if value in _PLACEHOLDERS else value
    return values


def chassis_type(host: Host) -> str:
    code = host.read_value(f"{DMI}/chassis_type")
    return CHASSIS_TYPES.get(int(code), "") if code.isdigit() else ""


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    row = {tag: host.read_value(f"{DMI}/{name}") for tag, name in _FIELDS.items()}
    row["TYPE"] = chassis_type(host)
    if not all(row.values()):
        fallback = from_dmidecode(host)
        row = {tag: value or fallback.get(tag, "") for tag, value in row.items()}
    if not any(row.values()):
        return [{}]
    return [row]
