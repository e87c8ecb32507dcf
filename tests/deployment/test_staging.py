"""Leftovers of killed builds and uploads are removed when the server starts (security.md T35)."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.staging import GRACE_SECONDS, hold, sweep
from ocelot.deployment.storage import PackageStore
from tests.deployment.archives import tar_gz


def later() -> float:
    """A moment past the grace period of anything created until now."""
    return time.time() + GRACE_SECONDS + 1


@pytest.fixture
def store(tmp_path: Path) -> PackageStore:
    store = PackageStore(root=tmp_path / "packages", pki_dir=tmp_path / "pki", public_dir=tmp_path / "public")
    store.staging_dir.mkdir(parents=True)
    return store


def killed_writer(path: Path, *, directory: bool) -> None:
    """A process that locks ``path`` as a build or an upload does, then dies by SIGKILL."""
    code = (
        "import sys; from pathlib import Path; from ocelot.deployment.staging import hold;"
        f"p = Path({str(path)!r}); p.mkdir() if {directory} else p.write_bytes(b'half');"
        "hold(p); print('held', flush=True); sys.stdin.read()"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert writer.stdout is not None and writer.stdout.readline() == b"held\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait()


def test_what_killed_builds_and_uploads_left_is_removed(store: PackageStore) -> None:
    killed_writer(store.staging_dir / "1795300000", directory=True)
    (store.staging_dir / "1795300000" / "1795300000-1").write_bytes(b"fragment")
    killed_writer(store.staging_dir / "upload-abc", directory=False)
    assert sweep(store, now=later()) == ["1795300000", "upload-abc"]
    assert list(store.staging_dir.iterdir()) == []


def test_a_build_or_upload_still_running_elsewhere_is_left_alone(store: PackageStore) -> None:
    running = store.staging_dir / "1795300001"
    running.mkdir()
    upload = store.staging_dir / "upload-live"
    upload.write_bytes(b"part")
    held = [hold(running), hold(upload)]
    try:
        assert sweep(store, now=later()) == []
        assert running.exists() and upload.exists()
    finally:
        for fd in held:
            os.close(fd)
    assert sweep(store, now=later()) == ["1795300001", "upload-live"]


def test_an_entry_younger_than_a_minute_is_left_alone(store: PackageStore) -> None:
    (store.staging_dir / "1795300002").mkdir()
    assert sweep(store) == []
    assert sweep(store, now=later()) == ["1795300002"]


def test_a_planted_link_is_removed_and_not_followed(store: PackageStore, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "file").write_bytes(b"keep")
    (store.staging_dir / "link").symlink_to(precious)
    assert sweep(store, now=later()) == ["link"]
    assert (precious / "file").read_bytes() == b"keep"


def test_no_staging_directory_is_nothing_to_do(tmp_path: Path) -> None:
    empty = PackageStore(root=tmp_path / "none", pki_dir=tmp_path / "pki", public_dir=tmp_path / "public")
    assert sweep(empty, now=later()) == []


@pytest.mark.django_db
def test_a_server_starting_during_a_build_does_not_disturb_it(store: PackageStore) -> None:
    swept: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        if not swept:
            swept.append(sweep(store, now=later()))

    request = PackageRequest(name="during", os="linux", action="LAUNCH", command="run.sh", fragment_count=2)
    archive = io.BytesIO(tar_gz(("run.sh", b"#!/bin/sh\n"), ("data", os.urandom(4096))))
    package = build_package(request, archive, store=store, progress=progress)
    assert swept == [[]]
    assert sorted(path.name for path in store.package_dir(package.package_id).iterdir()) == [
        f"{package.package_id}-1",
        f"{package.package_id}-2",
        "info",
    ]
    assert list(store.staging_dir.iterdir()) == []


@pytest.mark.django_db
def test_the_server_start_removes_them(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocelot.cli.server import initialise

    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    staging = settings.CONFIG.package_dir / "staging"
    killed_writer_dir = staging / "1795300003"
    staging.mkdir(parents=True)
    killed_writer(killed_writer_dir, directory=True)
    os.utime(killed_writer_dir, (time.time() - 3600, time.time() - 3600))
    initialise(verbose=True)
    assert not killed_writer_dir.exists()
    assert "Removed 1 leftover(s)" in capsys.readouterr().out
