"""Cutting an archive into fragments ``<ID>-1`` .. ``<ID>-n``, streamed, with their digests.

OCS cuts the archive into FRAGS consecutive byte ranges: parts 1..n-1 of ``size // n``
bytes and the last one holding the rest (protocol.md §8.1). An administrator chooses either
the count (that rule) or a fragment size (parts of exactly that size, the last one shorter,
as the seeds describe: "choose fragment size according to your network capabilities").

The archive is read once, one chunk at a time, so a 2 GiB package never sits in memory; the
same pass computes the MD5 OCS agents check, the SHA-256 of the whole archive and the
SHA-256 of each fragment (design.md §4).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ocelot.deployment.errors import PackageInputError, storage_error
from ocelot.protocol.info_file import MAX_FRAGMENTS, FragmentDigest

CHUNK = 1024 * 1024
# Without a choice, fragments of 1 MiB: small enough to resume cheaply on slow links.
DEFAULT_FRAGMENT_SIZE = 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(frozen=True)
class ArchiveDigests:
    """The digests of one archive and of each of its fragments."""

    size: int
    md5: str
    sha256: str
    fragments: tuple[FragmentDigest, ...]


def parse_fragment_size(text: str) -> int:
    """``524288``, ``512K``, ``512KiB``, ``2M``, ``1G`` -> bytes (binary units)."""
    match = _SIZE.match(text)
    if match is None:
        raise PackageInputError(f"{text!r} is not a size (for example 512K or 2M).")
    return int(match[1]) * _UNITS[match[2].upper()]


def fragment_sizes(size: int, *, count: int | None = None, fragment_size: int | None = None) -> list[int]:
    """The size of each fragment of a ``size``-byte archive, from a count or a fragment size."""
    if size <= 0:
        raise PackageInputError("The archive is empty.")
    if count is not None and fragment_size is not None:
        raise PackageInputError("Give a fragment count or a fragment size, not both.")
    if count is not None:
        if count < 1:
            raise PackageInputError("The fragment count must be at least 1.")
        if count > MAX_FRAGMENTS:
            raise PackageInputError(f"At most {MAX_FRAGMENTS} fragments.")
        if count > size:
            raise PackageInputError(f"{count} fragments is more than the archive's {size} bytes.")
        part = size // count
        return [part] * (count - 1) + [size - part * (count - 1)]
    if fragment_size is not None:
        if fragment_size < 1:
            raise PackageInputError("The fragment size must be at least 1 byte.")
        if fragment_size > size:
            raise PackageInputError(
                f"The fragment size ({fragment_size} bytes) is larger than the archive ({size} bytes)."
            )
    step = fragment_size or min(DEFAULT_FRAGMENT_SIZE, size)
    whole, rest = divmod(size, step)
    sizes = [step] * whole + ([rest] if rest else [])
    if len(sizes) > MAX_FRAGMENTS:
        raise PackageInputError(
            f"That fragment size gives {len(sizes)} fragments; at most {MAX_FRAGMENTS}: choose a larger size."
        )
    return sizes


def fragment_name(package_id: int, number: int) -> str:
    """``<ID>-<n>``, numbered from 1 (protocol.md §8.1)."""
    return f"{package_id}-{number}"


def write_fragments(
    source: BinaryIO,
    directory: Path,
    package_id: int,
    sizes: list[int],
    progress: Callable[[int], None] | None = None,
) -> ArchiveDigests:
    """Copy ``source`` from its start into the fragment files, computing every digest on the way.

    ``progress`` is called with the number of bytes written so far after each chunk.
    OSError (a full disk) becomes PackageStorageError; the caller removes the directory.
    """
    whole_md5 = hashlib.md5(usedforsecurity=False)
    whole_sha = hashlib.sha256()
    digests: list[FragmentDigest] = []
    done = 0
    source.seek(0)
    # Three digests of every byte (MD5 and SHA-256 of the whole, SHA-256 of the fragment):
    # the two whole-archive ones run in worker threads beside the fragment's (hashlib
    # lets go of the GIL on large blocks), so the pass costs about the slowest digest, not
    # the sum of the three (bench/README.md, deployment). Waiting for a chunk's digests
    # before the next chunk keeps their order and at most two chunks in memory.
    pending: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="digest") as workers:
        try:
            for number, fragment_size in enumerate(sizes, start=1):
                fragment_sha = hashlib.sha256()
                remaining = fragment_size
                with open(directory / fragment_name(package_id, number), "xb") as out:
                    while remaining:
                        chunk = source.read(min(CHUNK, remaining))
                        if not chunk:
                            raise PackageInputError("The archive changed while the package was built.")
                        for future in pending:
                            future.result()
                        pending = [
                            workers.submit(whole_md5.update, chunk),
                            workers.submit(whole_sha.update, chunk),
                        ]
                        out.write(chunk)
                        fragment_sha.update(chunk)
                        remaining -= len(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done)
                digests.append(FragmentDigest(fragment_size, fragment_sha.hexdigest()))
        except OSError as exc:
            raise storage_error("The package files could not be written", exc) from exc
        finally:
            for future in pending:
                future.result()
    if source.read(1):
        raise PackageInputError("The archive changed while the package was built.")
    return ArchiveDigests(done, whole_md5.hexdigest(), whole_sha.hexdigest(), tuple(digests))
