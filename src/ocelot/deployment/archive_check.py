"""Checking an uploaded archive before anything is written (issue 4, security.md S10, T25-T27).

A package archive is a ZIP or a tar.gz (seeds: "You ONLY can upload .zip or .tar.gz files";
the Windows agent only unzips, protocol.md §9.3). Before a single byte is stored we make
sure that:

* it opens, and every member reads back intact (CRCs, the gzip trailer);
* no member escapes the extraction root: no absolute path, drive letter or UNC name, no
  ``..``, no backslash, no symbolic link that resolves outside (also through other links),
  no hard link to anything but a regular file of the archive;
* it holds only regular files, directories and such links: no device, FIFO or socket, no
  setuid or setgid bit, no encrypted ZIP member, no ZIP compression other than deflate;
* names are unambiguous: no duplicates, no two names differing only by case or Unicode
  normalisation, no component longer than 255 bytes (and no reserved Windows device names in
  Windows packages);
* its declared sizes are plausible and bounded (zip bombs, tar headers declaring terabytes);
* for LAUNCH, the file the command starts is a regular file of the archive.

The checks are lexical and structural: nothing is extracted here. The agent uses the same
rules when it extracts (security.md S10: "the same library on the builder and the agent").
"""

from __future__ import annotations

import gzip
import re
import stat
import tarfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from ocelot.deployment.errors import ArchiveError

ZIP = "zip"
TAR_GZ = "tar.gz"
_CHUNK = 1024 * 1024
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
# Deflate cannot compress better than about 1032:1; a member declaring more is forged.
_MAX_DEFLATE_RATIO = 1100
_MAX_LINK_HOPS = 40


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what one package archive may hold."""

    max_members: int = 100_000
    max_unpacked: int = 64 * 1024**3
    max_component: int = 255
    max_path: int = 4096


DEFAULT_ARCHIVE_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class ArchiveSummary:
    """What the check learnt: the format, how many members, the unpacked size."""

    format: str
    members: int
    unpacked_size: int


def detect_format(source: BinaryIO) -> str:
    """``zip`` or ``tar.gz`` by content (never by file name); ArchiveError otherwise."""
    source.seek(0)
    head = source.read(4)
    source.seek(0)
    if not head:
        raise ArchiveError("The file is empty.")
    if head in (b"PK\x03\x04", b"PK\x05\x06"):
        return ZIP
    if head[:2] == b"\x1f\x8b":
        return TAR_GZ
    raise ArchiveError("The file is not a zip or tar.gz archive.")


def launch_file(command: str, *, windows: bool) -> str:
    """The file a LAUNCH command starts: its first word (or a quoted first word on Windows).

    The OCS Unix agent checks that the file exists after cutting NAME at the first space
    *or dash* (Download.pm: ``s/^([^ -]+).*/$1/``), so a Unix LAUNCH file whose name holds a
    dash always ends in ERR_EXECUTE: we refuse it here with an explanation.
    """
    text = command.strip()
    if windows and text.startswith('"'):
        end = text.find('"', 1)
        if end <= 1:
            raise ArchiveError("The LAUNCH command has an unterminated quote.")
        token = text[1:end]
    else:
        token = text.split()[0] if text else ""
    if not token:
        raise ArchiveError("LAUNCH needs the name of a file of the archive to run.")
    if not windows and "-" in token:
        raise ArchiveError(
            f"The OCS Unix agent cuts the LAUNCH file name at the first '-': rename {token!r} "
            "in the archive (or use EXECUTE)."
        )
    return token


class _Names:
    """Member names seen so far, for duplicates, case collisions and link resolution."""

    def __init__(self, limits: ArchiveLimits, windows: bool) -> None:
        self.limits = limits
        self.windows = windows
        self.keys: dict[str, str] = {}
        self.files: set[str] = set()
        self.directories: set[str] = set()
        self.links: dict[str, str] = {}

    def normalise(self, raw: str) -> str:
        """The member's path relative to the root, or ArchiveError when it could escape."""
        if "\x00" in raw:
            raise ArchiveError("A member name holds a NUL character.")
        if "\\" in raw:
            raise ArchiveError(f"The member {raw!r} has a backslash in its name.")
        if raw.startswith("/") or _DRIVE.match(raw):
            raise ArchiveError(f"The member {raw!r} has an absolute path.")
        if len(raw.encode("utf-8", "surrogateescape")) > self.limits.max_path:
            raise ArchiveError("A member name is too long.")
        parts = [part for part in raw.split("/") if part not in ("", ".")]
        for part in parts:
            if part == "..":
                raise ArchiveError(f"The member {raw!r} leaves the archive root ('..').")
            if len(part.encode("utf-8", "surrogateescape")) > self.limits.max_component:
                raise ArchiveError(f"The member {raw!r} has a name longer than 255 bytes.")
            if self.windows and _WINDOWS_RESERVED.match(part):
                raise ArchiveError(f"The member {raw!r} uses a name Windows reserves for devices.")
        return "/".join(parts)

    def add(self, raw: str, path: str, *, directory: bool) -> None:
        if not path:
            return  # the root itself ("./")
        key = unicodedata.normalize("NFC", path).casefold()
        previous = self.keys.get(key)
        if previous is not None and not (directory and previous in self.directories):
            raise ArchiveError(f"The member {raw!r} appears twice (names differing only by case count).")
        self.keys[key] = path
        (self.directories if directory else self.files).add(path)

    def resolve(self, path: str) -> str | None:
        """Follow the archive's own symbolic links; None when the result leaves the root."""
        pending = path.split("/") if path else []
        resolved: list[str] = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    return None
                resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            target = self.links.get(candidate)
            if target is None:
                resolved.append(part)
                continue
            hops += 1
            if hops > _MAX_LINK_HOPS or target.startswith("/") or _DRIVE.match(target):
                return None
            pending = target.split("/") + pending
        return "/".join(resolved)

    def check_links(self) -> None:
        for link in self.links:
            if self.resolve(link) is None:
                raise ArchiveError(f"The symbolic link {link!r} points outside the archive.")


def _check_mode(raw: str, mode: int) -> None:
    if mode & (stat.S_ISUID | stat.S_ISGID):
        raise ArchiveError(f"The member {raw!r} has a setuid or setgid bit.")


def _check_zip(source: BinaryIO, names: _Names, limits: ArchiveLimits) -> tuple[int, int]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError("The zip archive is corrupt or truncated.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveError(f"The archive has more than {limits.max_members} members.")
        unpacked = 0
        regular: list[zipfile.ZipInfo] = []
        for info in infos:
            path = names.normalise(info.filename)
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            kind = stat.S_IFMT(mode)
            _check_mode(info.filename, mode)
            if info.flag_bits & 0x1:
                raise ArchiveError(f"The member {info.filename!r} is encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # The Windows agent's unzip knows stored and deflated members only.
                raise ArchiveError(f"The member {info.filename!r} uses a compression agents cannot unzip.")
            if info.is_dir():
                names.add(info.filename, path, directory=True)
                continue
            if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
                raise ArchiveError(f"The member {info.filename!r} is a device, FIFO or socket.")
            if info.file_size and (
                info.compress_size == 0 or info.file_size // max(info.compress_size, 1) > _MAX_DEFLATE_RATIO
            ):
                raise ArchiveError(f"The member {info.filename!r} declares an impossible size (a zip bomb).")
            unpacked += info.file_size
            if unpacked > limits.max_unpacked:
                raise ArchiveError("The archive unpacks to more than the allowed size.")
            names.add(info.filename, path, directory=False)
            if kind == stat.S_IFLNK:
                if info.file_size > limits.max_path:
                    raise ArchiveError(f"The symbolic link {info.filename!r} is too long.")
                try:
                    target = archive.read(info).decode("utf-8")
                except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, OSError) as exc:
                    raise ArchiveError(f"The symbolic link {info.filename!r} is unreadable.") from exc
                names.links[path] = target
            else:
                regular.append(info)
        names.check_links()
        # "It opens": read every member through, so a corrupt byte fails here (CRC), not on
        # thousands of agents as ERR_BUILD. Memory stays one chunk.
        for info in regular:
            try:
                with archive.open(info) as member:
                    while member.read(_CHUNK):
                        pass
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                raise ArchiveError(f"The member {info.filename!r} is corrupt or unreadable.") from exc
        return len(infos), unpacked


def _check_tar(source: BinaryIO, names: _Names, limits: ArchiveLimits) -> tuple[int, int]:
    count = 0
    unpacked = 0
    try:
        with tarfile.open(fileobj=source, mode="r:gz") as archive:
            while True:
                member = archive.next()
                if member is None:
                    break
                count += 1
                if count > limits.max_members:
                    raise ArchiveError(f"The archive has more than {limits.max_members} members.")
                path = names.normalise(member.name)
                _check_mode(member.name, member.mode)
                if member.isdir():
                    names.add(member.name, path, directory=True)
                elif member.isreg():
                    unpacked += member.size
                    if unpacked > limits.max_unpacked:
                        raise ArchiveError("The archive unpacks to more than the allowed size.")
                    names.add(member.name, path, directory=False)
                elif member.issym():
                    names.add(member.name, path, directory=False)
                    names.links[path] = member.linkname
                elif member.islnk():
                    target = names.normalise(member.linkname)
                    if target not in names.files or target in names.links:
                        raise ArchiveError(
                            f"The hard link {member.name!r} does not point to a file of the archive."
                        )
                    names.add(member.name, path, directory=False)
                elif member.ischr() or member.isblk() or member.isfifo():
                    raise ArchiveError(f"The member {member.name!r} is a device or FIFO.")
                else:
                    raise ArchiveError(f"The member {member.name!r} is of an unsupported type.")
                # tarfile keeps every member it read; we only need the names above.
                archive.members.clear()  # type: ignore[attr-defined]
            # Drain the stream so the gzip trailer (CRC and length) is checked too.
            assert archive.fileobj is not None
            while archive.fileobj.read(_CHUNK):
                pass
    except ArchiveError:
        raise
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ArchiveError("The tar.gz archive is corrupt or truncated.") from exc
    names.check_links()
    return count, unpacked


def check_archive(
    source: BinaryIO,
    *,
    launch: str | None = None,
    windows: bool = False,
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
) -> ArchiveSummary:
    """Check a seekable archive (see the module docstring); ArchiveError with a clear message.

    ``launch`` is the file a LAUNCH package runs (:func:`launch_file`); it must be a regular
    file of the archive (compared without case on Windows).
    """
    kind = detect_format(source)
    names = _Names(limits, windows)
    if kind == ZIP:
        count, unpacked = _check_zip(source, names, limits)
    else:
        count, unpacked = _check_tar(source, names, limits)
    source.seek(0)
    if not names.files:
        raise ArchiveError("The archive holds no file.")
    if launch is not None:
        wanted = names.normalise(launch)
        if windows:
            present = {name.casefold() for name in names.files} - {link.casefold() for link in names.links}
            found = wanted.casefold() in present
        else:
            found = wanted in names.files and wanted not in names.links
        if not found:
            raise ArchiveError(f"The LAUNCH file {launch!r} is not in the archive.")
    return ArchiveSummary(kind, count, unpacked)
