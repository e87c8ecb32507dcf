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


# ---------------------------------------------------------------- activate, assign, stats


def _build_cmd(capsys: pytest.CaptureFixture[str]) -> int:
    record = run_json(
        capsys,
        *("package", "build", "--name", "cmd", "--os", "linux", "--action", "EXECUTE", "--command", "true"),
        "--json",
    )
    return int(record["id"])


def test_activate_assign_stats_and_deactivate_are_scriptable_with_json(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocelot.inventory.models import Computer

    pid = _build_cmd(capsys)
    ids = [Computer.objects.create(device_id=f"pc-{n}", name=f"pc{n}").pk for n in range(3)]

    activation = run_json(
        capsys,
        *("package", "activate", str(pid), "--info-location", "localhost:4343/download"),
        *("--fragment-location", "ocs.example.org/download", "--no-check", "--json"),
    )
    assert activation["info_location"] == "localhost:4343/download"
    assert activation["checked"] is False
    assert len(activation["warnings"]) == 2  # localhost, port 4343
    shown = run_json(capsys, "package", "show", str(pid), "--json")
    assert [a["activation"] for a in shown["activations"]] == [activation["activation"]]

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ids[1]}\n{ids[2]}\n"))
    assigned = run_json(
        capsys,
        *("package", "assign", "cmd", "--computer", str(ids[0]), "--computers-from", "-"),
        *("--force", "--schedule", "2026-12-24T18:30", "--post-command", "REBOOT", "--json"),
    )
    assert (assigned["created"], assigned["restarted"], assigned["computers"]) == (3, 0, sorted(ids))

    stats = run_json(capsys, "package", "stats", str(pid), "--json")
    assert stats["total"] == 3
    assert stats["categories"]["waiting"] == 3
    assert stats["statuses"] == {"WAITING NOTIFICATION": 3}
    assert [c["name"] for c in stats["computers"]] == ["pc0", "pc1", "pc2"]

    unassigned = run_json(capsys, "package", "unassign", str(pid), "--computer", str(ids[0]), "--json")
    assert unassigned["removed"] == 1
    cleared = run_json(capsys, "package", "validate", str(pid), "--not-notified", "--json")
    assert cleared["removed"] == 2

    run_json(capsys, "package", "assign", str(pid), "--computer", str(ids[0]), "--json")
    gone = run_json(capsys, "package", "deactivate", str(pid), "--json")
    assert (gone["deactivated"], gone["assignments_removed"]) == (True, 1)


def test_activate_in_text_mode_prints_warnings_on_stderr(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = _build_cmd(capsys)
    assert main(["package", "activate", str(pid), "--info-location", "127.0.0.1/download", "--no-check"]) == 0
    captured = capsys.readouterr()
    assert f"package {pid} activated" in captured.out
    assert "warning:" in captured.err and "127.0.0.1" in captured.err


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["activate", "nope"], 1, "No package 'nope'"),
        (["activate", "{pid}", "--info-location", "http://x/download", "--no-check"], 2, "HTTPS"),
        (["activate", "{pid}", "--info-location", "127.0.0.1:9/download"], 1, "do not answer"),
        (["assign", "{pid}", "--computer", "1"], 2, "not activated"),
        (["stats", "nope"], 1, "No package"),
        (["deactivate", "{pid}"], 2, "not activated"),
        (["unassign", "{pid}"], 2, "Say which computers"),
    ],
)
def test_deployment_verbs_fail_with_one_line_and_a_non_zero_status(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], status: int, message: str
) -> None:
    pid = _build_cmd(capsys)
    assert main(["package", *(word.format(pid=pid) for word in argv)]) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_assign_refuses_unknown_computers_and_ids_that_are_not_numbers(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _build_cmd(capsys)
    assert main(["package", "activate", str(pid), "--info-location", "ocs/download", "--no-check"]) == 0
    capsys.readouterr()
    assert main(["package", "assign", str(pid), "--computer", "424242"]) == 2
    assert "No computer with id 424242" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("12 abc"))
    assert main(["package", "assign", str(pid), "--computers-from", "-"]) == 2
    assert "'abc' is not a computer id" in capsys.readouterr().err


def test_assign_and_unassign_a_group(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ocelot.deployment.groups import add_to_group, create_static_group
    from ocelot.deployment.models import Assignment, GroupAssignment
    from ocelot.inventory.models import Computer

    pid = _build_cmd(capsys)
    assert main(["package", "activate", str(pid), "--info-location", "ocs/download", "--no-check"]) == 0
    group = create_static_group("lab")
    ids = [Computer.objects.create(device_id=f"pc-{n}").pk for n in range(2)]
    add_to_group(group, ids)
    capsys.readouterr()

    assigned = run_json(capsys, "package", "assign", str(pid), "--group", "lab", "--json")
    assert (assigned["created"], assigned["computers"]) == (2, ids)
    assert GroupAssignment.objects.count() == 1

    removed = run_json(capsys, "package", "unassign", str(pid), "--group", str(group.pk), "--json")
    assert removed["removed"] == 2
    assert not Assignment.objects.exists() and not GroupAssignment.objects.exists()
    assert main(["package", "assign", str(pid), "--group", "nope"]) == 2
    assert "No group 'nope'" in capsys.readouterr().err
