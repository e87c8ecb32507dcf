"""MEMORIES: dmidecode type 17 slots in MB, else /proc/meminfo as one bank."""

from __future__ import annotations

from ocelot.agent.collectors.memories import parse_dmidecode
from tests.agent.conftest import inventory_of


def test_without_dmidecode_data_the_memory_the_kernel_sees_is_one_bank() -> None:
    (bank,) = inventory_of("debian12-vm").sections["MEMORIES"]
    assert bank["CAPACITY"] == "24105"
    assert bank["NUMSLOTS"] == "1"


def test_every_slot_is_a_row_and_empty_slots_have_no_capacity() -> None:
    slots = inventory_of("debian12-server").sections["MEMORIES"]
    assert [slot["CAPACITY"] for slot in slots] == ["32768", "0", "32768", "0"]
    assert [slot["NUMSLOTS"] for slot in slots] == ["1", "2", "3", "4"]
    assert slots[0]["CAPTION"] == "A1"
    assert slots[0]["TYPE"] == "DDR4"
    assert slots[0]["SPEED"] == "2933"  # the configured speed, MT/s
    assert slots[0]["SERIALNUMBER"] == "80CE0000A1B2C3D4"
    assert slots[1]["SERIALNUMBER"] == "" and slots[1]["TYPE"] == ""


def test_dmidecode_records_other_than_memory_devices_are_ignored() -> None:
    text = "Handle 0x1000, DMI type 16\nPhysical Memory Array\n\tLocation: System Board\n"
    assert parse_dmidecode(text) == []
