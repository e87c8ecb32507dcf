"""How the computer page shows inventory values: sizes in a readable unit, the operating
system once, and the drive columns named for what the agent put in them.

Units come from the OCS agents (protocol.md §5.2, the OCS server map): HARDWARE MEMORY and
SWAP, MEMORIES CAPACITY, STORAGES DISKSIZE, DRIVES TOTAL and FREE, VIDEOS MEMORY and
VIRTUALMACHINES MEMORY are megabytes (the Unix agent's DISKSIZE even has decimals:
``274877.906944`` for a 256 GiB disk); SOFTWARES FILESIZE is bytes. Like the OCS console we
count 1024 MB to the GB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ocelot.inventory.computer_queries import SectionTable, column_label
from ocelot.inventory.models import SECTION_MODELS, SoftwareInstallation

MEGABYTES, BYTES = "MB", "bytes"

# Section -> {field name: unit} (see the module docstring for the evidence).
SIZE_FIELDS: dict[str, dict[str, str]] = {
    "memory_modules": {"capacity": MEGABYTES},
    "storages": {"disk_size": MEGABYTES},
    "drives": {"total": MEGABYTES, "free": MEGABYTES},
    "videos": {"memory": MEGABYTES},
    "virtual_machines": {"memory": MEGABYTES},
    "software": {"file_size": BYTES},
}

# DRIVES TYPE and VOLUMN mean different things per agent: the Unix agent sends the mount
# point and the device (protocol.md §5.2), the Windows agent the drive type ("Hard Drive",
# "CD-Rom Drive") and the volume's name, beside the drive letter in LETTER.
_DRIVE_LABELS = {
    "windows": {"letter": gettext_lazy("Drive"), "mount_point": gettext_lazy("Drive type")},
    "other": {"mount_point": gettext_lazy("Mount point"), "volume": gettext_lazy("Device")},
}


@dataclass(frozen=True)
class Size:
    """A size shown in a readable unit (``str``), with the exact value as the agent sent it."""

    shown: str
    exact: str

    def __str__(self) -> str:
        return self.shown


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


# The sizes the computer page shows, from the agent's unit up.
_FROM_MEGABYTES = [
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s MB"),
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s GB"),
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s TB"),
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s PB"),
]
_FROM_BYTES = [
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s bytes"),
    # Translators: a size; keep %(size)s.
    gettext_lazy("%(size)s KB"),
    *_FROM_MEGABYTES,
]


def _scaled(number: float, units: list[Any]) -> str:
    """``number`` of ``units[0]`` in the largest unit that keeps it at 1 or more."""
    index = 0
    while number >= 1024 and index < len(units) - 1:
        number /= 1024
        index += 1
    shown = number_format(round(number), 0) if index == 0 else number_format(round(number, 1), 1)
    return str(units[index]) % {"size": shown}


def human_size(value: Any, unit: str = MEGABYTES) -> str:
    """``274877.906944`` MB -> ``"268.4 GB"``; ``512`` MB -> ``"512 MB"``; ``5612544`` bytes
    -> ``"5.4 MB"``. Anything that is not a number comes back as text, unchanged."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    return _scaled(number, _FROM_BYTES if unit == BYTES else _FROM_MEGABYTES)


def size(value: Any, unit: str = MEGABYTES) -> Size | Any:
    """A table cell: a Size for a number, the value itself otherwise (empty, "No", ...)."""
    if _number(value) is None:
        return value
    exact = f"{value} {_('bytes') if unit == BYTES else _('MB')}"
    return Size(human_size(value, unit), exact)


def operating_system(name: str, version: str) -> str:
    """The OS once: the Unix agent sends OSNAME "Debian GNU/Linux 12" and OSVERSION "12"."""
    name, version = (name or "").strip(), (version or "").strip()
    if not version or version in name.split():
        return name
    return f"{name} {version}".strip()


def is_windows(os_name: str) -> bool:
    return "windows" in (os_name or "").lower()


def _labels(key: str) -> dict[str, str]:
    """Column label -> field name for a section (labels as computer_queries makes them)."""
    model = SoftwareInstallation if key == "software" else SECTION_MODELS.get(key)
    if model is None:
        return {}
    return {column_label(str(item.verbose_name)): item.name for item in model._meta.concrete_fields}


def present_section(table: SectionTable, *, windows: bool) -> SectionTable:
    """The section as the page shows it: sizes readable, drive columns named per OS."""
    units = SIZE_FIELDS.get(table.key, {})
    renames = _DRIVE_LABELS["windows" if windows else "other"] if table.key == "drives" else {}
    if not units and not renames:
        return table
    fields = _labels(table.key)
    names = [fields.get(label, "") for label in table.columns]
    columns = [str(renames.get(name, label)) for name, label in zip(names, table.columns, strict=True)]
    rows = [
        [size(value, units[name]) if name in units else value for name, value in zip(names, row, strict=True)]
        for row in table.rows
    ]
    return SectionTable(table.key, table.label, columns, rows, table.truncated)
