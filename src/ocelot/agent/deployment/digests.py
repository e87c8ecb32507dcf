"""The whole-archive checks made before anything is extracted or run (protocol.md §8.1, §8.2).

OCS's DIGEST covers the concatenation of all fragments, MD5 lowercase hex by default;
older builders wrote SHA1 and Base64 (Perl's ``b64digest``: no ``=`` padding). An unknown
algorithm or encoding, or an archive with no digest at all, is refused: ERR_BAD_DIGEST, as
both OCS agents do.

The digests are fed while the fragments arrive (:class:`ArchiveDigest`), in fragment
order, on the very bytes that are written to disk, so the archive is not read again after
its last fragment: the cost of the DIGEST hides behind the download (bench/README.md,
agent). Fragments the process did not fetch itself (a download resumed after a crash, a
gap) are hashed from disk at the end (:meth:`ArchiveDigest.check`), so the check always
covers every byte of the archive, in order.

Which digests are needed:

* DIGEST (MD5 from ocsreports and from Ocelot's builder) is always checked: it is the only
  digest an OCS-published package carries, and an Ocelot info file whose DIGEST does not
  match its fragments is as wrong as a tampered one.
* OCELOT_SHA256 (the whole archive) adds nothing when OCELOT_FRAGMENTS lists every
  fragment's size and SHA-256 and each fragment was checked against it before it was
  kept: the archive is then exactly the concatenation of bytes whose SHA-256 the same
  (signed) info file gives, and forging it would need a SHA-256 second preimage. It is
  computed only for an info file that gives OCELOT_SHA256 without the fragment list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

from ocelot.agent.deployment.package_info import PackageInfo

CHUNK = 1024 * 1024
ALGORITHMS = ("md5", "sha1", "sha256")


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


def whole_sha256_needed(info: PackageInfo) -> bool:
    """OCELOT_SHA256 is checked only when no per-fragment SHA-256 already covers every byte."""
    return bool(info.sha256) and len(info.fragments) != info.fragment_count


class Hashers:
    """The whole-archive digests' states after some fragments; ``update`` feeds the next bytes."""

    def __init__(self, digest: Any | None, whole: Any | None, size: int = 0) -> None:
        self.digest = digest
        self.whole = whole
        self.size = size

    def copy(self) -> Hashers:
        return Hashers(
            self.digest.copy() if self.digest is not None else None,
            self.whole.copy() if self.whole is not None else None,
            self.size,
        )

    def update(self, data: bytes | memoryview) -> None:
        # Called from a worker thread: hashlib releases the GIL on blocks over 2 KiB.
        if self.digest is not None:
            self.digest.update(data)
        if self.whole is not None:
            self.whole.update(data)
        self.size += len(data)


class ArchiveDigest:
    """The whole-archive digests of one package, fed fragment by fragment, in order.

    ``fed`` fragments (1..fed) are in the states. :meth:`for_fragment` gives a copy to feed
    with fragment ``fed + 1`` while it downloads; :meth:`keep` adopts it once the fragment
    is verified and renamed into place. A failed or cut download leaves the states as they
    were; a fragment fetched out of order is hashed from disk by :meth:`check`.
    """

    def __init__(self, info: PackageInfo) -> None:
        self.info = info
        supported = info.digest_algorithm in ALGORITHMS
        self._hashers = Hashers(
            hashlib.new(info.digest_algorithm) if supported else None,
            hashlib.sha256() if whole_sha256_needed(info) else None,
        )
        self.fed = 0

    def reset(self) -> None:
        """Forget what was fed: :meth:`check` hashes every fragment from disk."""
        self._hashers = ArchiveDigest(self.info)._hashers
        self.fed = 0

    def for_fragment(self, number: int) -> Hashers | None:
        """States to feed with fragment ``number``'s bytes, or None when it is not the next one."""
        return self._hashers.copy() if number == self.fed + 1 else None

    def keep(self, number: int, hashers: Hashers) -> None:
        if number == self.fed + 1:
            self._hashers = hashers
            self.fed = number

    def feed_file(self, number: int, path: Path) -> None:
        """Hash fragment ``number`` from disk (it must be the next one)."""
        if number != self.fed + 1:
            raise ValueError(f"fragment {number} is not the next one ({self.fed + 1})")
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                self._hashers.update(chunk)
        self.fed = number

    def check(self, fragments: list[Path]) -> None:
        """Hash what was not fed yet from ``fragments`` (all of them, in order), then compare.

        DigestError when the archive does not match its info file (or the info file gives
        no usable digest); OSError when a fragment cannot be read.
        """
        info = self.info
        if info.digest_algorithm not in ALGORITHMS:
            raise DigestError(f"unknown DIGEST_ALGO {info.digest_algorithm!r}")
        if not info.digest:
            raise DigestError("the info file gives no DIGEST for its archive")
        expected = _expected_raw(info)
        for number in range(self.fed + 1, len(fragments) + 1):
            self.feed_file(number, fragments[number - 1])
        hashers = self._hashers
        assert hashers.digest is not None  # the algorithm is supported
        if not hmac.compare_digest(hashers.digest.digest(), expected):
            raise DigestError(f"the archive's {info.digest_algorithm} is not the info file's DIGEST")
        if hashers.whole is not None and hashers.whole.hexdigest() != info.sha256:
            raise DigestError("the archive's SHA-256 is not the info file's OCELOT_SHA256")
        if info.size and hashers.size != info.size:
            raise DigestError(f"the archive is {hashers.size} bytes, the info file says {info.size}")


def check_archive(info: PackageInfo, fragments: list[Path]) -> None:
    """Hash the fragments from disk in order and compare with the info file; DigestError if not."""
    ArchiveDigest(info).check(fragments)
