"""The package ``info`` file: OCS's one-line DOWNLOAD element, plus Ocelot's signed extras.

OCS agents fetch ``https://INFO_LOC/<ID>/info`` and read the attributes of one DOWNLOAD
element (protocol.md §8.2). We write it exactly as ocsreports' PackageBuilder does
(``writePackageInfo``): an XML declaration, a newline, then one self-closing element whose
attributes come in a fixed order, with only the action's own attribute among PATH (STORE),
NAME (LAUNCH) and COMMAND (EXECUTE), and ``GARDEFOU="rien"`` last of OCS's attributes.

After GARDEFOU come Ocelot's attributes, which OCS agents ignore (both read attributes by
name, protocol.md §8.2 and §9.3):

* ``OCELOT_SIZE``: archive size in bytes;
* ``OCELOT_SHA256``: SHA-256 hex of the whole archive;
* ``OCELOT_FRAGMENTS``: ``size:sha256`` of each fragment in order, separated by spaces;
* ``OCELOT_KEY_ID``: which signing key signed the file;
* ``OCELOT_SIGNATURE``: base64 Ed25519 signature, always the last attribute.

The signature covers the exact bytes of the file with the `` OCELOT_SIGNATURE="..."``
attribute left out (so the signed message ends in ``" />\\n``): a verifier cuts the last
attribute off, checks the signature over the remaining bytes, and only then parses them.
Any changed byte (an attribute, a space, the declaration) breaks the signature.

Values are written through one escaping function, never by concatenating raw text, so
quotes, ``<&>`` and newlines round-trip exactly and no attribute can be injected
(security.md T28). This module is wire format only: signing itself happens in the server's
deployment domain and in the agent, with ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.limits import Limits
from ocelot.protocol.xmltree import parse_xml

ACTIONS = ("LAUNCH", "EXECUTE", "STORE")
PROTOCOLS = ("HTTP", "HTTPS")
# The attribute each action carries its argument in (PackageBuilder.php, writePackageInfo).
ACTION_ATTRIBUTE = {"STORE": "PATH", "LAUNCH": "NAME", "EXECUTE": "COMMAND"}
SIGNATURE_ATTRIBUTE = "OCELOT_SIGNATURE"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_INFO_FILE = 4 * 1024 * 1024
MAX_FRAGMENTS = 10_000
# Fragment lists of 10,000 entries make one attribute of about 700 KB.
_INFO_LIMITS = Limits(max_body=MAX_INFO_FILE, max_text=MAX_INFO_FILE, max_elements=1, max_depth=1)
_SIGNED = re.compile(rb'^(?P<head>.*) OCELOT_SIGNATURE="(?P<signature>[A-Za-z0-9+/=]*)" />\n?\Z', re.DOTALL)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# XML 1.0 Char production, less what we escape: anything else cannot be carried at all.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class FragmentDigest:
    """One fragment as the info file lists it: its size and SHA-256 hex."""

    size: int
    sha256: str


@dataclass(frozen=True)
class InfoFile:
    """Everything an ``info`` file says about a package, in Ocelot's words."""

    package_id: int
    priority: int
    action: str
    md5: str
    protocol: str
    fragment_count: int
    # NAME for LAUNCH, COMMAND for EXECUTE, PATH for STORE.
    argument: str
    notify_user: bool = False
    notify_text: str = ""
    notify_countdown: int | None = None
    notify_can_abort: bool = False
    notify_can_delay: bool = False
    need_done_action: bool = False
    need_done_action_text: str = ""
    size: int = 0
    sha256: str = ""
    fragments: tuple[FragmentDigest, ...] = field(default=())
    key_id: str = ""


def _flag(value: bool) -> str:
    return "1" if value else "0"


def escape_attribute(text: str) -> str:
    """Text as a double-quoted XML attribute value that parses back to exactly ``text``.

    A parser turns raw tabs, newlines and CRs inside an attribute into spaces (XML 1.0
    §3.3.3): those go out as character references. Characters XML cannot carry at all are
    refused rather than dropped.
    """
    if _NOT_XML_CHAR.search(text):
        raise ValueError("the text holds a control character XML cannot carry")
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _ocs_attributes(info: InfoFile) -> list[tuple[str, str]]:
    if info.action not in ACTIONS:
        raise ValueError(f"unknown action {info.action!r}")
    if info.protocol not in PROTOCOLS:
        raise ValueError(f"unknown fragment protocol {info.protocol!r}")
    return [
        ("ID", str(info.package_id)),
        ("PRI", str(info.priority)),
        ("ACT", info.action),
        ("DIGEST", info.md5),
        ("PROTO", info.protocol),
        ("FRAGS", str(info.fragment_count)),
        ("DIGEST_ALGO", "MD5"),
        ("DIGEST_ENCODE", "Hexa"),
        (ACTION_ATTRIBUTE[info.action], info.argument),
        ("NOTIFY_USER", _flag(info.notify_user)),
        ("NOTIFY_TEXT", info.notify_text),
        ("NOTIFY_COUNTDOWN", "" if info.notify_countdown is None else str(info.notify_countdown)),
        ("NOTIFY_CAN_ABORT", _flag(info.notify_can_abort)),
        ("NOTIFY_CAN_DELAY", _flag(info.notify_can_delay)),
        ("NEED_DONE_ACTION", _flag(info.need_done_action)),
        ("NEED_DONE_ACTION_TEXT", info.need_done_action_text),
        ("GARDEFOU", "rien"),
    ]


def _ocelot_attributes(info: InfoFile) -> list[tuple[str, str]]:
    fragments = " ".join(f"{fragment.size}:{fragment.sha256}" for fragment in info.fragments)
    return [
        ("OCELOT_SIZE", str(info.size)),
        ("OCELOT_SHA256", info.sha256),
        ("OCELOT_FRAGMENTS", fragments),
        ("OCELOT_KEY_ID", info.key_id),
    ]


def unsigned_info_file(info: InfoFile) -> bytes:
    """The info file without its signature: exactly the bytes the signature covers."""
    attributes = _ocs_attributes(info) + _ocelot_attributes(info)
    body = " ".join(f'{name}="{escape_attribute(value)}"' for name, value in attributes)
    return (DECLARATION + f"<DOWNLOAD {body} />\n").encode("utf-8")


def ocs_info_file(info: InfoFile) -> bytes:
    """The info file as ocsreports writes it, without Ocelot's attributes (for comparisons)."""
    body = " ".join(f'{name}="{escape_attribute(value)}"' for name, value in _ocs_attributes(info))
    return (DECLARATION + f"<DOWNLOAD {body} />\n").encode("utf-8")


def attach_signature(unsigned: bytes, signature: bytes) -> bytes:
    """Append the signature as the last attribute of an :func:`unsigned_info_file`."""
    if not unsigned.endswith(b" />\n"):
        raise ValueError("not an unsigned info file")
    encoded = base64.b64encode(signature).decode("ascii")
    return unsigned[: -len(b" />\n")] + f' {SIGNATURE_ATTRIBUTE}="{encoded}" />\n'.encode("ascii")


def split_signature(data: bytes) -> tuple[bytes, bytes]:
    """The signed bytes and the raw signature of a signed info file; ProtocolError if unsigned."""
    if len(data) > MAX_INFO_FILE:
        raise ProtocolError("info_too_large", "the info file is too large", status=413)
    match = _SIGNED.match(data)
    if match is None:
        raise ProtocolError("info_unsigned", "the info file carries no signature")
    try:
        signature = base64.b64decode(match["signature"], validate=True)
    except binascii.Error as exc:
        raise ProtocolError("info_bad_signature", "the info file signature is not base64") from exc
    return match["head"] + b" />\n", signature


def _int(fields: dict[str, str], name: str) -> int:
    text = fields.get(name, "")
    if not re.fullmatch(r"\d{1,18}", text):
        raise ProtocolError("info_bad_field", f"the info file's {name} is not a number")
    return int(text)


def _optional_int(fields: dict[str, str], name: str) -> int | None:
    """A number, or None when the attribute is missing or empty (OCS writes NOTIFY_COUNTDOWN="")."""
    return _int(fields, name) if fields.get(name, "") != "" else None


def parse_info_file(data: bytes) -> InfoFile:
    """Read an info file (signed or not) back into an :class:`InfoFile`; ProtocolError if malformed.

    This checks structure only. Callers that need authenticity verify the signature over
    :func:`split_signature`'s bytes first.
    """
    if len(data) > MAX_INFO_FILE:
        raise ProtocolError("info_too_large", "the info file is too large", status=413)
    root = parse_xml(data, _INFO_LIMITS)
    if root.tag != "DOWNLOAD":
        raise ProtocolError("info_bad_root", "an info file is one DOWNLOAD element")
    fields = root.attrib
    action = fields.get("ACT", "")
    protocol = fields.get("PROTO", "")
    if action not in ACTIONS:
        raise ProtocolError("info_bad_field", "the info file's ACT is not LAUNCH, EXECUTE or STORE")
    if protocol.upper() not in PROTOCOLS:
        raise ProtocolError("info_bad_field", "the info file's PROTO is not HTTP or HTTPS")
    fragments: list[FragmentDigest] = []
    for item in fields.get("OCELOT_FRAGMENTS", "").split():
        size, _, digest = item.partition(":")
        if not size.isdigit() or not _HEX64.match(digest):
            raise ProtocolError("info_bad_field", "the info file's OCELOT_FRAGMENTS is malformed")
        fragments.append(FragmentDigest(int(size), digest))
    package_id = _int(fields, "ID")
    priority = _int(fields, "PRI")
    fragment_count = _int(fields, "FRAGS")
    if fragment_count > MAX_FRAGMENTS:
        raise ProtocolError("info_bad_field", "the info file lists too many fragments")
    md5 = fields.get("DIGEST", "")
    if md5 and not _HEX32.match(md5):
        raise ProtocolError("info_bad_field", "the info file's DIGEST is not MD5 hex")
    return InfoFile(
        package_id=package_id,
        priority=priority,
        action=action,
        md5=md5,
        protocol=protocol.upper(),
        fragment_count=fragment_count,
        argument=fields.get(ACTION_ATTRIBUTE[action], ""),
        notify_user=fields.get("NOTIFY_USER") == "1",
        notify_text=fields.get("NOTIFY_TEXT", ""),
        notify_countdown=_optional_int(fields, "NOTIFY_COUNTDOWN"),
        notify_can_abort=fields.get("NOTIFY_CAN_ABORT") == "1",
        notify_can_delay=fields.get("NOTIFY_CAN_DELAY") == "1",
        need_done_action=fields.get("NEED_DONE_ACTION") == "1",
        need_done_action_text=fields.get("NEED_DONE_ACTION_TEXT", ""),
        size=_optional_int(fields, "OCELOT_SIZE") or 0,
        sha256=fields.get("OCELOT_SHA256", ""),
        fragments=tuple(fragments),
        key_id=fields.get("OCELOT_KEY_ID", ""),
    )
