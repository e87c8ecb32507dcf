"""Safe extraction, zip and tar.gz, straight from the fragments."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from ocelot.agent.deployment.extract import ArchiveError, NoSpaceError, extract
from tests.agent.deployment.site import split
from tests.deployment.archives import tar_gz


def fragments(tmp_path: Path, archive: bytes, count: int) -> list[Path]:
    paths = []
    for number, part in enumerate(split(archive, count), start=1):
        path = tmp_path / f"1-{number}"
        path.write_bytes(part)
        paths.append(path)
    return paths


def zip_of(*members: tuple[str, bytes], link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
        if link is not None:
            info = zipfile.ZipInfo("link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, link)
    return buffer.getvalue()


def test_a_tar_gz_in_fragments_is_extracted(tmp_path: Path) -> None:
    archive = tar_gz(("dir/a.txt", b"a" * 5000), ("b.txt", b"b"))
    extract(fragments(tmp_path, archive, 3), tmp_path / "out", 10**12)
    assert (tmp_path / "out" / "dir" / "a.txt").read_bytes() == b"a" * 5000


def test_a_zip_is_extracted_and_a_zip_with_links_or_escaping_names_is_refused(tmp_path: Path) -> None:
    extract(fragments(tmp_path, zip_of(("setup/run.cmd", b"x")), 2), tmp_path / "out", 10**12)
    assert (tmp_path / "out" / "setup" / "run.cmd").read_bytes() == b"x"
    for hostile in (zip_of(("../evil", b"x")), zip_of(("a", b"x"), link="/etc/passwd")):
        target = tmp_path / "hostile"
        with pytest.raises(ArchiveError):
            extract(fragments(tmp_path, hostile, 1), target, 10**12)
        assert not target.exists()
    assert not (tmp_path / "evil").exists()


def test_not_an_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError):
        extract(fragments(tmp_path, b"plain text, no archive" * 100, 2), tmp_path / "out", 10**12)


def test_members_past_the_free_space_are_refused_and_nothing_extracted_is_left(tmp_path: Path) -> None:
    archive = tar_gz(("zeros", bytes(3 * 1024 * 1024)))
    with pytest.raises(NoSpaceError):
        extract(fragments(tmp_path, archive, 1), tmp_path / "out", 2 * 1024 * 1024)
    assert not (tmp_path / "out").exists()


def test_a_zip_is_read_in_place_across_fragments_without_a_joined_copy(tmp_path: Path) -> None:
    members = [(f"dir/file{n}.bin", bytes([n]) * (3000 + n)) for n in range(20)]
    archive = zip_of(*members)
    parts = fragments(tmp_path, archive, 7)  # the central directory spans several fragments
    extract(parts, tmp_path / "out", 10**12)
    for name, content in members:
        assert (tmp_path / "out" / name).read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in parts), "out"])


def test_a_hostile_member_after_good_ones_leaves_nothing_extracted(tmp_path: Path) -> None:
    archive = tar_gz(("good.txt", b"g" * 5000), ("../evil", b"x"))
    with pytest.raises(ArchiveError):
        extract(fragments(tmp_path, archive, 2), tmp_path / "out", 10**12)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil").exists()
