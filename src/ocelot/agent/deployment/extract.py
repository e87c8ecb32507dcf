"""Safe extraction of a package archive (tar.gz for Unix packages, zip accepted; protocol.md §8.1).

Nothing may land outside the extraction root: absolute names, ``..`` components, links
(symbolic or hard) pointing out, devices, FIFOs and other special files are refused
before a single byte is written (ERR_BUILD, as the Unix agent reports an archive it cannot
extract). The members' total size is checked against the free space first
(ERR_OUT_OF_SPACE). The archive is read straight from the fragments, never concatenated.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

# Room kept free beyond what is written: the state files must still fit (store.py).
MARGIN = 1024 * 1024


class ArchiveError(Exception):
    """The archive cannot be extracted safely."""


class NoSpaceError(Exception):
    """The extracted files would not fit on the disk."""


class ChainedReader(io.RawIOBase):
    """The fragments read as one stream (the archive), without writing it out."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths: Iterator[Path] = iter(paths)
        self._current: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            if self._current is None:
                path = next(self._paths, None)
                if path is None:
                    return 0
                self._current = open(path, "rb")  # noqa: SIM115 (closed when exhausted)
            count = self._current.readinto(buffer)
            if count:
                return count
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
        super().close()


def _safe_name(name: str) -> str:
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or normalised == ".."
        or normalised.startswith("../")
        or ":" in normalised.split("/")[0]  # C:... on a Windows-made zip
        or "\x00" in name
    ):
        raise ArchiveError(f"the archive member {name[:200]!r} points outside the package")
    return normalised


def _check_tar_member(member: tarfile.TarInfo) -> None:
    name = _safe_name(member.name)
    if (
        member.isdev()
        or member.isfifo()
        or not (member.isfile() or member.isdir() or member.issym() or member.islnk())
    ):
        raise ArchiveError(f"the archive member {name!r} is a device or special file")
    if member.issym() or member.islnk():
        target = member.linkname
        resolved = posixpath.normpath(
            posixpath.join(posixpath.dirname(name), target) if member.issym() else target
        )
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise ArchiveError(f"the archive link {name!r} points outside the package")


def _is_zip(first: Path) -> bool:
    with open(first, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def extract(fragments: list[Path], root: Path, free: int) -> None:
    """Extract the archive the fragments form into ``root`` (created); errors above."""
    if not fragments:
        root.mkdir(parents=True, exist_ok=True)
        return
    if _is_zip(fragments[0]):
        _extract_zip(fragments, root, free)
    else:
        _extract_tar(fragments, root, free)


def _tar_stream(fragments: list[Path]) -> tarfile.TarFile:
    """The archive as a forward-only tar stream.

    gzip is inflated by :mod:`gzip` rather than by tarfile's ``r|gz``, whose buffer handling
    is quadratic on well-compressed members (8 MiB of zeros took 3 s).
    """
    raw = io.BufferedReader(ChainedReader(fragments))
    source: io.BufferedIOBase = (
        gzip.GzipFile(fileobj=raw, mode="rb") if raw.peek(2)[:2] == b"\x1f\x8b" else raw
    )
    return tarfile.open(fileobj=source, mode="r|")


def _extract_tar(fragments: list[Path], root: Path, free: int) -> None:
    # First pass: every member checked and sized, nothing written.
    total = 0
    try:
        with _tar_stream(fragments) as archive:
            for member in archive:
                _check_tar_member(member)
                total += max(member.size, 0) + 512
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        raise ArchiveError(f"the archive is not a readable tar.gz: {exc}") from exc
    if total + MARGIN > free:
        raise NoSpaceError(f"the archive needs {total} bytes, {free} are free")
    root.mkdir(parents=True, exist_ok=True)
    try:
        with _tar_stream(fragments) as archive:
            for member in archive:
                _check_tar_member(member)
                # Python's "data" filter refuses the same things again and drops set-uid bits.
                archive.extract(member, root, filter="data")
    except (tarfile.TarError, EOFError, ValueError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArchiveError(f"the archive cannot be extracted: {exc}") from exc


def _extract_zip(fragments: list[Path], root: Path, free: int) -> None:
    # zipfile needs a seekable file: the fragments are joined beside the root (space checked).
    size = sum(path.stat().st_size for path in fragments)
    if size + MARGIN > free:
        raise NoSpaceError(f"joining the archive needs {size} bytes, {free} are free")
    joined = root.parent / "build.zip"
    with open(joined, "wb") as out:
        reader = ChainedReader(fragments)
        while chunk := reader.read(1024 * 1024):
            out.write(chunk)
    try:
        with zipfile.ZipFile(joined) as archive:
            members = archive.infolist()
            total = 0
            for member in members:
                _safe_name(member.filename)
                # Unix modes in the high bits; zips made elsewhere carry no file type at all.
                kind = stat.S_IFMT(member.external_attr >> 16)
                if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                    raise ArchiveError(f"the archive member {member.filename!r} is a link or special file")
                total += member.file_size
            if total + MARGIN > free - size:
                raise NoSpaceError(f"the archive needs {total} bytes, {free - size} are free")
            root.mkdir(parents=True, exist_ok=True)
            for member in members:
                archive.extract(member, root)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ArchiveError(f"the archive is not a readable zip: {exc}") from exc
    finally:
        os.unlink(joined)
