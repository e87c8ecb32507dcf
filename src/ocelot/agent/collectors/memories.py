"""MEMORIES: one row per memory slot from ``dmidecode -t 17``, else one row from /proc/meminfo.

CAPACITY is in MB and SPEED in MT/s as the Unix agent sends them; an empty slot is a row
with CAPACITY 0 ("No Module Installed"), so NUMSLOTS counts every slot.
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "MEMORIES"


def parse_dmidecode(text: str) -> list[dict[str, str]]:
    """The records of ``dmidecode -t 17``: one key -> value mapping per Memory Device."""
    records: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("Handle "):
            current = None
        elif line.strip() == "Memory Device":
            current = {}
            records.append(current)
        elif current is not None and line.startswith("\t") and not line.startswith("\t\t"):
            key, sep, value = line.strip().partition(":")
            if sep:
                current[key.strip()] = value.strip()
    return records


def _size_mb(text: str) -> str:
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return "0"
    factor = {"kB": 1 / 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024 * 1024}.get(parts[1])
    return str(int(int(parts[0]) * factor)) if factor else "0"


def _clean(value: str) -> str:
    return "" if value in {"Unknown", "Not Specified", "None", "[Empty]", "NO DIMM"} else value


def meminfo_kib(host: Host, key: str) -> int:
    for line in (host.read_text("/proc/meminfo") or "").splitlines():
        name, _, rest = line.partition(":")
        if name == key and rest.split():
            return int(rest.split()[0])
    return 0


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    records = parse_dmidecode(host.output(["dmidecode", "-t", "17"]) or "")
    rows = []
    for number, record in enumerate(records, start=1):
        speed = record.get("Configured Memory Speed") or record.get("Speed", "")
        rows.append(
            {
                "CAPACITY": _size_mb(record.get("Size", "")),
                "CAPTION": _clean(record.get("Locator", "")),
                "DESCRIPTION": _clean(record.get("Form Factor", "")),
                "ERRORCORRECTIONTYPE": "",
                "MANUFACTURER": _clean(record.get("Manufacturer", "")),
                "NUMSLOTS": str(number),
                "SERIALNUMBER": _clean(record.get("Serial Number", "")),
                "SPEED": speed.split()[0] if speed and speed.split()[0].isdigit() else "",
                "TYPE": _clean(record.get("Type", "")),
            }
        )
    if rows:
        return rows
    total = meminfo_kib(host, "MemTotal")
    if not total:
        return []
    # No SMBIOS (a VM without DMI, a container): the memory the kernel sees, as one bank.
    return [
        {"CAPACITY": str(total // 1024), "CAPTION": "System memory", "DESCRIPTION": "RAM", "NUMSLOTS": "1"}
    ]
