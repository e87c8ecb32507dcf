"""What the end-to-end agent tests check on the server: where each section's rows live.

Shared by the real Unix agent's tests (tests/communication/test_real_agent.py) and our
agent's (tests/agent/test_end_to_end.py).
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ocelot.inventory.models import Computer

# OCS section tag -> the computer's related rows.
STORED_AS = {
    "SOFTWARES": "software",
    "MEMORIES": "memory_modules",
    "SLOTS": "slots",
    "CONTROLLERS": "controllers",
    "MONITORS": "monitors",
    "PORTS": "ports",
    "STORAGES": "storages",
    "DRIVES": "drives",
    "INPUTS": "inputs",
    "MODEMS": "modems",
    "NETWORKS": "networks",
    "PRINTERS": "printers",
    "SOUNDS": "sounds",
    "VIDEOS": "videos",
    "VIRTUALMACHINES": "virtual_machines",
    "CPUS": "cpus",
    "BATTERIES": "batteries",
    "USBDEVICES": "usb_devices",
    "USERS": "logged_in_users",
    "LOCAL_USERS": "local_users",
    "LOCAL_GROUPS": "local_groups",
    "REPOSITORY": "repositories",
    "RUNNING_PROCESSES": "processes",
    "POWERSUPPLIES": "power_supplies",
}
# CHECKSUM bits of the sections the server leaves untouched when their bit is clear
# (protocol.md §5.3; software is rewritten every time, whatever the bits say).
CHECKSUM_BITS = {
    "MEMORIES": 4,
    "SLOTS": 8,
    "CONTROLLERS": 32,
    "MONITORS": 64,
    "PORTS": 128,
    "STORAGES": 256,
    "DRIVES": 512,
    "INPUTS": 1024,
    "MODEMS": 2048,
    "NETWORKS": 4096,
    "PRINTERS": 8192,
    "SOUNDS": 16384,
    "VIDEOS": 32768,
    "VIRTUALMACHINES": 131072,
    "CPUS": 262144,
    "BATTERIES": 1048576,
}


def short_hostname() -> str:
    """The name the Unix agent reports: the host name up to the first dot (protocol.md §2)."""
    return socket.gethostname().split(".")[0]


def tag_in(element: ET.Element | None) -> str | None:
    """The TAG among the ACCOUNTINFO pairs under ``element`` (a CONTENT, REPLY or ADM)."""
    assert element is not None
    for pair in element.iterfind("ACCOUNTINFO"):
        if pair.findtext("KEYNAME") == "TAG":
            return pair.findtext("KEYVALUE", "")
    return None


def rows_of(computer: Computer, tags: Iterable[str] = STORED_AS) -> dict[str, set[int]]:
    """The primary keys of the computer's rows, per section."""
    return {tag: set(getattr(computer, STORED_AS[tag]).values_list("pk", flat=True)) for tag in tags}


def the_one_computer(device_id: str) -> Computer:
    """Exactly one computer exists, and it has this DEVICEID."""
    computers = list(Computer.objects.all())
    assert [c.device_id for c in computers] == [device_id]
    return computers[0]
