"""Whole-archive digests: fed while fragments arrive, completed from disk, and which ones are needed."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from ocelot.agent.deployment.digests import ArchiveDigest, DigestError, whole_sha256_needed
from ocelot.agent.deployment.package_info import PackageInfo
from ocelot.protocol.info_file import FragmentDigest
from tests.agent.deployment.site import split

ARCHIVE = bytes(range(256)) * 4099  # about 1 MiB: several reads per fragment


def info_for(archive: bytes, parts: list[bytes], *, listed: bool = True) -> PackageInfo:
    return PackageInfo(
        package_id="1700000900",
        priority=1,
        action="EXECUTE",
        argument="true",
        protocol="http",
        fragment_count=len(parts),
        digest=hashlib.md5(archive).hexdigest(),
        digest_algorithm="md5",
        digest_encoding="hex",
        sha256=hashlib.sha256(archive).hexdigest(),
        size=len(archive),
        fragments=tuple(FragmentDigest(len(p), hashlib.sha256(p).hexdigest()) for p in parts)
        if listed
        else (),
    )


def on_disk(tmp_path: Path, parts: list[bytes]) -> list[Path]:
    paths = []
    for number, part in enumerate(parts, start=1):
        path = tmp_path / f"1700000900-{number}"
        path.write_bytes(part)
        paths.append(path)
    return paths


def test_fragments_fed_as_they_arrive_and_the_rest_from_disk_give_the_archive_digest(tmp_path: Path) -> None:
    parts = split(ARCHIVE, 4)
    paths = on_disk(tmp_path, parts)
    digest = ArchiveDigest(info_for(ARCHIVE, parts))
    for number in (1, 2):  # fetched by this process, fed in pieces as the socket gives them
        hashers = digest.for_fragment(number)
        assert hashers is not None
        part = parts[number - 1]
        hashers.update(part[:1000])
        hashers.update(memoryview(part)[1000:])
        digest.keep(number, hashers)
    # A download that was cut: its states are dropped, nothing of it was kept.
    cut = digest.for_fragment(3)
    assert cut is not None
    cut.update(b"half a fragment")
    assert digest.for_fragment(4) is None  # not the next one: hashed from disk at the end
    digest.check(paths)  # fragments 3 and 4 from disk
    assert digest.fed == 4

    tampered = bytearray(parts[3])
    tampered[-1] ^= 1
    paths[3].write_bytes(bytes(tampered))
    again = ArchiveDigest(info_for(ARCHIVE, parts))
    with pytest.raises(DigestError, match="md5"):
        again.check(paths)


def test_a_reset_hashes_every_fragment_again_from_disk(tmp_path: Path) -> None:
    parts = split(ARCHIVE, 2)
    paths = on_disk(tmp_path, parts)
    digest = ArchiveDigest(info_for(ARCHIVE, parts))
    hashers = digest.for_fragment(1)
    assert hashers is not None
    hashers.update(b"bytes that are not the fragment's")
    digest.keep(1, hashers)
    with pytest.raises(DigestError):
        digest.check(paths)
    digest.reset()
    digest.check(paths)


def test_the_whole_sha256_is_computed_only_when_no_fragment_sha256_covers_every_byte(tmp_path: Path) -> None:
    parts = split(ARCHIVE, 3)
    paths = on_disk(tmp_path, parts)
    listed = info_for(ARCHIVE, parts)
    assert not whole_sha256_needed(listed)
    # Every fragment's SHA-256 is checked before it is kept: a wrong OCELOT_SHA256 beside
    # them changes nothing (the server signs both; the fragments are what gets extracted).
    ArchiveDigest(replace(listed, sha256="0" * 64)).check(paths)

    unlisted = info_for(ARCHIVE, parts, listed=False)
    assert whole_sha256_needed(unlisted)
    ArchiveDigest(unlisted).check(paths)
    with pytest.raises(DigestError, match="OCELOT_SHA256"):
        ArchiveDigest(replace(unlisted, sha256="0" * 64)).check(paths)


def test_the_ocs_digest_is_always_checked_and_unknown_algorithms_are_refused(tmp_path: Path) -> None:
    parts = split(ARCHIVE, 2)
    paths = on_disk(tmp_path, parts)
    listed = info_for(ARCHIVE, parts)
    with pytest.raises(DigestError, match="DIGEST"):
        ArchiveDigest(replace(listed, digest=hashlib.md5(b"other").hexdigest())).check(paths)
    with pytest.raises(DigestError, match="DIGEST_ALGO"):
        ArchiveDigest(replace(listed, digest_algorithm="whirlpool")).check(paths)
    with pytest.raises(DigestError, match="no DIGEST"):
        ArchiveDigest(replace(listed, digest="")).check(paths)
    with pytest.raises(DigestError, match="bytes"):
        ArchiveDigest(replace(listed, size=len(ARCHIVE) + 1)).check(paths)
