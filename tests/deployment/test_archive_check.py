"""An uploaded archive is checked before anything is written (issue 4; security.md S10, T25-T27)."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from ocelot.deployment.archive_check import TAR_GZ, ZIP, ArchiveLimits, check_archive, launch_file
from ocelot.deployment.errors import ArchiveError
from tests.deployment.archives import (
    corrupt,
    tar_entry,
    tar_gz,
    zip_declaring_huge_size,
    zip_file,
    zip_with_mode,
)

SCRIPT = b"#!/bin/sh\nexit 3\n"


def check(data: bytes, **options: object) -> object:
    return check_archive(io.BytesIO(data), **options)  # type: ignore[arg-type]


def refused(data: bytes, **options: object) -> str:
    with pytest.raises(ArchiveError) as caught:
        check(data, **options)
    return str(caught.value)


def test_a_plain_tar_gz_with_its_launch_file_is_accepted() -> None:
    data = tar_gz(("./run.sh", SCRIPT), tar_entry("./lib", tarfile.DIRTYPE, mode=0o755), ("lib/x.so", b"elf"))
    summary = check(data, launch="run.sh")
    assert summary.format == TAR_GZ  # type: ignore[attr-defined]
    assert summary.members == 3  # type: ignore[attr-defined]
    assert summary.unpacked_size == len(SCRIPT) + 3  # type: ignore[attr-defined]


def test_a_zip_is_accepted_and_windows_matches_the_launch_file_without_case() -> None:
    data = zip_file(("Setup.EXE", b"MZ"), ("data/readme.txt", b"hi"))
    assert check(data, launch="setup.exe", windows=True).format == ZIP  # type: ignore[attr-defined]


def test_links_that_stay_inside_the_archive_are_accepted() -> None:
    data = tar_gz(
        ("lib/libx.so.1", b"elf"),
        tar_entry("lib/libx.so", tarfile.SYMTYPE, link="libx.so.1"),
        tar_entry("bin/tool", tarfile.SYMTYPE, link="../lib/libx.so"),
        tar_entry("lib/copy", tarfile.LNKTYPE, link="lib/libx.so.1"),
    )
    check(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"just some text, not an archive", "not a zip or tar.gz"),
        (b"\x1f\x8b\x08\x00garbage after a gzip magic", "corrupt"),
        (b"PK\x03\x04" + b"\x00" * 40, "corrupt"),
    ],
    ids=["empty file", "not an archive", "gzip magic then garbage", "zip magic then garbage"],
)
def test_something_that_is_not_a_zip_or_tar_gz_is_refused(data: bytes, message: str) -> None:
    assert message in refused(data)


def test_a_corrupt_tar_gz_is_refused() -> None:
    assert "corrupt" in refused(corrupt(tar_gz(("big.bin", bytes(range(256)) * 4000))))


def test_a_corrupt_zip_member_is_refused() -> None:
    data = zip_file(("big.bin", bytes(range(256)) * 4000))
    assert "corrupt" in refused(corrupt(data))


def test_an_archive_without_any_file_is_refused() -> None:
    assert "no file" in refused(tar_gz(tar_entry("empty", tarfile.DIRTYPE, mode=0o755)))


@pytest.mark.parametrize(
    "name",
    ["../evil.sh", "ok/../../evil.sh", "/etc/cron.d/evil", "C:/Windows/evil.exe", "a\\..\\evil"],
    ids=["zip slip", "zip slip deeper", "absolute", "drive letter", "backslashes"],
)
@pytest.mark.parametrize("container", ["tar.gz", "zip"])
def test_a_member_that_could_land_outside_the_root_is_refused(name: str, container: str) -> None:
    data = tar_gz((name, b"x"), ("run.sh", SCRIPT)) if container == "tar.gz" else zip_file((name, b"x"))
    refused(data)


@pytest.mark.parametrize(
    "link",
    ["/etc/passwd", "../../etc/passwd", "sub/../../outside"],
    ids=["absolute target", "dot-dot target", "target climbing out through a directory"],
)
def test_a_symbolic_link_pointing_out_is_refused(link: str) -> None:
    message = refused(tar_gz(("run.sh", SCRIPT), tar_entry("escape", tarfile.SYMTYPE, link=link)))
    assert "outside" in message


def test_a_symbolic_link_escaping_through_another_link_is_refused() -> None:
    # "x/y" -> ".." is the root, harmless alone; "z" -> "x/y/.." then climbs above the root.
    data = tar_gz(
        ("run.sh", SCRIPT),
        tar_entry("x", tarfile.DIRTYPE, mode=0o755),
        tar_entry("x/y", tarfile.SYMTYPE, link=".."),
        tar_entry("z", tarfile.SYMTYPE, link="x/y/.."),
    )
    assert "outside" in refused(data)


def test_a_zip_symbolic_link_pointing_out_is_refused() -> None:
    assert "outside" in refused(zip_file(("setup.exe", b"MZ"), symlinks={"evil": "/etc/shadow"}))


@pytest.mark.parametrize("link", ["/etc/shadow", "../outside", "not/in/the/archive"])
def test_a_hard_link_to_anything_but_a_file_of_the_archive_is_refused(link: str) -> None:
    refused(tar_gz(("run.sh", SCRIPT), tar_entry("evil", tarfile.LNKTYPE, link=link)))


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_and_fifos_in_a_tar_are_refused(kind: bytes) -> None:
    assert "device" in refused(tar_gz(("run.sh", SCRIPT), tar_entry("dev/sda", kind)))


@pytest.mark.parametrize(
    "mode", [stat.S_IFIFO | 0o644, stat.S_IFCHR | 0o600, stat.S_IFREG | stat.S_ISUID | 0o755]
)
def test_fifos_devices_and_setuid_files_in_a_zip_are_refused(mode: int) -> None:
    refused(zip_with_mode("thing", mode))


def test_a_setuid_file_in_a_tar_is_refused() -> None:
    info = tarfile.TarInfo("su")
    info.mode = 0o4755
    assert "setuid" in refused(tar_gz(info))


def test_a_zip_declaring_an_impossible_unpacked_size_is_refused_without_unpacking() -> None:
    assert "zip bomb" in refused(zip_declaring_huge_size())


def test_an_archive_unpacking_beyond_the_limit_is_refused() -> None:
    data = tar_gz(("a.bin", b"0" * 1000), ("b.bin", b"0" * 1000))
    assert "allowed size" in refused(data, limits=ArchiveLimits(max_unpacked=1500))


def test_too_many_members_are_refused() -> None:
    data = tar_gz(*[(f"f{index}", b"") for index in range(11)])
    assert "more than 10" in refused(data, limits=ArchiveLimits(max_members=10))


@pytest.mark.parametrize(
    "names",
    [("A.txt", "a.txt"), ("caf\u00e9", "cafe\u0301"), ("same", "same")],
    ids=["case", "unicode normalisation", "duplicate"],
)
def test_names_that_collide_are_refused(names: tuple[str, str]) -> None:
    assert "twice" in refused(tar_gz(*[(name, b"x") for name in names]))


def test_a_name_longer_than_255_bytes_is_refused() -> None:
    assert "255" in refused(tar_gz(("d/" + "x" * 300, b"x")))


def test_reserved_windows_device_names_are_refused_in_windows_packages_only() -> None:
    data = zip_file(("setup.exe", b"MZ"), ("aux.txt", b"x"))
    assert "reserves" in refused(data, windows=True)
    check(data, windows=False)


def test_the_launch_file_must_be_a_file_of_the_archive() -> None:
    data = tar_gz(("run.sh", SCRIPT), tar_entry("link.sh", tarfile.SYMTYPE, link="run.sh"))
    assert "not in the archive" in refused(data, launch="install.sh")
    assert "not in the archive" in refused(data, launch="link.sh")
    assert "not in the archive" in refused(data, launch="RUN.SH")  # case matters off Windows


def test_the_launch_file_is_the_first_word_of_the_command() -> None:
    assert launch_file("run.sh -q --all", windows=False) == "run.sh"
    assert launch_file('"My Setup.exe" /S', windows=True) == "My Setup.exe"
    assert launch_file("setup.exe /S", windows=True) == "setup.exe"


def test_a_unix_launch_file_with_a_dash_is_refused_because_the_ocs_agent_cuts_it_there() -> None:
    with pytest.raises(ArchiveError, match="first '-'"):
        launch_file("install-me.sh", windows=False)
    assert launch_file("install-me.exe", windows=True) == "install-me.exe"


def test_zip_members_compressed_otherwise_than_deflate_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("setup.exe", b"MZ" * 100)
    assert "cannot unzip" in refused(buffer.getvalue())
