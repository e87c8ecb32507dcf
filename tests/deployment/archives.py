"""Archives for the tests, good and hostile, built in memory (security.md §6: generated, not vendored)."""

from __future__ import annotations

import gzip
import io
import stat
import struct
import tarfile
import zipfile


def tar_gz(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    """A tar.gz of (name, content) regular files and ready-made TarInfo entries."""
    buffer = io.BytesIO()
    # A fixed gzip time: the same members give the same bytes (test ids, xdist collection).
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as packed,
        tarfile.open(fileobj=packed, mode="w") as archive,
    ):
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
                continue
            name, content = member
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def tar_entry(name: str, kind: bytes, *, link: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    """A tar entry without content: a link, a directory, a device or a FIFO."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    return info


def zip_file(*members: tuple[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A zip of (name, content) files, plus Unix symbolic links (name -> target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def zip_with_mode(name: str, mode: int, content: bytes = b"x") -> bytes:
    """A zip whose one member carries Unix mode bits (a FIFO, a device, setuid ...)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        archive.writestr(info, content)
    return buffer.getvalue()


def zip_declaring_huge_size() -> bytes:
    """A small zip whose central directory claims its member unpacks to almost 4 GiB."""
    data = bytearray(zip_file(("setup.exe", b"0" * 4096)))
    central = data.rfind(b"PK\x01\x02")
    # Central directory header: uncompressed size at offset 24 (little-endian 32 bits).
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)
    local = data.find(b"PK\x03\x04")
    data[local + 22 : local + 26] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(data)


def corrupt(archive: bytes) -> bytes:
    """The same archive with bytes in the middle flipped."""
    data = bytearray(archive)
    middle = len(data) // 2
    for offset in range(middle, min(middle + 16, len(data))):
        data[offset] ^= 0xFF
    return bytes(data)
