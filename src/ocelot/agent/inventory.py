"""One inventory: run the collectors, build the INVENTORY request, compute CHECKSUM.

The document is the one the Unix agent 2.10 sends (protocol.md §5.1, the sample in
samples/unix-agent-inventory.xml): CONTENT's sections in alphabetical order, one element
per row, fields in alphabetical order; empty fields are left out of list rows but kept
(empty) in HARDWARE and BIOS. CHECKSUM is the OR of the bits of the sections whose MD5
(base64) differs from the last state the server accepted (protocol.md §5.3).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType

from ocelot.agent.collectors import (
    batteries,
    bios,
    controllers,
    cpus,
    drives,
    hardware,
    local_groups,
    local_users,
    memories,
    monitors,
    networks,
    printers,
    repository,
    softwares,
    sounds,
    storages,
    usbdevices,
    users,
    videos,
    virtualmachines,
)
from ocelot.agent.host import Host
from ocelot.protocol.sections import ALL_AGENT_BITS, SECTIONS_BY_TAG
from ocelot.protocol.xmltree import Node, serialize, to_document

log = logging.getLogger(__name__)

Row = dict[str, str]

# Every collector, in the order they run; HARDWARE comes last because it sums up CPUS
# NETWORKS and USERS from what was found before it.
MODULES: tuple[ModuleType, ...] = (
    bios,
    cpus,
    memories,
    storages,
    drives,
    networks,
    softwares,
    repository,
    controllers,
    videos,
    sounds,
    monitors,
    printers,
    usbdevices,
    batteries,
    virtualmachines,
    local_users,
    local_groups,
    users,
    hardware,
)

# Sections written with every field, even empty ones (protocol.md §5.1).
_SINGLE = frozenset({"HARDWARE", "BIOS"})
# The sections whose changes the Unix agent reports, with their bits (protocol.md §5.3).
CHECKSUM_BITS: dict[str, int] = {
    spec.tag: spec.bit for spec in SECTIONS_BY_TAG.values() if spec.bit and spec.bit & ALL_AGENT_BITS
}


@dataclass
class Collected:
    """What the collectors found: rows per section, and the sections that failed."""

    sections: dict[str, list[Row]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def collect(host: Host, *, with_software: bool = True) -> Collected:
    """Run every collector; one that fails is logged and the run goes on."""
    result = Collected()
    for module in MODULES:
        section = str(module.SECTION)
        if section == "SOFTWARES" and not with_software:
            continue
        started = time.monotonic()
        try:
            rows = module.collect(host, result.sections)
        except Exception as exc:  # a broken collector must not stop the inventory
            log.warning("%s: not collected: %s: %s", section, type(exc).__name__, exc)
            result.failed[section] = f"{type(exc).__name__}: {exc}"
            continue
        log.debug("%s: %d row(s) in %.2f s", section, len(rows), time.monotonic() - started)
        if rows:
            result.sections[section] = rows
    return result


# XML 1.0 cannot carry these; the Unix agent strips them too (protocol.md §1.4).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: str) -> str:
    return _CONTROL.sub("", value).strip()


def row_node(section: str, row: Row) -> Node:
    keep_empty = section in _SINGLE
    children = []
    for name, value in sorted(row.items()):
        text = clean(value or "")
        if keep_empty or text:
            children.append(Node(name, text=text))
    return Node(section, children=children)


def section_hash(section: str, rows: list[Row]) -> str:
    """MD5 (base64, no padding, as Perl's md5_base64) of the section's serialised rows."""
    text = "".join(serialize(row_node(section, row)) for row in rows)
    return (
        base64.b64encode(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).digest())
        .decode("ascii")
        .rstrip("=")
    )


def section_hashes(sections: dict[str, list[Row]]) -> dict[str, str]:
    """The hash of every section the CHECKSUM covers (an absent section hashes as empty)."""
    hashes = {}
    for tag in CHECKSUM_BITS:
        rows = sections.get(tag, [])
        if tag == "HARDWARE":
            rows = [{key: value for key, value in row.items() if key != "CHECKSUM"} for row in rows]
        hashes[tag] = section_hash(tag, rows)
    return hashes


def checksum(hashes: dict[str, str], last_state: dict[str, str] | None) -> int:
    """The bits of the sections that changed since ``last_state`` (all of them without one)."""
    if not last_state:
        return ALL_AGENT_BITS
    bits = 0
    for tag, bit in CHECKSUM_BITS.items():
        if last_state.get(tag) != hashes.get(tag):
            bits |= bit
    return bits


def build_request(
    device_id: str,
    sections: dict[str, list[Row]],
    *,
    changed_bits: int,
    account_info: list[tuple[str, str]],
    package_history: list[str] | None,
    extra: Sequence[Node] = (),
) -> bytes:
    """The INVENTORY request document (UTF-8 XML, not compressed); ``extra`` elements
    (an IP-discovery report) go into CONTENT as they are."""
    content: list[Node] = list(extra)
    for key, value in account_info:
        pair = [Node("KEYNAME", text=clean(key)), Node("KEYVALUE", text=clean(value))]
        content.append(Node("ACCOUNTINFO", children=pair))
    if package_history is not None:
        history = Node("HISTORY", children=[Node("PACKAGE", attrib={"ID": pid}) for pid in package_history])
        content.append(Node("DOWNLOAD", children=[history]))
    for section in sorted(sections):
        for row in sections[section]:
            if section == "HARDWARE":
                row = {**row, "CHECKSUM": str(changed_bits)}
            content.append(row_node(section, row))
    content.sort(key=lambda node: node.tag)  # stable: rows keep their order within a section
    root = Node(
        "REQUEST",
        children=[
            Node("CONTENT", children=content),
            Node("DEVICEID", text=device_id),
            Node("QUERY", text="INVENTORY"),
        ],
    )
    return to_document(root)
