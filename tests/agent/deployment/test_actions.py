"""STORE puts the extracted files into PATH as ``cp -pr * PATH`` would, on the same or another file system."""

from __future__ import annotations

import os
from pathlib import Path

from ocelot.agent.deployment.actions import run_action
from ocelot.agent.deployment.package_info import PackageInfo
from tests.agent.deployment.test_full_disk import small_disk


def store_info(path: str) -> PackageInfo:
    return PackageInfo(
        package_id="1700000950",
        priority=1,
        action="STORE",
        argument=path,
        protocol="http",
        fragment_count=1,
        digest="",
        digest_algorithm="md5",
        digest_encoding="hex",
    )


def extracted(root: Path) -> Path:
    (root / "etc" / "app").mkdir(parents=True)
    (root / "etc" / "app" / "app.conf").write_text("new\n")
    (root / "etc" / "app" / "run.sh").write_text("#!/bin/sh\n")
    (root / "etc" / "app" / "run.sh").chmod(0o750)
    (root / "share" / "docs").mkdir(parents=True)
    (root / "share" / "docs" / "README").write_text("docs\n")
    (root / "current").symlink_to("etc/app")
    return root


def check_stored(target: Path) -> None:
    assert (target / "etc" / "app" / "app.conf").read_text() == "new\n"  # replaced
    assert (target / "etc" / "app" / "kept.conf").read_text() == "kept\n"  # merged, not wiped
    assert (target / "etc" / "app" / "run.sh").stat().st_mode & 0o777 == 0o750
    assert (target / "share" / "docs" / "README").read_text() == "docs\n"
    assert os.readlink(target / "current") == "etc/app"  # a link stays a link


def existing(target: Path) -> None:
    (target / "etc" / "app").mkdir(parents=True)
    (target / "etc" / "app" / "app.conf").write_text("old\n")
    (target / "etc" / "app" / "kept.conf").write_text("kept\n")


def test_store_on_the_same_file_system_merges_into_path(tmp_path: Path) -> None:
    work = extracted(tmp_path / "package" / "tmp")
    existing(tmp_path / "vardir" / "stored")
    code = run_action(store_info("INSTALL_PATH/stored"), work, tmp_path / "vardir", 10)
    assert code == "SUCCESS"
    check_stored(tmp_path / "vardir" / "stored")


def test_store_onto_another_file_system_copies(tmp_path: Path) -> None:
    work = extracted(tmp_path / "package" / "tmp")
    with small_disk(tmp_path / "disk") as disk:
        existing(disk / "stored")
        assert run_action(store_info(str(disk / "stored")), work, tmp_path, 10) == "SUCCESS"
        check_stored(disk / "stored")


def test_store_over_a_directory_with_a_file_is_an_execution_error(tmp_path: Path) -> None:
    work = extracted(tmp_path / "package" / "tmp")
    target = tmp_path / "stored"
    (target / "share").mkdir(parents=True)
    (target / "share" / "docs").write_text("a file where the package has a directory\n")
    assert run_action(store_info(str(target)), work, tmp_path, 10) == "ERR_EXECUTE"
