"""Building a package: checked, streamed, split, signed, published atomically, recorded (issue 4)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import subprocess
import tarfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.catalogue import delete_package, find_package, packages
from ocelot.deployment.errors import (
    ArchiveError,
    PackageInputError,
    PackageNotFoundError,
    PackageStorageError,
)
from ocelot.deployment.models import Package
from ocelot.deployment.signing import PUBLIC_KEY_NAME, load_public_key, verify
from ocelot.deployment.storage import PackageStore
from ocelot.protocol.info_file import parse_info_file, split_signature
from tests.deployment.archives import tar_entry, tar_gz, zip_file

pytestmark = pytest.mark.django_db

SCRIPT = b"#!/bin/sh\nexit 3\n"
LAUNCH = PackageRequest(name="launch", os="linux", action="LAUNCH", command="run.sh -q", fragment_count=3)


@pytest.fixture
def store(tmp_path: Path) -> PackageStore:
    return PackageStore(root=tmp_path / "packages", pki_dir=tmp_path / "pki", public_dir=tmp_path / "public")


def files_under(path: Path) -> list[Path]:
    return sorted(item for item in path.rglob("*") if item.is_file()) if path.exists() else []


def launch_archive() -> bytes:
    return tar_gz(("run.sh", SCRIPT), ("data.bin", os.urandom(30_000)))


def test_a_launch_package_is_published_as_info_plus_fragments_and_recorded(store: PackageStore) -> None:
    archive = launch_archive()
    package = build_package(LAUNCH, io.BytesIO(archive), store=store)

    directory = store.package_dir(package.package_id)
    names = sorted(path.name for path in directory.iterdir())
    assert names == [f"{package.package_id}-{number}" for number in (1, 2, 3)] + ["info"]
    fragments = [directory / f"{package.package_id}-{number}" for number in (1, 2, 3)]
    assert b"".join(path.read_bytes() for path in fragments) == archive
    assert package.md5 == hashlib.md5(archive).hexdigest()
    assert package.sha256 == hashlib.sha256(archive).hexdigest()
    assert package.fragments == [
        {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in fragments
    ]
    assert (package.size, package.fragment_count, package.archive_format) == (len(archive), 3, "tar.gz")
    assert list(store.staging_dir.iterdir()) == []
    assert Package.objects.get(package_id=package.package_id).name == "launch"


def test_the_info_file_says_what_ocs_agents_read_and_is_signed_with_the_published_key(
    store: PackageStore,
) -> None:
    archive = launch_archive()
    package = build_package(LAUNCH, io.BytesIO(archive), store=store)
    data = (store.package_dir(package.package_id) / "info").read_bytes()

    signed, signature = split_signature(data)
    public_key = load_public_key((store.public_dir / PUBLIC_KEY_NAME).read_bytes())
    assert verify(public_key, signed, signature)
    tampered = signed.replace(b'NAME="run.sh -q"', b'NAME="run.sh -x"')
    assert not verify(public_key, tampered, signature)

    info = parse_info_file(data)
    assert (info.package_id, info.priority, info.action, info.argument) == (
        package.package_id,
        5,
        "LAUNCH",
        "run.sh -q",
    )
    assert (info.md5, info.protocol, info.fragment_count) == (package.md5, "HTTP", 3)
    assert info.sha256 == package.sha256
    assert [fragment.sha256 for fragment in info.fragments] == [item["sha256"] for item in package.fragments]
    assert info.key_id == package.key_id
    assert data.startswith(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DOWNLOAD ID="{package.package_id}" PRI="5" ACT="LAUNCH" '
        f'DIGEST="{package.md5}" PROTO="HTTP" FRAGS="3" DIGEST_ALGO="MD5" DIGEST_ENCODE="Hexa" '
        'NAME="run.sh -q" NOTIFY_USER="0" NOTIFY_TEXT="" NOTIFY_COUNTDOWN="" NOTIFY_CAN_ABORT="0" '
        'NOTIFY_CAN_DELAY="0" NEED_DONE_ACTION="0" NEED_DONE_ACTION_TEXT="" GARDEFOU="rien" '
        "OCELOT_SIZE=".encode()
    )


def test_an_execute_command_without_archive_has_no_fragment_and_an_empty_digest(store: PackageStore) -> None:
    request = PackageRequest(
        name="proxy", os="windows", action="EXECUTE", command="Proxycfg.exe /p 192.168.1.1"
    )
    package = build_package(request, None, store=store)
    info = parse_info_file((store.package_dir(package.package_id) / "info").read_bytes())
    assert (info.fragment_count, info.md5, info.argument) == (0, "", "Proxycfg.exe /p 192.168.1.1")
    assert [path.name for path in store.package_dir(package.package_id).iterdir()] == ["info"]


def test_a_store_package_with_notification_round_trips_hostile_text_exactly(store: PackageStore) -> None:
    text = 'Close "Word" & <Excel>\nit\'s \tnow " ACT="EXECUTE" COMMAND="rm -rf /'
    request = PackageRequest(
        name="putty",
        os="windows",
        action="STORE",
        path=r"C:\logiciels\Putty",
        priority=0,
        notify_user=True,
        notify_text=text,
        notify_countdown=120,
        notify_can_abort=True,
        need_done_action=True,
        need_done_action_text="Reboot <now>",
    )
    package = build_package(request, io.BytesIO(zip_file(("putty.exe", b"MZ"))), store=store)
    info = parse_info_file((store.package_dir(package.package_id) / "info").read_bytes())
    assert (info.action, info.argument, info.priority) == ("STORE", r"C:\logiciels\Putty", 0)
    assert (info.notify_user, info.notify_text, info.notify_countdown) == (True, text, 120)
    assert (info.notify_can_abort, info.notify_can_delay) == (True, False)
    assert (info.need_done_action, info.need_done_action_text) == (True, "Reboot <now>")


def test_ids_are_the_build_time_made_unique(store: PackageStore) -> None:
    import datetime

    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    first = build_package(
        PackageRequest(name="a", os="linux", action="EXECUTE", command="true"), store=store, now=moment
    )
    second = build_package(
        PackageRequest(name="b", os="linux", action="EXECUTE", command="true"), store=store, now=moment
    )
    assert first.package_id == int(moment.timestamp())
    assert second.package_id == first.package_id + 1


@pytest.mark.parametrize(
    ("request_", "archive", "error", "message"),
    [
        (LAUNCH, tar_gz(("../run.sh", SCRIPT)), ArchiveError, "leaves the archive root"),
        (LAUNCH, tar_gz(("/run.sh", SCRIPT)), ArchiveError, "absolute"),
        (
            LAUNCH,
            tar_gz(("run.sh", SCRIPT), tar_entry("x", tarfile.SYMTYPE, link="/etc")),
            ArchiveError,
            "outside",
        ),
        (LAUNCH, tar_gz(("install.sh", SCRIPT)), ArchiveError, "not in the archive"),
        (LAUNCH, b"", ArchiveError, "empty"),
        (LAUNCH, b"MZ\x90\x00 a Windows executable", ArchiveError, "not a zip or tar.gz"),
        (LAUNCH, None, PackageInputError, "needs an archive"),
        (
            PackageRequest(name="s", os="linux", action="STORE", path="/opt/x"),
            None,
            PackageInputError,
            "archive",
        ),
        (
            PackageRequest(name="p", os="linux", action="STORE", path="/opt/../etc"),
            b"x",
            PackageInputError,
            "'..'",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="true", priority=11),
            None,
            PackageInputError,
            "priority",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="true", priority=-1),
            None,
            PackageInputError,
            "priority",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command=""),
            None,
            PackageInputError,
            "command",
        ),
        (
            PackageRequest(name="p", os="solaris", action="EXECUTE", command="x"),
            None,
            PackageInputError,
            "operating",
        ),
        (PackageRequest(name="p", os="linux", action="RUN", command="x"), None, PackageInputError, "action"),
        (PackageRequest(name="", os="linux", action="EXECUTE", command="x"), None, PackageInputError, "name"),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="a\nb"),
            None,
            PackageInputError,
            "control",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="x", notify_text="\x07"),
            None,
            PackageInputError,
            "control",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="x", fragment_count=2),
            None,
            PackageInputError,
            "Fragments need an archive",
        ),
        (
            PackageRequest(name="p", os="linux", action="EXECUTE", command="x", fragment_size=0),
            b"x",
            PackageInputError,
            "at least 1 byte",
        ),
        (
            PackageRequest(name="w", os="windows", action="EXECUTE", command="x"),
            tar_gz(("a", b"x")),
            ArchiveError,
            "zip",
        ),
    ],
    ids=lambda value: "archive" if isinstance(value, bytes) else None,
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(
    store: PackageStore, request_: PackageRequest, archive: bytes | None, error: type[Exception], message: str
) -> None:
    if archive == b"x":
        archive = tar_gz(("a", b"x"))
    with pytest.raises(error, match=message):
        build_package(request_, io.BytesIO(archive) if archive is not None else None, store=store)
    assert files_under(store.root) == []
    assert not Package.objects.exists()


def test_a_fragment_size_larger_than_the_archive_is_refused(store: PackageStore) -> None:
    request = PackageRequest(name="p", os="linux", action="EXECUTE", command="x", fragment_size=10**9)
    with pytest.raises(PackageInputError, match="larger than the archive"):
        build_package(request, io.BytesIO(tar_gz(("a", b"x"))), store=store)
    assert files_under(store.root) == []


def test_a_second_package_with_the_same_name_is_refused(store: PackageStore) -> None:
    request = PackageRequest(name="same", os="linux", action="EXECUTE", command="true")
    first = build_package(request, store=store)
    with pytest.raises(PackageInputError, match="already exists"):
        build_package(request, store=store)
    assert [path.parent.name for path in files_under(store.download_dir)] == [str(first.package_id)]


class SplitStore(PackageStore):
    """A store whose download directory is on another file system: publishing cannot rename."""

    elsewhere: Path

    @property
    def download_dir(self) -> Path:
        return self.elsewhere


def test_a_build_failing_at_publication_leaves_no_file_and_no_record(tmp_path: Path) -> None:
    # The download directory on another file system (a tmpfs of its own): the final
    # rename of the staging directory fails.
    with mounted_tmpfs(tmp_path / "elsewhere", "16m") as elsewhere:
        store = SplitStore(
            root=tmp_path / "packages", pki_dir=tmp_path / "pki", public_dir=tmp_path / "public"
        )
        object.__setattr__(store, "elsewhere", elsewhere / "download")
        with pytest.raises(PackageStorageError, match="could not be published"):
            build_package(LAUNCH, io.BytesIO(launch_archive()), store=store)
        assert files_under(store.root) == []
        assert files_under(elsewhere) == []
        assert not Package.objects.exists()


@contextlib.contextmanager
def mounted_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount_point``. The tests run as root (``make test`` installs
    packages with apt): failing to mount is a failure, never a skip."""
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (the tests run as root): {result.stderr.decode(errors='replace')}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs."""
    with mounted_tmpfs(tmp_path / "small-disk", "1m") as mount_point:
        yield mount_point


def test_a_disk_that_fills_during_the_build_leaves_no_file_and_no_record(
    tmp_path: Path, small_disk: Path
) -> None:
    store = PackageStore(
        root=small_disk / "packages", pki_dir=tmp_path / "pki", public_dir=tmp_path / "public"
    )
    archive = tar_gz(("run.sh", SCRIPT), ("data.bin", os.urandom(3 * 1024 * 1024)))
    with pytest.raises(PackageStorageError, match=os.strerror(errno.ENOSPC)):
        build_package(LAUNCH, io.BytesIO(archive), store=store)
    assert files_under(small_disk) == []
    assert not Package.objects.exists()
    # Once space is back, the same build works.
    small = tar_gz(("run.sh", SCRIPT), ("data.bin", os.urandom(1000)))
    assert build_package(LAUNCH, io.BytesIO(small), store=store).fragment_count == 3


def test_a_large_archive_streams_through_without_growing_memory(store: PackageStore, tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    chunk = b"\x00" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive,
        archive.open("payload.bin", "w") as member,
    ):
        for _ in range(200):
            member.write(chunk)
    del chunk
    request = PackageRequest(
        name="big", os="windows", action="STORE", path="C:/big", fragment_size=8 * 1024 * 1024
    )
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            package = build_package(request, handle, store=store)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert package.size == path.stat().st_size > 200 * 1024 * 1024
    assert package.fragment_count == 26
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 1024 / 1024:.1f} MiB"


def test_packages_are_listed_found_by_id_or_name_and_deleted_with_their_files(store: PackageStore) -> None:
    first = build_package(LAUNCH, io.BytesIO(launch_archive()), store=store)
    second = build_package(
        PackageRequest(name="cmd", os="linux", action="EXECUTE", command="true"), store=store
    )
    assert [package.name for package in packages()] == ["cmd", "launch"]
    assert find_package(str(first.package_id)) == first
    assert find_package("cmd") == second
    delete_package(first, store=store)
    assert not store.package_dir(first.package_id).exists()
    assert files_under(store.staging_dir) == []
    with pytest.raises(PackageNotFoundError):
        find_package("launch")
    assert [package.name for package in packages()] == ["cmd"]
