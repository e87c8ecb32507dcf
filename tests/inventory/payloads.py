"""Inventories for domain tests: the Unix agent's captured payload, with variations."""

from __future__ import annotations

import re
from pathlib import Path

from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import parse_xml

DATA = Path(__file__).resolve().parent.parent / "data"
UNIX_SAMPLE = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
SAMPLE_DEVICE_ID = "vm-2026-11-21-17-46-56"


def unix_inventory(
    *,
    device_id: str = SAMPLE_DEVICE_ID,
    checksum: int | None = None,
    tag: str | None = None,
    replace: dict[bytes, bytes] | None = None,
) -> Inventory:
    """The captured Unix inventory, optionally with another DEVICEID, CHECKSUM or TAG."""
    xml = UNIX_SAMPLE.replace(SAMPLE_DEVICE_ID.encode(), device_id.encode())
    if checksum is not None:
        xml = re.sub(rb"<CHECKSUM>\d+</CHECKSUM>", b"<CHECKSUM>%d</CHECKSUM>" % checksum, xml)
    if tag is not None:
        xml = xml.replace(b"<KEYVALUE>SAMPLE_TAG</KEYVALUE>", b"<KEYVALUE>%s</KEYVALUE>" % tag.encode())
    for old, new in (replace or {}).items():
        xml = xml.replace(old, new)
    message = read_request(parse_xml(xml))
    assert isinstance(message, Inventory)
    return message


def small_inventory(device_id: str, body: str, checksum: int | None = None) -> Inventory:
    """A hand-written inventory: ``body`` is the CONTENT children."""
    hardware = f"<HARDWARE><NAME>{device_id.split('-')[0]}</NAME>"
    if checksum is not None:
        hardware += f"<CHECKSUM>{checksum}</CHECKSUM>"
    hardware += "</HARDWARE>"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><REQUEST><CONTENT>{hardware}{body}</CONTENT>'
        f"<DEVICEID>{device_id}</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>"
    ).encode()
    message = read_request(parse_xml(xml))
    assert isinstance(message, Inventory)
    return message
