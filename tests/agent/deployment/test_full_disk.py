"""A full disk: ERR_OUT_OF_SPACE, nothing left behind, the state files intact (issue 5).

The vardir is a small tmpfs of its own. The tests run as root (``make test`` installs
packages with apt): failing to mount is a failure, never a skip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocelot.agent.deployment.store import DownloadStore
from tests.agent.deployment.conftest import FakeClock
from tests.agent.deployment.helpers import deploy, engine
from tests.agent.deployment.site import Pki, Site, build
from tests.deployment.archives import tar_gz

MIB = 1024 * 1024


@contextmanager
def small_disk(mount_point: Path, size: str = "3m") -> Iterator[Path]:
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


def used_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def assert_nothing_left(vardir: Path) -> None:
    download = vardir / "download"
    left = [p.name for p in download.iterdir() if p.name not in ("config", "history", "lock", "results")]
    assert left == []
    assert used_bytes(vardir) < 256 * 1024
    assert DownloadStore(vardir).conf() is not None  # still readable: nothing half-written


@pytest.mark.parametrize("ocelot_sizes", [True, False], ids=["sizes-in-info", "ocs-info"])
def test_fragments_that_do_not_fit_give_out_of_space(
    site: Site, pki: Pki, clock: FakeClock, tmp_path: Path, ocelot_sizes: bool
) -> None:
    with small_disk(tmp_path / "disk") as vardir:
        DownloadStore(vardir).ensure()
        (vardir / "download" / "history").write_text("1600000000\n")
        archive = tar_gz(("install.sh", b"exit 0\n"), ("blob", os.urandom(4 * MIB)))
        site.publish(
            build(
                "1700000200", archive, fragments=4, priority=1, signer=pki.signing_key, ocs=not ocelot_sizes
            )
        )
        deploy(engine(site, vardir, pki, clock, signed=ocelot_sizes), site.pack_param("1700000200"))
        assert site.results == [("1700000200", "ERR_OUT_OF_SPACE")]
        assert DownloadStore(vardir).history() == ["1600000000"]
        assert_nothing_left(vardir)


def test_a_disk_filling_up_while_a_fragment_is_written_gives_out_of_space(
    site: Site, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    # No Content-Length: the agent only learns the size by writing, and the write fails (ENOSPC).
    site.without_length = True
    with small_disk(tmp_path / "disk") as vardir:
        archive = tar_gz(("install.sh", b"exit 0\n"), ("blob", os.urandom(4 * MIB)))
        site.publish(build("1700000201", archive, fragments=1, priority=1, ocs=True))
        deploy(engine(site, vardir, pki, clock, signed=False), site.pack_param("1700000201"))
        assert site.results == [("1700000201", "ERR_OUT_OF_SPACE")]
        assert_nothing_left(vardir)


def test_an_archive_too_large_to_extract_gives_out_of_space_and_nothing_runs(
    site: Site, pki: Pki, clock: FakeClock, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    archive = tar_gz(("install.sh", f"touch {marker}\n".encode()), ("zeros", bytes(8 * MIB)))
    assert len(archive) < 64 * 1024  # it compresses well: the download itself fits
    with small_disk(tmp_path / "disk") as vardir:
        site.publish(build("1700000202", archive, fragments=2, priority=1, signer=pki.signing_key))
        deploy(engine(site, vardir, pki, clock), site.pack_param("1700000202"))
        assert site.results == [("1700000202", "ERR_OUT_OF_SPACE")]
        assert not marker.exists()
        assert_nothing_left(vardir)
    # The same package on a disk with room installs (the check is about space, not the archive).
    site.results.clear()
    roomy = tmp_path / "roomy"
    roomy.mkdir()
    deploy(engine(site, roomy, pki, clock), site.pack_param("1700000202"))
    assert site.results == [("1700000202", "SUCCESS")]
    assert marker.exists()
