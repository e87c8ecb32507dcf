"""How the computer page shows inventory values: sizes in their OCS units made readable,
the operating system once, drive columns named per OS."""

from __future__ import annotations

import pytest
from django.utils import translation

from ocelot.console.presentation import (
    BYTES,
    MEGABYTES,
    Size,
    human_size,
    operating_system,
    present_section,
    size,
)
from ocelot.inventory.computer_queries import SectionTable


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        ("274877.906944", MEGABYTES, "268.4 GB"),  # the Unix agent's DISKSIZE of a 256 GiB disk
        (258019, MEGABYTES, "252.0 GB"),
        (24105, MEGABYTES, "23.5 GB"),
        (512, MEGABYTES, "512 MB"),
        (0, MEGABYTES, "0 MB"),
        (1023.6, MEGABYTES, "1024 MB"),
        (3 * 1024 * 1024, MEGABYTES, "3.0 TB"),
        (5612544, BYTES, "5.4 MB"),
        (900, BYTES, "900 bytes"),
        ("No", MEGABYTES, "No"),
        ("", MEGABYTES, ""),
        (None, MEGABYTES, ""),
        ("-5", MEGABYTES, "-5"),
        ("nan", MEGABYTES, "nan"),
    ],
)
def test_sizes_are_shown_in_a_readable_unit(value: object, unit: str, shown: str) -> None:
    with translation.override("en"):
        assert human_size(value, unit) == shown


def test_sizes_speak_the_console_language() -> None:
    with translation.override("fr"):
        assert human_size(24105) == "23,5 Go"


def test_a_size_cell_keeps_the_exact_value_and_text_stays_text() -> None:
    with translation.override("en"):
        cell = size("274877.906944")
    assert isinstance(cell, Size)
    assert (str(cell), cell.exact) == ("268.4 GB", "274877.906944 MB")
    assert size("") == "" and size(None) is None


@pytest.mark.parametrize(
    ("name", "version", "shown"),
    [
        ("Debian GNU/Linux 12", "12", "Debian GNU/Linux 12"),
        ("Microsoft Windows 10 Pro", "10.0.19045", "Microsoft Windows 10 Pro 10.0.19045"),
        ("Linux", "", "Linux"),
        ("", "", ""),
        ("Debian GNU/Linux 12", "6.1.0-18-amd64", "Debian GNU/Linux 12 6.1.0-18-amd64"),
    ],
)
def test_the_operating_system_is_named_once(name: str, version: str, shown: str) -> None:
    assert operating_system(name, version) == shown


def test_drive_columns_are_named_for_what_each_agent_sends() -> None:
    with translation.override("en"):
        table = SectionTable(
            "drives",
            "Drives",
            ["Filesystem", "Free", "Letter", "Total", "Mount point", "Volume"],
            [["NTFS", 102311, "C:/", 243587, "Hard Drive", "System"]],
        )
        windows = present_section(table, windows=True)
        unix = present_section(table, windows=False)
    assert windows.columns == ["Filesystem", "Free", "Drive", "Total", "Drive type", "Volume"]
    assert unix.columns == ["Filesystem", "Free", "Letter", "Total", "Mount point", "Device"]
    assert [str(value) for value in windows.rows[0]] == [
        "NTFS",
        "99.9 GB",
        "C:/",
        "237.9 GB",
        "Hard Drive",
        "System",
    ]
    assert table.columns[4] == "Mount point"  # the domain's table is left as it was
