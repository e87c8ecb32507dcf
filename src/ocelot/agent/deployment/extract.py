"""Safe extraction of a package archive (tar.gz for Unix packages, zip accepted; protocol.md §8.1).

Nothing may land outside the extraction root: absolute names, ``..`` components, links
(symbolic or hard) pointing out, devices, FIFOs and other special files are refused
before any of their bytes is written, and the root is then removed with whatever was
extracted before (ERR_BUILD, as the Unix agent reports an archive it cannot extract).
The members' sizes are counted against the free space before they are written
(ERR_OUT_OF_SPACE, the root removed too). The archive is read straight from the
fragments, never concatenated (tar.gz as a stream, zip through a seekable reader).
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import io
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

# Room kept free beyond what is written: the state files must still fit (store.py).
MARGIN = 1024 * 1024
CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive cannot be extracted safely."""


class NoSpaceError(Exception):
    """The extracted files would not fit on the disk."""


class ChainedReader(io.RawIOBase):
    """The fragments read as one file (the archive), without writing it out; seekable (zip)."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = paths
        self._sizes = [path.stat().st_size for path in paths]
        self._starts = [sum(self._sizes[:index]) for index in range(len(paths))]
        self._size = sum(self._sizes)
        self._position = 0
        self._index = -1
        self._current: io.FileIO | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._position >= self._size or not len(buffer):
            return 0
        index = bisect.bisect_right(self._starts, self._position) - 1
        while self._sizes[index] == 0 or self._position >= self._starts[index] + self._sizes[index]:
            index += 1  # an empty fragment
        if index != self._index:
            if self._current is not None:
                self._current.close()
            self._current = open(self._paths[index], "rb", buffering=0)  # noqa: SIM115 (kept open)
            self._index = index
        assert self._current is not None
        self._current.seek(self._position - self._starts[index])
        wanted = min(len(buffer), self._starts[index] + self._sizes[index] - self._position)
        count = self._current.readinto(memoryview(buffer)[:wanted]) or 0
        if not count:
            raise OSError(f"{self._paths[index]} is shorter than when it was opened")
        self._position += count
        return count

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
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


@contextlib.contextmanager
def _tar_stream(fragments: list[Path]) -> Iterator[tarfile.TarFile]:
    """The archive as a forward-only tar stream; every file closed on the way out.

    gzip is inflated by :mod:`gzip` rather than by tarfile's ``r|gz``, whose buffer handling
    is quadratic on well-compressed members (8 MiB of zeros took 3 s). Neither tarfile nor
    gzip closes a file object it was given: a fragment left open until the garbage
    collector runs kept a full tmpfs busy (tests/agent/deployment/test_full_disk.py).
    """
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(io.BufferedReader(ChainedReader(fragments)))
        source: io.BufferedIOBase = raw
        if raw.peek(2)[:2] == b"\x1f\x8b":
            source = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        yield stack.enter_context(tarfile.open(fileobj=source, mode="r|"))


def _extract_tar(fragments: list[Path], root: Path, free: int) -> None:
    # One pass (inflating 200 MiB twice cost 0.3 s, bench/README.md, agent): each member is
    # checked (name, type, link target) and counted against the free space before any of
    # its bytes is written; a refused member stops the extraction and everything written so
    # far is removed with the root, so the outcome is the one of a check made beforehand.
    total = 0
    root.mkdir(parents=True, exist_ok=True)
    try:
        with _tar_stream(fragments) as archive:
            for member in archive:
                _check_tar_member(member)
                total += max(member.size, 0) + 512
                if total + MARGIN > free:
                    raise NoSpaceError(f"the archive needs more than {total} bytes, {free} are free")
                # Python's "data" filter refuses the same things again and drops set-uid bits.
                archive.extract(member, root, filter="data")
    except (tarfile.TarError, EOFError, ValueError, gzip.BadGzipFile, zlib.error) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise ArchiveError(f"the archive is not a readable tar.gz: {exc}") from exc
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _extract_zip(fragments: list[Path], root: Path, free: int) -> None:
    # zipfile seeks (its directory is at the end): the fragments are read in place.
    try:
        with (
            io.BufferedReader(ChainedReader(fragments), CHUNK) as raw,
            zipfile.ZipFile(raw) as archive,
        ):
            members = archive.infolist()
            total = 0
            for member in members:
                _safe_name(member.filename)
                # Unix modes in the high bits; zips made elsewhere carry no file type at all.
                kind = stat.S_IFMT(member.external_attr >> 16)
                if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                    raise ArchiveError(f"the archive member {member.filename!r} is a link or special file")
                total += member.file_size
            if total + MARGIN > free:
                raise NoSpaceError(f"the archive needs {total} bytes, {free} are free")
            root.mkdir(parents=True, exist_ok=True)
            for member in members:
                archive.extract(member, root)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise ArchiveError(f"the archive is not a readable zip: {exc}") from exc
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
