"""Typed messages: what agents send and what the server answers (protocol.md §3-§7).

:func:`read_request` turns a parsed REQUEST document into one of the message classes;
the reply classes build the REPLY documents agents expect. Everything that crosses this
module's boundary uses Ocelot's words; the OCS tags stay here and in ``sections``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ocelot.protocol.collector import collector_paused
from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS, Limits
from ocelot.protocol.sections import (
    CONTROL_TAGS,
    HARDWARE,
    SECTIONS_BY_TAG,
    SectionSpec,
)
from ocelot.protocol.xmltree import Node, parse_xml, to_document

# protocol.md §2: the only check OCS makes; DEVICEID is a label, not a credential.
DEVICE_ID = re.compile(r"^.+-\d{4}(?:-\d{2}){5}$", re.DOTALL)
MAX_DEVICE_ID = 255
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d*)?$")
_EMPTY_NUMBERS = frozenset({"", "??", "NA", "N/A"})
_INT64 = 2**63
_PACKAGE_ID = re.compile(r"^\d{1,18}$")
_RESULT_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")

# NOTIFY's IFACE children, in Ocelot's network interface words.
_NOTIFY_INTERFACE = {
    "MAC": "mac",
    "IP": "ip_address",
    "MASK": "netmask",
    "GW": "gateway",
    "SUBNET": "subnet",
    "DHCP": "dhcp_server",
}

QUERIES = frozenset({"PROLOG", "INVENTORY", "DOWNLOAD", "NOTIFY", "UPDATE"})

Value = str | int | None
Row = dict[str, object]


@dataclass(frozen=True)
class Contact:
    """QUERY=PROLOG: an agent asks what to do (protocol.md §4.1)."""

    device_id: str


@dataclass(frozen=True)
class DiscoveredHost:
    """One host an IP-discovery scan found (CONTENT/IPDISCOVER/H)."""

    ip: str
    mac: str
    name: str


@dataclass
class Inventory:
    """QUERY=INVENTORY: a full report of a computer (protocol.md §5).

    ``sections`` maps a section name to its rows; each row maps field names to typed
    values and holds the unknown fields in ``row["extra"]``. The computer's own fields
    are ``sections["hardware"][0]``. ``changed_bits`` is HARDWARE/CHECKSUM, or None
    when the agent sent none (which means "everything changed").
    """

    device_id: str
    changed_bits: int | None
    sections: dict[str, list[Row]]
    account_info: list[tuple[str, str]] = field(default_factory=list)
    package_history: list[int] | None = None
    old_device_id: str | None = None
    discovered_hosts: list[DiscoveredHost] | None = None
    other_sections: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    @property
    def computer_fields(self) -> Row:
        rows = self.sections.get("hardware") or [{}]
        return rows[0]


@dataclass(frozen=True)
class DeploymentResult:
    """QUERY=DOWNLOAD: the outcome of one package on one computer (protocol.md §7)."""

    device_id: str
    package_id: str
    code: str


@dataclass(frozen=True)
class NetworkNotice:
    """QUERY=NOTIFY (Windows): the computer's addresses changed (protocol.md §7)."""

    device_id: str
    kind: str
    ip_address: str
    interfaces: list[dict[str, str]]


@dataclass(frozen=True)
class UpdateQuery:
    """QUERY=UPDATE (deprecated agent self-update)."""

    device_id: str | None


Message = Contact | Inventory | DeploymentResult | NetworkNotice | UpdateQuery


def _single(node: Node, name: str) -> str | None:
    """A root-level value that must not be given twice with different contents (T16)."""
    values = [child.text for child in node.find_all(name)]
    if name in node.attrib:
        values.append(node.attrib[name])
    if not values:
        return None
    if len(set(values)) > 1:
        raise ProtocolError("ambiguous", f"{name} is given more than once")
    return values[0]


def check_device_id(device_id: str | None) -> str:
    """Validate DEVICEID with OCS's pattern (protocol.md §1.5: otherwise 400)."""
    if not device_id:
        raise ProtocolError("no_device_id", "DEVICEID is missing")
    if len(device_id) > MAX_DEVICE_ID or not DEVICE_ID.match(device_id) or "\n" in device_id:
        raise ProtocolError("bad_device_id", "DEVICEID is not of the form NAME-YYYY-MM-DD-HH-MM-SS")
    return device_id


def parse_int(text: str, where: str) -> int | None:
    """An integer field: empty-ish means unknown, decimals truncate, text is refused."""
    text = text.strip()
    if text in _EMPTY_NUMBERS:
        return None
    if not _NUMBER.match(text) or len(text) > 40:
        raise ProtocolError("bad_number", f"{where} must be a number")
    value = int(text.split(".")[0])
    if not -_INT64 <= value < _INT64:
        raise ProtocolError("number_out_of_range", f"{where} is out of range")
    return value


def read_row(spec: SectionSpec, node: Node) -> Row:
    """Map one section element to Ocelot field names and typed values."""
    table = spec.field_by_tag()
    row: Row = {}
    extra: dict[str, str] = {}
    for tag, text in node.fields().items():
        fspec = table.get(tag)
        if fspec is None:
            extra[tag] = text
            continue
        if fspec.name in row and fspec.tag != tag:
            continue  # the canonical tag wins over an alias
        if fspec.kind == "int":
            # Plain digits are most numbers (800 FILESIZEs per inventory): read at once,
            # without the checks below or the error message's text made in advance.
            # Eighteen digits are below 2**63.
            if len(text) < 19 and text.isdigit() and text.isascii():
                row[fspec.name] = int(text)
            else:
                row[fspec.name] = parse_int(text, f"{spec.tag}/{tag}")
        else:
            row[fspec.name] = text
    row["extra"] = extra
    return row


def section_data(node: Node) -> dict[str, object]:
    """An unknown section as XML::Simple would hash it, nested elements included.

    Leaf children and attributes are strings, repeated or nested children become lists of
    mappings, and the text of an element that has no leaf fields is kept under ``content``
    (e.g. FusionInventory's ``<VERSIONCLIENT>`` text or ``OPERATINGSYSTEM/TIMEZONE``).
    """
    data: dict[str, object] = dict(node.fields())
    for child in node.children:
        if child.children or child.attrib:
            nested = data.setdefault(child.tag, [])
            if isinstance(nested, list):
                nested.append(section_data(child))
    if node.text and not node.children:
        data.setdefault("content", node.text)
    return data


def _read_inventory(root: Node, device_id: str, limits: Limits) -> Inventory:
    content = root.find("CONTENT")
    if content is None:
        raise ProtocolError("no_content", "an INVENTORY request needs a CONTENT element")
    sections: dict[str, list[Row]] = {}
    other: dict[str, list[dict[str, object]]] = {}
    account_info: list[tuple[str, str]] = []
    history: list[int] | None = None
    old_device_id: str | None = None
    hosts: list[DiscoveredHost] | None = None
    counts: dict[str, int] = {}
    for child in content.children:
        tag = child.tag
        counts[tag] = counts.get(tag, 0) + 1
        if counts[tag] > limits.max_rows_per_section:
            raise TooLargeError("too_many_rows", f"section {tag} has too many entries")
        spec = SECTIONS_BY_TAG.get(tag)
        if spec is not None:
            if not spec.multiple and spec.name in sections:
                continue  # single sections: the first one counts
            sections.setdefault(spec.name, []).append(read_row(spec, child))
        elif tag == "ACCOUNTINFO":
            key = child.value("KEYNAME")
            if key:
                account_info.append((key, child.value("KEYVALUE") or ""))
        elif tag == "DOWNLOAD":
            history = history or []
            for hist in child.find_all("HISTORY"):
                for package in hist.find_all("PACKAGE"):
                    package_id = package.value("ID") or ""
                    if _PACKAGE_ID.match(package_id):
                        history.append(int(package_id))
                # Windows agent bug: OLD_DEVICEID lands here (protocol.md §2).
                old = hist.value("OLD_DEVICEID")
                if old:
                    old_device_id = old
        elif tag == "OLD_DEVICEID":
            old_device_id = child.text or old_device_id
        elif tag == "IPDISCOVER":
            hosts = hosts or []
            for host in child.find_all("H"):
                hosts.append(
                    DiscoveredHost(
                        host.value("I") or "",
                        host.value("M") or "",
                        host.value("N") or "",
                    )
                )
        elif tag not in CONTROL_TAGS:
            other.setdefault(tag, []).append(section_data(child))
    hardware = sections.get(HARDWARE.name)
    changed_bits = hardware[0].get("checksum") if hardware else None
    return Inventory(
        device_id=device_id,
        changed_bits=changed_bits if isinstance(changed_bits, int) else None,
        sections=sections,
        account_info=account_info,
        package_history=history,
        old_device_id=old_device_id if old_device_id and old_device_id != device_id else None,
        discovered_hosts=hosts,
        other_sections=other,
    )


def read_request(root: Node, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Turn a REQUEST document into a typed message, or raise ProtocolError (400)."""
    if root.tag != "REQUEST":
        raise ProtocolError("not_request", "the document root must be REQUEST")
    query = _single(root, "QUERY")
    if not query:
        raise ProtocolError("no_query", "QUERY is missing")
    if query not in QUERIES:
        raise ProtocolError("unknown_query", "QUERY is not one this server answers")
    raw_device_id = _single(root, "DEVICEID")
    if query == "UPDATE":
        return UpdateQuery(raw_device_id)
    device_id = check_device_id(raw_device_id)
    if query == "PROLOG":
        # OCS ignores anything else in a PROLOG; an inventory body there is protocol
        # confusion, refused rather than half-handled (security.md T16).
        if root.find("CONTENT") is not None:
            raise ProtocolError("unexpected_content", "a PROLOG request carries no CONTENT")
        return Contact(device_id)
    if query == "INVENTORY":
        return _read_inventory(root, device_id, limits)
    if query == "DOWNLOAD":
        package_id = _single(root, "ID") or ""
        if not _PACKAGE_ID.match(package_id):
            raise ProtocolError("bad_package_id", "ID must be a numeric package identifier")
        code = _single(root, "ERR") or "UNKNOWN_CODE"
        if not _RESULT_CODE.match(code):
            raise ProtocolError("bad_result_code", "ERR is not a result code")
        return DeploymentResult(device_id, package_id, code)
    hardware = root.find("HARDWARE")
    hardware_fields = hardware.fields() if hardware is not None else {}
    return NetworkNotice(
        device_id=device_id,
        kind=_single(root, "TYPE") or "",
        ip_address=hardware_fields.get("IPADDR", ""),
        interfaces=[
            {name: iface.fields().get(tag, "") for tag, name in _NOTIFY_INTERFACE.items()}
            for iface in root.find_all("IFACE")
        ],
    )


def read_message(xml: bytes, limits: Limits = DEFAULT_LIMITS) -> Message:
    """:func:`~ocelot.protocol.xmltree.parse_xml` then :func:`read_request`, with the
    cyclic collector paused until the tree is gone: a collection that runs while the
    7,600 nodes of an inventory are alive walks them all, one that runs after they are
    freed never sees them (collector.py; bench/README.md, "Where the time goes")."""
    with collector_paused():
        root = parse_xml(xml, limits)
        try:
            return read_request(root, limits)
        finally:
            del root


# ---------------------------------------------------------------- replies


@dataclass(frozen=True)
class OptionParam:
    """One PARAM of an OPTION: attributes and optional text."""

    attributes: dict[str, str]
    text: str = ""


@dataclass(frozen=True)
class ReplyOption:
    """One OPTION of a PROLOG reply; NAME goes out as a child element (protocol.md §4.2)."""

    name: str
    params: tuple[OptionParam, ...]


@dataclass(frozen=True)
class ContactReply:
    """The PROLOG reply: SEND or STOP, the contact period and the options."""

    send: bool
    prolog_freq: int
    inventory_on_startup: int
    options: tuple[ReplyOption, ...] = ()

    def to_xml(self) -> bytes:
        root = Node("REPLY")
        root.children.append(Node("RESPONSE", text="SEND" if self.send else "STOP"))
        root.children.append(Node("PROLOG_FREQ", text=str(self.prolog_freq)))
        root.children.append(Node("INVENTORY_ON_STARTUP", text=str(self.inventory_on_startup)))
        for option in self.options:
            node = Node("OPTION", children=[Node("NAME", text=option.name)])
            for param in option.params:
                node.children.append(Node("PARAM", attrib=dict(param.attributes), text=param.text))
            root.children.append(node)
        return to_document(root)


@dataclass(frozen=True)
class InventoryReply:
    """The INVENTORY reply: NO_ACCOUNT_UPDATE, or ACCOUNT_UPDATE with every pair (§6.2)."""

    account_info: tuple[tuple[str, str], ...] | None = None

    def to_xml(self) -> bytes:
        root = Node("REPLY")
        if self.account_info is None:
            root.children.append(Node("RESPONSE", text="NO_ACCOUNT_UPDATE"))
        else:
            root.children.append(Node("RESPONSE", text="ACCOUNT_UPDATE"))
            for key, value in self.account_info:
                root.children.append(
                    Node(
                        "ACCOUNTINFO",
                        children=[
                            Node("KEYNAME", text=key),
                            Node("KEYVALUE", text=value),
                        ],
                    )
                )
        return to_document(root)


def no_update_reply() -> bytes:
    """The UPDATE reply: agent self-update is never offered (OCS's UPDATE is always off)."""
    return to_document(Node("REPLY", children=[Node("RESPONSE", text="NO_UPDATE")]))
