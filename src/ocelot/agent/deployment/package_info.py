"""Reading a package's ``info`` file as the agent needs it (protocol.md §8.2).

The wire format lives in :mod:`ocelot.protocol.info_file`; this reader is more lenient
about the digest than the server's parser, because the agent must accept what any OCS
server writes: ``DIGEST_ALGO`` MD5, SHA1 or SHA256 and ``DIGEST_ENCODE`` Hexa or Base64
(padded or not, as Perl's ``b64digest`` writes it). Ocelot's own attributes (per-fragment
SHA-256, whole-archive SHA-256, size) are read when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocelot.protocol.errors import ProtocolError
from ocelot.protocol.info_file import ACTION_ATTRIBUTE, ACTIONS, MAX_FRAGMENTS, MAX_INFO_FILE, FragmentDigest
from ocelot.protocol.limits import Limits
from ocelot.protocol.xmltree import parse_xml

_LIMITS = Limits(max_body=MAX_INFO_FILE, max_text=MAX_INFO_FILE, max_elements=1, max_depth=1)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
DIGEST_ALGORITHMS = {"MD5": "md5", "SHA1": "sha1", "SHA-1": "sha1", "SHA256": "sha256", "SHA-256": "sha256"}


class InfoError(Exception):
    """An info file the agent cannot use; ``code`` is the result to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PackageInfo:
    """What the engine needs from an info file."""

    package_id: str
    priority: int
    action: str
    argument: str  # NAME (LAUNCH), COMMAND (EXECUTE) or PATH (STORE)
    protocol: str  # "http" or "https", for the fragments
    fragment_count: int
    digest: str
    digest_algorithm: str  # hashlib name, or the unknown name as written
    digest_encoding: str  # "hex" or "base64", or the unknown name as written
    sha256: str = ""
    size: int = 0
    fragments: tuple[FragmentDigest, ...] = ()
    notify_user: bool = False
    notify_text: str = ""


def _int(fields: dict[str, str], name: str, code: str) -> int:
    text = fields.get(name, "").strip()
    if not re.fullmatch(r"\d{1,18}", text):
        raise InfoError(code, f"the info file's {name} is not a number")
    return int(text)


def read_info(data: bytes, package_id: str) -> PackageInfo:
    """Parse and check an info file announced as ``package_id``; InfoError says what to report."""
    try:
        root = parse_xml(data, _LIMITS)
    except ProtocolError as exc:
        raise InfoError("ERR_DOWNLOAD_INFO", f"the info file is not readable: {exc}") from exc
    if root.tag != "DOWNLOAD":
        raise InfoError("ERR_DOWNLOAD_INFO", "the info file is not a DOWNLOAD element")
    fields = root.attrib
    # protocol.md §8.2: the ID must equal the announced one, else ERR_BAD_ID.
    if fields.get("ID", "") != package_id:
        raise InfoError("ERR_BAD_ID", f"the info file is for package {fields.get('ID', '')[:40]!r}")
    action = fields.get("ACT", "")
    if action not in ACTIONS:
        raise InfoError("ERR_BAD_PARAM", "the info file's ACT is not LAUNCH, EXECUTE or STORE")
    protocol = fields.get("PROTO", "").lower()
    if protocol not in ("http", "https"):
        raise InfoError("ERR_BAD_PARAM", "the info file's PROTO is not HTTP or HTTPS")
    priority = _int(fields, "PRI", "ERR_BAD_PARAM")
    if priority > 10:
        raise InfoError("ERR_BAD_PARAM", "the info file's PRI is above 10")
    count = _int(fields, "FRAGS", "ERR_BAD_PARAM")
    if count > MAX_FRAGMENTS:
        raise InfoError("ERR_BAD_PARAM", "the info file lists too many fragments")
    fragments: list[FragmentDigest] = []
    for item in fields.get("OCELOT_FRAGMENTS", "").split():
        size, _, digest = item.partition(":")
        if not size.isdigit() or not _HEX64.match(digest):
            raise InfoError("ERR_BAD_PARAM", "the info file's OCELOT_FRAGMENTS is malformed")
        fragments.append(FragmentDigest(int(size), digest))
    if fragments and len(fragments) != count:
        raise InfoError("ERR_BAD_PARAM", "OCELOT_FRAGMENTS does not list FRAGS fragments")
    sha256 = fields.get("OCELOT_SHA256", "").lower()
    if sha256 and not _HEX64.match(sha256):
        raise InfoError("ERR_BAD_PARAM", "the info file's OCELOT_SHA256 is not SHA-256 hex")
    algorithm = fields.get("DIGEST_ALGO", "MD5").strip().upper() or "MD5"
    encoding = fields.get("DIGEST_ENCODE", "Hexa").strip().lower() or "hexa"
    size_text = fields.get("OCELOT_SIZE", "").strip()
    return PackageInfo(
        package_id=package_id,
        priority=priority,
        action=action,
        argument=fields.get(ACTION_ATTRIBUTE[action], ""),
        protocol=protocol,
        fragment_count=count,
        digest=fields.get("DIGEST", "").strip(),
        digest_algorithm=DIGEST_ALGORITHMS.get(algorithm, algorithm),
        digest_encoding={"hexa": "hex", "hex": "hex", "base64": "base64"}.get(encoding, encoding),
        sha256=sha256,
        size=int(size_text) if size_text.isdigit() else 0,
        fragments=tuple(fragments),
        notify_user=fields.get("NOTIFY_USER") == "1",
        notify_text=fields.get("NOTIFY_TEXT", ""),
    )
