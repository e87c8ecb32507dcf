"""The whole-archive checks made before anything is extracted or run (protocol.md §8.1, §8.2).

OCS's DIGEST covers the concatenation of all fragments, MD5 lowercase hex by default;
older builders wrote SHA1 and Base64 (Perl's ``b64digest``: no ``=`` padding). Ocelot's
info file adds the archive's SHA-256, checked too. An unknown algorithm or encoding, or an
archive with no digest at all, is refused: ERR_BAD_DIGEST, as both OCS agents do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ocelot.agent.deployment.package_info import PackageInfo

CHUNK = 1024 * 1024


class DigestError(Exception):
    """The archive does not match its info file."""


def _expected_raw(info: PackageInfo) -> bytes:
    text = info.digest.strip()
    try:
        if info.digest_encoding == "hex":
            return bytes.fromhex(text)
        if info.digest_encoding == "base64":
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise DigestError(f"the DIGEST {text[:80]!r} is not {info.digest_encoding}") from exc
    raise DigestError(f"unknown DIGEST_ENCODE {info.digest_encoding!r}")


def check_archive(info: PackageInfo, fragments: list[Path]) -> None:
    """Hash the fragments in order and compare with DIGEST (and OCELOT_SHA256); DigestError if not."""
    if info.digest_algorithm not in ("md5", "sha1", "sha256"):
        raise DigestError(f"unknown DIGEST_ALGO {info.digest_algorithm!r}")
    if not info.digest:
        raise DigestError("the info file gives no DIGEST for its archive")
    expected = _expected_raw(info)
    digest = hashlib.new(info.digest_algorithm)
    whole = hashlib.sha256()
    size = 0
    # The two digests side by side: hashlib lets go of the GIL on large blocks, so the
    # check costs about the slower one rather than both (bench/README.md, agent). Waiting
    # for a chunk's digest before the next keeps the order and one chunk in flight.
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest") as worker:
        try:
            for path in fragments:
                with open(path, "rb") as handle:
                    while chunk := handle.read(CHUNK):
                        if pending is not None:
                            pending.result()
                        pending = worker.submit(digest.update, chunk)
                        whole.update(chunk)
                        size += len(chunk)
        finally:
            if pending is not None:
                pending.result()
    if not hmac.compare_digest(digest.digest(), expected):
        raise DigestError(f"the archive's {info.digest_algorithm} is not the info file's DIGEST")
    if info.sha256 and whole.hexdigest() != info.sha256:
        raise DigestError("the archive's SHA-256 is not the info file's OCELOT_SHA256")
    if info.size and size != info.size:
        raise DigestError(f"the archive is {size} bytes, the info file says {info.size}")
