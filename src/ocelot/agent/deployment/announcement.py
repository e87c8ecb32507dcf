"""What a PROLOG reply's DOWNLOAD option announces: CONF and one PACK per package (protocol.md §4.4).

Deliberate departures from the Unix agent's bugs (protocol.md §4.4): a missing ``TIMEOUT``
means the Windows default of 30 days, not "expire at once"; ``EXECUTION_TIMEOUT`` is
honoured (minutes, default 120 as on Windows). A missing ``ON`` still means off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.xmltree import Node, parse_xml, to_document

_PACKAGE_ID = re.compile(r"^[1-9][0-9]{0,17}$")
# host[:port]/path, no scheme, no spaces or characters that would change the URL's meaning.
_LOCATION = re.compile(r"^[A-Za-z0-9.\-\[\]:]+(?::\d+)?(?:/[A-Za-z0-9._~\-/%]*)?$")


@dataclass(frozen=True)
class DownloadConf:
    """The CONF param; defaults are the agents' (protocol.md §9.3 "Defaults")."""

    on: bool = False
    frag_latency: int = 10
    cycle_latency: int = 10
    period_latency: int = 0
    period_length: int = 10
    timeout_days: int = 30
    execution_timeout_minutes: int = 120

    def to_node(self) -> Node:
        return Node(
            "CONF",
            attrib={
                "ON": "1" if self.on else "0",
                "FRAG_LATENCY": str(self.frag_latency),
                "CYCLE_LATENCY": str(self.cycle_latency),
                "PERIOD_LATENCY": str(self.period_latency),
                "PERIOD_LENGTH": str(self.period_length),
                "TIMEOUT": str(self.timeout_days),
                "EXECUTION_TIMEOUT": str(self.execution_timeout_minutes),
            },
        )

    def to_bytes(self) -> bytes:
        return to_document(self.to_node())


@dataclass(frozen=True)
class PackOrder:
    """One PACK param: a package to deploy and where its files are."""

    package_id: str
    info_location: str
    pack_location: str
    force: bool = False

    def to_bytes(self) -> bytes:
        return to_document(
            Node(
                "PACK",
                attrib={
                    "ID": self.package_id,
                    "INFO_LOC": self.info_location,
                    "PACK_LOC": self.pack_location,
                    "FORCE": "1" if self.force else "0",
                },
            )
        )


def _number(fields: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    text = fields.get(name, "").strip()
    if not text.isdigit():
        return default
    return max(minimum, min(int(text), 10**9))


def read_conf(fields: dict[str, str]) -> DownloadConf:
    defaults = DownloadConf()
    return DownloadConf(
        # The Unix agent tests ON numerically: missing or anything but a number > 0 is off.
        on=fields.get("ON", "").strip().isdigit() and int(fields["ON"].strip()) != 0,
        frag_latency=_number(fields, "FRAG_LATENCY", defaults.frag_latency),
        cycle_latency=_number(fields, "CYCLE_LATENCY", defaults.cycle_latency),
        period_latency=_number(fields, "PERIOD_LATENCY", defaults.period_latency),
        period_length=_number(fields, "PERIOD_LENGTH", defaults.period_length, minimum=1),
        timeout_days=_number(fields, "TIMEOUT", defaults.timeout_days),
        execution_timeout_minutes=_number(
            fields, "EXECUTION_TIMEOUT", defaults.execution_timeout_minutes, minimum=1
        ),
    )


def read_pack(fields: dict[str, str]) -> PackOrder | None:
    """A PACK param, or None when its ID or locations are unusable (never put in a path or URL)."""
    package_id = fields.get("ID", "").strip()
    info = fields.get("INFO_LOC", "").strip().rstrip("/")
    pack = fields.get("PACK_LOC", "").strip().rstrip("/")
    if not _PACKAGE_ID.match(package_id) or not _LOCATION.match(info) or not _LOCATION.match(pack):
        return None
    return PackOrder(package_id, info, pack, force=fields.get("FORCE", "").strip() == "1")


@dataclass(frozen=True)
class Announcement:
    conf: DownloadConf
    packs: tuple[PackOrder, ...]
    refused: tuple[str, ...] = ()  # PACK ids with unusable locations


def read_announcement(options: tuple[Node, ...] | list[Node]) -> Announcement | None:
    """The DOWNLOAD option of a PROLOG reply, or None when the reply has none."""
    for option in options:
        if (option.value("NAME") or "").strip() != "DOWNLOAD":
            continue
        conf = DownloadConf()
        packs: list[PackOrder] = []
        refused: list[str] = []
        seen: set[str] = set()
        for param in option.find_all("PARAM"):
            fields = param.attrib
            kind = fields.get("TYPE", "")
            if kind == "CONF":
                conf = read_conf(fields)
            elif kind == "PACK":
                pack = read_pack(fields)
                if pack is None:
                    refused.append(fields.get("ID", "")[:40])
                elif pack.package_id not in seen:
                    seen.add(pack.package_id)
                    packs.append(pack)
        return Announcement(conf, tuple(packs), tuple(refused))
    return None


def read_pack_file(data: bytes) -> PackOrder | None:
    try:
        return read_pack(parse_xml(data).attrib)
    except ProtocolError:  # a damaged state file: the package cannot be resumed
        return None


def read_conf_file(data: bytes) -> DownloadConf | None:
    try:
        return read_conf(parse_xml(data).attrib)
    except ProtocolError:
        return None
