"""``ocelot package build|list|show|delete``: JSON out, one-line errors, nothing written on failure."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocelot.cli.main import main
from ocelot.cli.package_command import _Progress
from ocelot.deployment.models import Package
from ocelot.deployment.signing import PUBLIC_KEY_NAME, load_public_key, verify
from ocelot.protocol.info_file import parse_info_file, split_signature
from tests.deployment.archives import tar_gz, zip_file

pytestmark = pytest.mark.django_db

SCRIPT = b"#!/bin/sh\nexit 3\n"


@pytest.fixture
def home(tmp_path: Path, settings: Any) -> Path:
    """A home of its own, so package files never leak between tests."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "pkg.tar.gz"
    path.write_bytes(tar_gz(("run.sh", SCRIPT), ("data.bin", os.urandom(1_200_000))))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    return json.loads(out)


def published_files(home: Path) -> list[Path]:
    root = home / "packages"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_the_issue_example_prints_the_new_package_with_its_id_as_one_json_object(
    home: Path, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = run_json(
        capsys,
        *("package", "build", "--name", "NAME", "--os", "linux", "--action", "LAUNCH"),
        *("--command", "run.sh -q", "--priority", "5", "--file", str(archive), "--fragments", "3", "--json"),
    )
    assert isinstance(package["id"], int)
    assert (package["name"], package["action"], package["command"], package["priority"]) == (
        "NAME",
        "LAUNCH",
        "run.sh -q",
        5,
    )
    assert (package["fragment_count"], package["size"]) == (3, archive.stat().st_size)
    assert package["archive_name"] == "pkg.tar.gz"
    assert set(package["download_estimates"]) == {str(priority) for priority in range(11)}
    directory = home / "packages" / "download" / str(package["id"])
    assert (
        b"".join((directory / f"{package['id']}-{n}").read_bytes() for n in (1, 2, 3)) == archive.read_bytes()
    )
    data = (directory / "info").read_bytes()
    signed, signature = split_signature(data)
    assert verify(load_public_key((home / "public" / PUBLIC_KEY_NAME).read_bytes()), signed, signature)
    assert parse_info_file(data).md5 == package["md5"]


def test_a_fragment_size_with_a_unit_chooses_the_count(
    home: Path, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = run_json(
        capsys,
        *("package", "build", "--name", "sized", "--os", "linux", "--action", "execute"),
        *("--command", "sh run.sh", "--file", str(archive), "--fragment-size", "512K", "--json"),
    )
    assert package["fragment_count"] == 3
    assert [fragment["size"] for fragment in package["fragments"]][:2] == [512 * 1024] * 2


def test_store_takes_a_path_and_execute_needs_no_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    putty = tmp_path / "putty.zip"
    putty.write_bytes(zip_file(("putty.exe", b"MZ")))
    store = run_json(
        capsys,
        *("package", "build", "--name", "putty", "--os", "windows", "--action", "STORE"),
        *("--path", r"C:\logiciels\Putty", "--file", str(putty), "--notify-text", "Putty arrives", "--json"),
    )
    assert (store["path"], store["archive_format"], store["notify_user"]) == (
        r"C:\logiciels\Putty",
        "zip",
        True,
    )
    command = run_json(
        capsys,
        *("package", "build", "--name", "proxy", "--os", "windows", "--action", "EXECUTE"),
        *("--command", "Proxycfg.exe /p 192.168.1.1", "--priority", "0", "--json"),
    )
    assert (command["fragment_count"], command["md5"], command["priority"]) == (0, "", 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--priority", "11"], "priority"),
        (["--fragment-size", "0"], "at least 1 byte"),
        (["--fragment-size", "1G"], "larger than the archive"),
        (["--fragment-size", "lots"], "not a size"),
        (["--command", "install.sh"], "not in the archive"),
        (["--file", "EVIL"], "leaves the archive root"),
        (["--file", "NOT_AN_ARCHIVE"], "not a zip or tar.gz"),
        (["--file", "EMPTY"], "empty"),
        (["--file", "MISSING"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    home: Path,
    archive: Path,
    tmp_path: Path,
    options: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = {
        "EVIL": tar_gz(("../run.sh", SCRIPT)),
        "NOT_AN_ARCHIVE": b"<?php system($_GET['c']); ?>",
        "EMPTY": b"",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    defaults = {"--command": "run.sh -q", "--file": str(archive), "--priority": "5"}
    for flag, value in zip(options[::2], options[1::2], strict=True):
        defaults[flag] = str(tmp_path / value) if value in (*files, "MISSING") else value
    argv = ["package", "build", "--name", "bad", "--os", "linux", "--action", "LAUNCH", "--json"]
    for flag, value in defaults.items():
        argv += [flag, value]

    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ocelot package: ")
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err
    assert published_files(home) == []
    assert not (home / "public").exists()
    assert not Package.objects.exists()


def test_list_show_and_delete_speak_json_and_text(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    built = run_json(
        capsys,
        "package",
        "build",
        "--name",
        "cmd",
        "--os",
        "linux",
        "--action",
        "EXECUTE",
        "--command",
        "true",
        "--json",
    )
    assert [item["id"] for item in run_json(capsys, "package", "list", "--json")] == [built["id"]]
    assert run_json(capsys, "package", "show", "cmd", "--json")["id"] == built["id"]

    assert main(["package", "show", str(built["id"])]) == 0
    text = capsys.readouterr().out
    assert f"{built['id']}  cmd" in text
    assert "by priority" in text
    assert " 5: 4m00s" in text  # seed defaults: four cycle latencies of 60 s

    assert run_json(capsys, "package", "delete", "cmd", "--json") == {
        "id": built["id"],
        "name": "cmd",
        "deleted": True,
    }
    assert not (home / "packages" / "download" / str(built["id"])).exists()
    assert main(["package", "show", "cmd"]) == 1
    assert "No package 'cmd'" in capsys.readouterr().err


def test_progress_goes_to_the_terminal_as_percentages() -> None:
    stream = io.StringIO()
    progress = _Progress(stream)  # type: ignore[arg-type]
    progress(1024 * 1024, 4 * 1024 * 1024)
    progress(4 * 1024 * 1024, 4 * 1024 * 1024)
    assert stream.getvalue() == "\rbuilding:  25% (1 of 4 MiB)\rbuilding: 100% (4 of 4 MiB)\n"
