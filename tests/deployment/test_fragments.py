"""Fragments: OCS's split rule, a size or a count, streamed with their digests (protocol.md §8.1)."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocelot.deployment.errors import PackageInputError
from ocelot.deployment.fragments import (
    fragment_name,
    fragment_sizes,
    parse_fragment_size,
    write_fragments,
)
from ocelot.protocol.info_file import MAX_FRAGMENTS


def test_a_count_splits_as_ocs_does_equal_parts_and_the_rest_in_the_last() -> None:
    assert fragment_sizes(10, count=3) == [3, 3, 4]
    assert fragment_sizes(9, count=3) == [3, 3, 3]
    assert fragment_sizes(5, count=1) == [5]


def test_a_fragment_size_gives_parts_of_that_size_and_a_shorter_last_one() -> None:
    assert fragment_sizes(10, fragment_size=4) == [4, 4, 2]
    assert fragment_sizes(8, fragment_size=4) == [4, 4]
    assert fragment_sizes(8, fragment_size=8) == [8]


def test_without_a_choice_fragments_are_one_mib() -> None:
    assert fragment_sizes(3 * 1024 * 1024 + 1) == [1024 * 1024] * 3 + [1]
    assert fragment_sizes(100) == [100]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fragment_size": 0}, "at least 1 byte"),
        ({"fragment_size": 11}, "larger than the archive"),
        ({"count": 0}, "at least 1"),
        ({"count": 11}, "more than the archive"),
        ({"count": MAX_FRAGMENTS + 1}, "At most"),
        ({"count": 2, "fragment_size": 5}, "not both"),
    ],
)
def test_impossible_choices_are_refused(options: dict[str, int], message: str) -> None:
    with pytest.raises(PackageInputError, match=message):
        fragment_sizes(10, **options)


def test_a_fragment_size_giving_more_than_the_cap_is_refused() -> None:
    with pytest.raises(PackageInputError, match="choose a larger size"):
        fragment_sizes(MAX_FRAGMENTS + 1, fragment_size=1)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("524288", 524288),
        ("512K", 524288),
        ("512k", 524288),
        ("512KiB", 524288),
        ("2M", 2 << 20),
        ("1G", 1 << 30),
    ],
)
def test_sizes_are_read_with_binary_units(text: str, size: int) -> None:
    assert parse_fragment_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "-1K", "1.5M", "12T"])
def test_sizes_that_are_not_sizes_are_refused(text: str) -> None:
    with pytest.raises(PackageInputError):
        parse_fragment_size(text)


def test_fragments_are_named_id_dash_number_from_one() -> None:
    assert fragment_name(1700000001, 1) == "1700000001-1"


def test_written_fragments_concatenate_to_the_archive_and_every_digest_is_right(tmp_path: Path) -> None:
    archive = bytes(range(256)) * 1000
    sizes = fragment_sizes(len(archive), count=3)
    seen: list[int] = []
    digests = write_fragments(io.BytesIO(archive), tmp_path, 42, sizes, seen.append)
    files = [tmp_path / f"42-{number}" for number in (1, 2, 3)]
    assert sorted(tmp_path.iterdir()) == files
    assert b"".join(path.read_bytes() for path in files) == archive
    assert digests.size == len(archive)
    assert digests.md5 == hashlib.md5(archive).hexdigest()
    assert digests.sha256 == hashlib.sha256(archive).hexdigest()
    for path, fragment in zip(files, digests.fragments, strict=True):
        assert fragment.size == path.stat().st_size
        assert fragment.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert seen[-1] == len(archive)


def test_an_archive_that_changes_size_during_the_build_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageInputError, match="changed"):
        write_fragments(io.BytesIO(b"0123456789"), tmp_path, 1, [4, 4])
    shorter = tmp_path / "shorter"
    shorter.mkdir()
    with pytest.raises(PackageInputError, match="changed"):
        write_fragments(io.BytesIO(b"0123"), shorter, 2, [4, 4])


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(min_size=1, max_size=4000), data=st.data())
def test_any_payload_and_any_allowed_count_round_trips(payload: bytes, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=min(len(payload), 50)))
    sizes = fragment_sizes(len(payload), count=count)
    assert len(sizes) == count and sum(sizes) == len(payload)
    with tempfile.TemporaryDirectory() as directory:
        digests = write_fragments(io.BytesIO(payload), Path(directory), 7, sizes)
        parts = [(Path(directory) / f"7-{number}").read_bytes() for number in range(1, count + 1)]
    assert b"".join(parts) == payload
    assert [hashlib.sha256(part).hexdigest() for part in parts] == [f.sha256 for f in digests.fragments]
