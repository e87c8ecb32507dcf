"""Simulated agents: the real Unix agent's inventory, given per-agent identities and software.

Every agent is derived from the payload the real ``ocsinventory-agent`` 2.10.0 sent
(``shared/samples/unix-agent-inventory.xml``, 800 Debian packages) and is serialised the way
the agent does it (XML::Simple: sections and fields sorted, two-space indent, UTF-8, zlib):

* identity: HARDWARE/NAME, DEVICEID ``<name>-YYYY-MM-DD-HH-MM-SS``, UUID, BIOS serial,
  every NETWORKS/MACADDR, the IPv4 address (HARDWARE/IPADDR and NETWORKS/IPADDRESS);
* software: a few packages removed, a few at a different version (drawn from a small
  set of variants, so some are shared between agents), a few extra packages from a
  shared pool and one package of its own, so the catalogue sees both shared and new
  entries;
* the re-inventory is what the real agent sends on its second run when only the disk
  usage changed: CHECKSUM 513 (HARDWARE + DRIVES) with a new DRIVES/FREE. Every fifth
  agent also upgraded one package (CHECKSUM 513 | 65536 SOFTWARES).
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from uuid import UUID

SAMPLE = Path("/work/shared/samples/unix-agent-inventory.xml")
USER_AGENT = "OCS-NG_unified_unix_agent_v2.10.0"
FIRST_CHECKSUM = 1572863  # every agent bit: first run, no last_state (protocol.md §5.3)
RE_CHECKSUM = 513  # HARDWARE | DRIVES: second run with only the free space changed
SOFTWARE_BIT = 65536
UPGRADE_MARK = "+bench-upd1"
EXTRA_POOL = 100  # shared pool of extra packages

Field = tuple[str, str | None]
Section = tuple[str, list[Field]]

_BIOS: list[Field] = [
    ("ASSETTAG", None),
    ("BDATE", "04/01/2014"),
    ("BMANUFACTURER", "SeaBIOS"),
    ("BVERSION", "1.16.2-debian-1.16.2-1"),
    ("MMANUFACTURER", None),
    ("MMODEL", None),
    ("MSN", None),
    ("SMANUFACTURER", "QEMU"),
    ("SMODEL", "Standard PC (Q35 + ICH9, 2009)"),
    ("SSN", ""),
    ("TYPE", "Other"),
]


@dataclass(frozen=True)
class Agent:
    """One simulated computer: its three request bodies and what storing them must yield."""

    index: int
    name: str
    device_id: str
    prolog: bytes
    first: bytes
    again: bytes
    first_software: int
    first_free: int
    again_software: int
    again_free: int
    upgraded: bool
    first_keys: frozenset[tuple[str, str, str]]
    again_keys: frozenset[tuple[str, str, str]]


@cache
def _sample() -> list[Section]:
    root = ET.parse(SAMPLE).getroot()
    content = root.find("CONTENT")
    assert content is not None
    return [(section.tag, [(field.tag, field.text) for field in section]) for section in content]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _render(device_id: str, query: str, sections: list[Section] | None) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n']
    if sections is not None:
        out.append("  <CONTENT>\n")
        for tag, fields in sorted(sections, key=lambda s: s[0]):
            out.append(f"    <{tag}>\n")
            for name, value in fields:
                out.append(f"      <{name}>{_escape(value or '')}</{name}>\n")
            out.append(f"    </{tag}>\n")
        out.append("  </CONTENT>\n")
    out.append(f"  <DEVICEID>{device_id}</DEVICEID>\n  <QUERY>{query}</QUERY>\n</REQUEST>\n")
    return "".join(out).encode("utf-8")


def _set(fields: list[Field], name: str, value: str) -> list[Field]:
    """A copy of ``fields`` with ``name`` set, kept in the agent's alphabetical order."""
    out = [(n, v) for n, v in fields if n != name]
    out.append((name, value))
    out.sort(key=lambda f: f[0])
    return out


def _software_key(fields: list[Field]) -> tuple[str, str, str]:
    d = dict(fields)
    return (d.get("NAME") or "", d.get("PUBLISHER") or "", d.get("VERSION") or "")


def _extra_package(n: int, own: str | None = None) -> list[Field]:
    name = own or f"bench-extra-{n:03d}"
    return [
        ("ARCHITECTURE", "amd64"),
        ("COMMENTS", f"simulated package {name}"),
        ("FILESIZE", str(10240 * (n + 1))),
        ("FROM", "deb"),
        ("INSTALLDATE", "2026/11/20 09:15:00"),
        ("NAME", name),
        ("PUBLISHER", "https://bench.example.invalid/"),
        ("VERSION", f"1.{n % 7}.{n % 3}-1"),
    ]


def make_prolog(name: str) -> bytes:
    """A PROLOG body for computer ``name`` (its DEVICEID gets a fixed time stamp)."""
    return zlib.compress(_render(f"{name}-2026-11-21-17-46-56", "PROLOG", None))


def make_agent(index: int, prefix: str) -> Agent:
    """Agent ``index`` of a fleet whose names start with ``prefix`` (deterministic)."""
    rng = random.Random(f"{prefix}/{index}")
    name = f"{prefix}-{index:04d}"
    seconds = 17 * 3600 + 46 * 60 + 56 + index
    stamp = f"2026-11-21-{seconds // 3600 % 24:02d}-{seconds // 60 % 60:02d}-{seconds % 60:02d}"
    device_id = f"{name}-{stamp}"
    ip = f"10.{64 + index // 63500 % 64}.{index // 250 % 254}.{index % 250 + 2}"
    uuid = str(UUID(int=rng.getrandbits(128), version=4))
    tail = f"{index // 65536 % 256:02x}:{index // 256 % 256:02x}:{index % 256:02x}"
    serial = f"BENCH{index:06d}{rng.getrandbits(20):05X}"
    first_free = 80000 + index % 500
    again_free = first_free - 1 - index % 7

    sections: list[Section] = []
    software: list[list[Field]] = []
    mac_count = 0
    for tag, fields in _sample():
        if tag == "SOFTWARES":
            software.append(fields)
            continue
        if tag == "HARDWARE":
            fields = _set(fields, "NAME", name)
            fields = _set(fields, "IPADDR", ip)
            fields = _set(fields, "UUID", uuid)
            fields = _set(fields, "DEFAULTGATEWAY", ip.rsplit(".", 1)[0] + ".254")
        elif tag == "BIOS":
            fields = _set(_BIOS, "SSN", serial)
        elif tag == "NETWORKS":
            d = dict(fields)
            if d.get("DESCRIPTION") == "eth0":
                fields = _set(fields, "MACADDR", f"52:54:00:{tail}")
                if d.get("IPADDRESS") and ":" not in (d.get("IPADDRESS") or ""):
                    fields = _set(fields, "IPADDRESS", ip)
                    fields = _set(fields, "IPGATEWAY", ip.rsplit(".", 1)[0] + ".254")
                    fields = _set(fields, "IPSUBNET", ip.rsplit(".", 1)[0] + ".0")
            else:
                mac_count += 1
                fields = _set(fields, "MACADDR", f"fa:{mac_count:02x}:00:{tail}")
        elif tag == "DRIVES":
            fields = _set(fields, "FREE", str(first_free))
        sections.append((tag, fields))

    # Software variations: removed, re-versioned (shared variants), shared extras, one own.
    software = list(software)
    for _ in range(4):
        software.pop(rng.randrange(len(software)))
    for position in rng.sample(range(40), 3):
        fields = software[position]
        version = dict(fields).get("VERSION") or "0"
        software[position] = _set(fields, "VERSION", f"{version}+bench{rng.randint(1, 3)}")
    for n in rng.sample(range(EXTRA_POOL), 4):
        software.append(_extra_package(n))
    software.append(_extra_package(index, own=f"bench-own-{name}"))
    software.sort(key=lambda f: dict(f).get("NAME") or "")

    first_sections = [*sections, *(("SOFTWARES", f) for f in software)]
    hardware_first = [
        (t, _set(f, "CHECKSUM", str(FIRST_CHECKSUM)) if t == "HARDWARE" else f) for t, f in first_sections
    ]

    upgraded = index % 5 == 0
    again_software = list(software)
    checksum = RE_CHECKSUM
    if upgraded:
        position = rng.randrange(len(again_software))
        fields = again_software[position]
        version = dict(fields).get("VERSION") or "0"
        again_software[position] = _set(fields, "VERSION", version + UPGRADE_MARK)
        checksum |= SOFTWARE_BIT
    again_sections: list[Section] = []
    for tag, fields in sections:
        if tag == "HARDWARE":
            fields = _set(fields, "CHECKSUM", str(checksum))
        elif tag == "DRIVES":
            fields = _set(fields, "FREE", str(again_free))
        again_sections.append((tag, fields))
    again_sections += [("SOFTWARES", f) for f in again_software]

    return Agent(
        index=index,
        name=name,
        device_id=device_id,
        prolog=zlib.compress(_render(device_id, "PROLOG", None)),
        first=zlib.compress(_render(device_id, "INVENTORY", hardware_first)),
        again=zlib.compress(_render(device_id, "INVENTORY", again_sections)),
        first_software=len(software),
        first_free=first_free,
        again_software=len(again_software),
        again_free=again_free,
        upgraded=upgraded,
        first_keys=frozenset(_software_key(f) for f in software),
        again_keys=frozenset(_software_key(f) for f in again_software),
    )


def make_fleet(count: int, prefix: str) -> list[Agent]:
    return [make_agent(i, prefix) for i in range(count)]


def render_plain(agent_body: bytes) -> str:
    """The XML of a compressed body (for debugging: ``python -m bench.payload``)."""
    return zlib.decompress(agent_body).decode("utf-8")


if __name__ == "__main__":
    import sys

    agent = make_agent(int(sys.argv[1]) if len(sys.argv) > 1 else 0, "bench")
    sys.stdout.write(render_plain(agent.again if "--again" in sys.argv else agent.first))
