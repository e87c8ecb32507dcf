"""Package files held open for granian: what ``/proc/self/fd/<slot>`` can ever name.

Rust opens the path it is handed after the handler returned; these tests play that late
open (``read``) after the tree changed, and check it only ever gets a checked file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocelot.communication import open_fragments
from ocelot.communication.open_fragments import OpenFragments, descriptors_reachable


def read(path: str) -> bytes:
    """What granian's File::open of the handed path then reads."""
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for number in range(1, 5):
        (tmp_path / f"7-{number}").write_bytes(f"fragment {number}".encode())
    (tmp_path / "secret").write_bytes(b"not for agents")
    return tmp_path


@pytest.fixture
def files() -> Iterator[OpenFragments]:
    opened = OpenFragments(capacity=2)
    yield opened
    opened.close()


def test_the_handed_path_names_the_open_file_with_its_size_and_date(files: OpenFragments, tree: Path) -> None:
    assert descriptors_reachable()  # Linux with /proc: what ocelot server runs on
    opened = files.open(str(tree / "7-1"))
    assert opened is not None
    assert opened.path.startswith("/proc/self/fd/")
    assert read(opened.path) == b"fragment 1"
    assert (opened.size, opened.modified) == (10, int((tree / "7-1").stat().st_mtime))


def test_a_link_a_directory_or_nothing_is_refused(files: OpenFragments, tree: Path) -> None:
    (tree / "7-9").symlink_to(tree / "secret")
    (tree / "7-8").mkdir()
    assert files.open(str(tree / "7-9")) is None
    assert files.open(str(tree / "7-8")) is None
    assert files.open(str(tree / "7-7")) is None


def test_a_link_swapped_in_after_the_check_is_not_what_rust_opens(files: OpenFragments, tree: Path) -> None:
    opened = files.open(str(tree / "7-1"))
    assert opened is not None
    (tree / "7-1").unlink()
    (tree / "7-1").symlink_to(tree / "secret")
    assert read(opened.path) == b"fragment 1"  # the file that was checked, not the link's target
    assert files.open(str(tree / "7-1")) is None  # and the next request sees the link


def test_a_file_replaced_under_its_name_is_opened_anew(files: OpenFragments, tree: Path) -> None:
    first = files.open(str(tree / "7-1"))
    (tree / "new").write_bytes(b"rebuilt")
    (tree / "new").replace(tree / "7-1")
    second = files.open(str(tree / "7-1"))
    assert first is not None and second is not None
    assert read(second.path) == b"rebuilt"
    assert second.path == first.path  # the same slot: no descriptor is closed, none grows


def test_slots_are_reused_least_recently_used_first_and_never_closed(
    files: OpenFragments, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(open_fragments, "REUSE_SECONDS", 0.0)
    one, two = files.open(str(tree / "7-1")), files.open(str(tree / "7-2"))
    assert one is not None and two is not None
    assert files.open(str(tree / "7-1")) is not None  # 7-2 is now the least recently used
    three = files.open(str(tree / "7-3"))
    assert three is not None
    assert three.path == two.path and len(files) == 2
    # A late open of the slot 7-2 had gets another checked fragment, never another file.
    assert read(two.path) == b"fragment 3"


def test_a_deleted_or_idle_file_is_let_go_at_the_sweep(
    files: OpenFragments, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, kept = files.open(str(tree / "7-1")), files.open(str(tree / "7-2"))
    assert gone is not None and kept is not None
    (tree / "7-1").unlink()
    files.sweep()
    assert read(gone.path) == b""  # /dev/null: the deleted file's space comes back
    assert read(kept.path) == b"fragment 2"
    assert len(files) == 1
    monkeypatch.setattr(open_fragments, "IDLE_SECONDS", 0.0)
    files.sweep()  # nobody asked for 7-2 since
    assert read(kept.path) == b"" and len(files) == 0
    again = files.open(str(tree / "7-2"))
    assert again is not None and again.path in (gone.path, kept.path)  # a freed slot is reused
    monkeypatch.setattr(open_fragments, "SWEEP_SECONDS", 0.0)
    (tree / "7-2").unlink()
    third = files.open(str(tree / "7-3"))  # a request sweeps first when it is time: 7-2 goes
    assert third is not None and len(files) == 1
    assert third.path == again.path and read(third.path) == b"fragment 3"


def test_a_slot_handed_out_moments_ago_is_not_reused_the_cache_grows_instead(
    files: OpenFragments, tree: Path
) -> None:
    # Three downloaders at once with room for two: each late open still gets its own
    # fragment (a reused slot would have sent 7-1's downloader the bytes of 7-3).
    handed = [files.open(str(tree / f"7-{number}")) for number in (1, 2, 3)]
    assert all(opened is not None for opened in handed)
    assert len({opened.path for opened in handed if opened}) == 3 and len(files) == 3
    assert [read(opened.path) for opened in handed if opened] == [
        b"fragment 1",
        b"fragment 2",
        b"fragment 3",
    ]
