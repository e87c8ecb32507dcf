"""``sync_fragments``: a package's fragments copied to a site's web server, then checked there.

The site is a real directory served by a real web server on loopback (tests/deployment/
web.py); the info file stays on the "central" HTTPS server. rsync is Debian's, copying to
a local path (the same code path as ``host:path``, without ssh).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ocelot.deployment.activation import activate
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.errors import ActivationError, PackageStorageError
from ocelot.deployment.models import Package
from ocelot.deployment.storage import default_store
from ocelot.deployment.sync import SyncError, chosen_activations, is_remote, sync_fragments
from tests.deployment.archives import tar_gz
from tests.deployment.test_build import mounted_tmpfs
from tests.deployment.web import build_launch, static_server, use_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(str(tmp_path_factory.getbasetemp())) / "sync-pki"
    return use_home(settings, tmp_path / "home", cache)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The site server's document root; fragments go to its ``download/``."""
    (tmp_path / "site" / "download").mkdir(parents=True)
    return tmp_path / "site"


def activated(package: Package) -> Package:
    activate(package, "ocs.example.org/download", "site-a.example.org/download", check=False)
    return package


def random_package(name: str, size: int, fragments: int) -> Package:
    archive = tar_gz(("run.sh", b"#!/bin/sh\n"), ("blob.bin", os.urandom(size)))
    request = PackageRequest(
        name=name, os="linux", action="LAUNCH", command="run.sh", fragment_count=fragments
    )
    return build_package(request, io.BytesIO(archive))


def files_under(root: Path) -> dict[str, str]:
    """Every file below ``root`` (hidden ones too) and its SHA-256."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def expected_files(*packages: Package) -> dict[str, str]:
    return {
        f"{package.package_id}/{package.package_id}-{number}": fragment["sha256"]
        for package in packages
        for number, fragment in enumerate(package.fragments, start=1)
    }


@pytest.mark.parametrize("rsync", [False, True], ids=["directory copy", "rsync"])
def test_an_activations_fragments_are_copied_to_the_site_and_answer_there(
    home: Path, site: Path, rsync: bool
) -> None:
    package = activated(build_launch())
    other = activated(build_launch("not-this-one"))
    target = site / "download"
    central = default_store().root
    with static_server(central, tls=True) as https, static_server(site) as http:
        # The activation whose info file is on the central server (the check fetches it there).
        info_activation = activate(package, f"{https}/download", f"{http}/download", check=False).activation
        result = sync_fragments(str(target), [info_activation], location=f"{http}/download", rsync=rsync)
    assert result.packages == [package.package_id]
    assert (result.copied, result.unchanged) == (3, 0)
    assert result.bytes_copied == sum(fragment["size"] for fragment in package.fragments)
    assert result.checked and result.failures == []
    # Only fragments (the info file stays central), nothing else, not the other package.
    assert files_under(target) == expected_files(package)
    assert other.package_id not in result.packages
    for path in target.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("rsync", [False, True], ids=["directory copy", "rsync"])
def test_a_second_sync_copies_only_what_differs(home: Path, site: Path, rsync: bool) -> None:
    package = activated(build_launch())
    target = site / "download"
    sync_fragments(str(target), chosen_activations(package), rsync=rsync)
    fragment = target / str(package.package_id) / f"{package.package_id}-2"
    fragment.write_bytes(b"tampered on the site")

    again = sync_fragments(str(target), chosen_activations(package), rsync=rsync)

    assert (again.copied, again.unchanged) == (1, 2)
    assert files_under(target) == expected_files(package)
    assert not again.checked  # no location given: nothing fetched


def test_without_a_package_every_activated_package_is_copied(home: Path, site: Path) -> None:
    first, second = activated(build_launch("first")), activated(build_launch("second", fragments=2))
    build_launch("never-activated")
    result = sync_fragments(str(site / "download"), chosen_activations())
    assert sorted(result.packages) == sorted([first.package_id, second.package_id])
    assert files_under(site / "download") == expected_files(first, second)


def test_the_check_names_each_fragment_the_site_does_not_serve(home: Path, site: Path) -> None:
    package = activated(build_launch())
    elsewhere = site / "elsewhere"
    elsewhere.mkdir()
    central = default_store().root
    with static_server(central, tls=True) as https, static_server(site) as http:
        chosen = activate(package, f"{https}/download", f"{http}/download", check=False).activation
        # Copied to a directory the site does not serve under /download.
        result = sync_fragments(str(elsewhere), [chosen], location=f"{http}/download")
    pid = package.package_id
    assert result.checked
    assert [failure.rsplit("/", 1)[1] for failure in result.failures] == [
        f"{pid}-{n}: HTTP 404" for n in (1, 2, 3)
    ]


def test_a_missing_target_a_file_or_a_bad_location_is_refused_and_writes_nothing(
    home: Path, site: Path, tmp_path: Path
) -> None:
    package = activated(build_launch())
    chosen = chosen_activations(package)
    with pytest.raises(SyncError, match="no such directory"):
        sync_fragments(str(tmp_path / "missing"), chosen)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SyncError, match="not a directory"):
        sync_fragments(str(tmp_path / "a-file"), chosen)
    with pytest.raises(ActivationError):
        sync_fragments(str(site / "download"), chosen, location="https://site-a/download")
    assert files_under(site) == {}


def test_a_read_only_target_is_refused(home: Path, tmp_path: Path) -> None:
    package = activated(build_launch())
    with mounted_tmpfs(tmp_path / "read-only", "1m") as mount_point:
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(mount_point)], capture_output=True, check=False
        )
        assert remount.returncode == 0, remount.stderr
        with pytest.raises(SyncError, match="not writable"):
            sync_fragments(str(mount_point), chosen_activations(package))
        with pytest.raises(SyncError, match="not writable"):
            sync_fragments(str(mount_point), chosen_activations(package), rsync=True)


@pytest.mark.parametrize("rsync", [False, True], ids=["directory copy", "rsync"])
def test_a_disk_that_fills_leaves_no_half_written_fragment(home: Path, tmp_path: Path, rsync: bool) -> None:
    package = activated(random_package("big", 600_000, 3))  # three fragments of ~200 kB
    with mounted_tmpfs(tmp_path / "small", "300k") as small:
        with pytest.raises(PackageStorageError) as caught:
            sync_fragments(str(small), chosen_activations(package), rsync=rsync)
        message = str(caught.value)
        assert "\n" not in message and "Traceback" not in message
        present = files_under(small)
        # Whatever is there under a fragment's name is that whole fragment; no temporary left.
        expected = expected_files(package)
        assert present.items() <= expected.items(), present
        assert len(present) < len(expected)


def test_without_rsync_a_remote_target_is_a_clear_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = activated(build_launch())
    (tmp_path / "empty-path").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    with pytest.raises(SyncError, match="rsync is not installed"):
        sync_fragments("site-a.example.org:/var/www/download", chosen_activations(package))


def test_host_colon_path_is_remote_and_a_path_is_local() -> None:
    assert is_remote("site-a:/var/www/download") and is_remote("deploy@site-a.example.org:download")
    assert not is_remote("/srv/www/download") and not is_remote("./a:b")


def test_nothing_activated_is_said() -> None:
    with pytest.raises(SyncError, match="No package is activated"):
        chosen_activations()
