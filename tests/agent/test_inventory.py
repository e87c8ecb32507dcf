"""The INVENTORY document and CHECKSUM, as the Unix agent builds them (protocol.md §5)."""

from __future__ import annotations

import logging
import types
import xml.etree.ElementTree as ET

import pytest

from ocelot.agent import inventory
from ocelot.agent.inventory import (
    CHECKSUM_BITS,
    build_request,
    checksum,
    collect,
    section_hashes,
)
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.sections import ALL_AGENT_BITS
from ocelot.protocol.xmltree import parse_xml
from tests.agent.conftest import MACHINES, inventory_of, machine


def test_the_document_is_one_our_server_reads_with_every_section_and_the_account_info() -> None:
    collected = inventory_of("fedora40-laptop")
    document = build_request(
        "fedora-laptop-2024-04-15-09-00-00",
        collected.sections,
        changed_bits=ALL_AGENT_BITS,
        account_info=[("TAG", "PARIS")],
        package_history=["1700000001"],
    )
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>')
    message = read_request(parse_xml(document))
    assert isinstance(message, Inventory)
    assert message.device_id == "fedora-laptop-2024-04-15-09-00-00"
    assert message.changed_bits == ALL_AGENT_BITS
    assert message.account_info == [("TAG", "PARIS")]
    assert message.package_history == [1700000001]
    assert message.computer_fields["name"] == "fedora-laptop"
    assert len(message.sections["software"]) == 6
    assert len(message.sections["batteries"]) == 1


def test_sections_are_sorted_and_empty_fields_left_out_except_in_hardware_and_bios() -> None:
    sections = {
        "SOFTWARES": [{"NAME": "zsh", "VERSION": "", "FROM": "deb"}],
        "HARDWARE": [{"NAME": "pc", "USERID": ""}],
        "BIOS": [{"SSN": ""}],
    }
    document = build_request(
        "pc-2024-01-01-00-00-00", sections, changed_bits=5, account_info=[], package_history=[]
    )
    root = parse_xml(document)
    content = root.find("CONTENT")
    assert content is not None
    assert [child.tag for child in content.children] == ["BIOS", "DOWNLOAD", "HARDWARE", "SOFTWARES"]
    assert [child.tag for child in root.children] == ["CONTENT", "DEVICEID", "QUERY"]
    software = content.find("SOFTWARES")
    assert software is not None and [c.tag for c in software.children] == ["FROM", "NAME"]
    hardware = content.find("HARDWARE")
    assert hardware is not None and [c.tag for c in hardware.children] == ["CHECKSUM", "NAME", "USERID"]
    assert hardware.value("CHECKSUM") == "5"
    bios = content.find("BIOS")
    assert bios is not None and [c.tag for c in bios.children] == ["SSN"]
    download = content.find("DOWNLOAD")
    assert download is not None and download.find("HISTORY") is not None  # empty history, as §5.5


def test_without_a_last_state_every_agent_bit_is_set() -> None:
    hashes = section_hashes(inventory_of("debian12-vm").sections)
    assert checksum(hashes, None) == ALL_AGENT_BITS == 1572863
    assert sum(CHECKSUM_BITS.values()) == ALL_AGENT_BITS


def test_only_the_sections_that_changed_are_flagged() -> None:
    sections = inventory_of("debian12-vm").sections
    before = section_hashes(sections)
    drives = [{**row, "FREE": str(int(row["FREE"]) - 1)} for row in sections["DRIVES"]]
    hardware = [{**sections["HARDWARE"][0], "DESCRIPTION": "x86_64/00-00-00 00:05:00"}]
    after = section_hashes({**sections, "DRIVES": drives, "HARDWARE": hardware})
    assert checksum(after, before) == 513  # HARDWARE + DRIVES, the Unix agent's verified figure
    assert checksum(before, before) == 0


def test_a_section_that_disappears_is_a_change() -> None:
    sections = inventory_of("fedora40-laptop").sections
    before = section_hashes(sections)
    without_battery = {tag: rows for tag, rows in sections.items() if tag != "BATTERIES"}
    assert checksum(section_hashes(without_battery), before) == 1048576


def test_a_failing_collector_is_logged_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(host: object, found: object) -> list[dict[str, str]]:
        raise OSError("device vanished")

    fake = types.ModuleType("broken")
    fake.SECTION = "STORAGES"  # type: ignore[attr-defined]
    fake.collect = broken  # type: ignore[attr-defined]
    modules = tuple(fake if module.SECTION == "STORAGES" else module for module in inventory.MODULES)
    monkeypatch.setattr(inventory, "MODULES", modules)
    with caplog.at_level(logging.WARNING, logger="ocelot.agent.inventory"):
        collected = collect(machine("debian12-vm"))
    assert "STORAGES" not in collected.sections
    assert collected.failed == {"STORAGES": "OSError: device vanished"}
    assert "STORAGES: not collected: OSError: device vanished" in caplog.text
    assert {"HARDWARE", "NETWORKS", "SOFTWARES", "DRIVES"} <= set(collected.sections)


def test_nosoft_leaves_software_out() -> None:
    assert "SOFTWARES" not in collect(machine("debian12-vm"), with_software=False).sections


@pytest.mark.parametrize("name", MACHINES)
def test_every_field_sent_is_one_the_server_knows(name: str) -> None:
    """Field names as the Unix agent's: nothing lands in the server's ``extra`` catch-all."""
    document = build_request(
        "x-2024-01-01-00-00-00",
        inventory_of(name).sections,
        changed_bits=1,
        account_info=[],
        package_history=[],
    )
    message = read_request(parse_xml(document))
    assert isinstance(message, Inventory)
    unknown = {
        section: sorted({key for row in rows for key in (row.get("extra") or {})})
        for section, rows in message.sections.items()
    }
    assert {section: keys for section, keys in unknown.items() if keys} == {}
    assert message.other_sections == {}


def test_control_characters_never_reach_the_document() -> None:
    sections = {"SOFTWARES": [{"NAME": "bad\x01name\x1b[0m", "COMMENTS": "\x07\x08", "VERSION": "1 < 2 & 3"}]}
    document = build_request(
        "pc-2024-01-01-00-00-00",
        sections,
        changed_bits=1,
        account_info=[("TAG", "a\x00b")],
        package_history=None,
    )
    assert not any(byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) for byte in document)
    root = ET.fromstring(document)  # a strict parser, as the OCS server's
    assert root.findtext("CONTENT/SOFTWARES/NAME") == "badname[0m"
    assert root.find("CONTENT/SOFTWARES/COMMENTS") is None  # nothing left: left out
    assert root.findtext("CONTENT/SOFTWARES/VERSION") == "1 < 2 & 3"
    assert root.findtext("CONTENT/ACCOUNTINFO/KEYVALUE") == "ab"
