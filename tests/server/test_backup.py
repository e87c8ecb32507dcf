"""ocelot.server.backup and ``ocelot backup|restore``: identical content across database kinds,
archives checked whole before anything changes, older schemas only with --migrate.

The test database is whatever the suite runs on (SQLite, PostgreSQL, MariaDB); the other
installations are fresh SQLite files and a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from ocelot.accounts.administrators import create_user
from ocelot.cli import local_import
from ocelot.cli.main import main
from ocelot.inventory.setting_values import global_value, set_global
from ocelot.server.backup import (
    SchemaError,
    applied_schema,
    code_schema,
    registered_database,
    restore_backup,
    table_digests,
    verify_archive,
    write_backup,
)
from ocelot.server.pki import ensure_pki
from tests.deployment.archives import tar_gz
from tests.server.postgres import postgres_cluster

DATA = Path(__file__).resolve().parent.parent / "data"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_cluster(("hop",)) as prefix:
        yield prefix


@pytest.fixture
def home(tmp_path: Path, settings: Any) -> Path:
    """The installation's home: its own packages and keys."""
    home = tmp_path / "home"
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=home)
    ensure_pki(home / "pki", home / "public")
    (home / "secret_key").write_text("not-so-secret\n")
    return home


def populate(tmp_path: Path) -> None:
    """Computers from captured payloads, a user, a changed setting and a built package."""
    local_import.run([str(DATA)])
    create_user("operator", administrator=False)
    set_global("PROLOG_FREQ", 6)
    archive = tmp_path / "pkg.tar.gz"
    archive.write_bytes(tar_gz(("run.sh", b"#!/bin/sh\nexit 0\n"), ("data.bin", os.urandom(300_000))))
    assert (
        main(
            [
                *("package", "build", "--name", "backed-up", "--os", "linux", "--action", "LAUNCH"),
                *("--command", "run.sh", "--priority", "5", "--file", str(archive), "--fragments", "3"),
                "--json",
            ]
        )
        == 0
    )


def files_of(home: Path) -> dict[str, str]:
    """SHA-256 of every file a restore must bring back (not the empty staging area)."""
    found = {}
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home).as_posix()
        if path.is_file() and relative.split("/")[0] in ("packages", "pki", "public", "secret_key"):
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def back_up(home: Path, path: Path, using: str = "default") -> Path:
    with path.open("wb") as out:
        write_backup(out, home, using=using)
    return path


def test_a_backup_restored_into_an_empty_installation_is_identical(home: Path, tmp_path: Path) -> None:
    populate(tmp_path)
    source = table_digests()
    assert source["inventory_computer"][0] >= 3
    assert source["deployment_package"][0] == 1
    archive = back_up(home, tmp_path / "backup.tar")
    manifest = verify_archive(archive)
    assert {entry.table: (entry.rows, entry.content_sha256) for entry in manifest.tables} == source
    assert manifest.schema == code_schema()
    assert any(name.startswith("files/packages/download/") for name in manifest.files)

    target = tmp_path / "target"
    target.mkdir()
    with registered_database("target", f"sqlite:///{target}/ocelot.sqlite3"):
        report = restore_backup(archive, target, using="target")
        assert not report.migrated
        assert table_digests("target") == source
    assert files_of(target) == files_of(home)
    assert (target / "pki" / "ca.key").stat().st_mode & 0o777 == 0o600


def test_backups_move_from_sqlite_to_postgresql_and_back(home: Path, tmp_path: Path, postgres: str) -> None:
    populate(tmp_path)
    source, files = table_digests(), files_of(home)
    hops = [
        ("first_sqlite", f"sqlite:///{tmp_path}/first.sqlite3"),
        ("postgresql", postgres + "hop"),
        ("last_sqlite", f"sqlite:///{tmp_path}/last.sqlite3"),
    ]
    archive = back_up(home, tmp_path / "hop-0.tar")
    for number, (alias, url) in enumerate(hops, start=1):
        target = tmp_path / alias
        target.mkdir()
        with registered_database(alias, url):
            restore_backup(archive, target, using=alias)
            assert table_digests(alias) == source, f"after the restore into {alias}"
            assert files_of(target) == files
            archive = back_up(target, tmp_path / f"hop-{number}.tar", using=alias)
            # Sequences follow the restored rows: a new row gets a new key.
            user = get_user_model().objects.using(alias).create(username=f"new-in-{alias}")
            assert user.pk > source["auth_user"][0]
    assert verify_archive(tmp_path / "hop-2.tar").database == "postgresql"


def test_restoring_in_place_brings_back_the_old_content_and_keys_move_on(home: Path, tmp_path: Path) -> None:
    populate(tmp_path)
    before, files = table_digests(), files_of(home)
    archive = back_up(home, tmp_path / "backup.tar")

    local_import.run([str(DATA / "windows-agent-2.11-inventory.xml")])
    create_user("later", administrator=True)
    set_global("PROLOG_FREQ", 12)
    fragment = next((home / "packages" / "download").rglob("*-1"))
    fragment.write_bytes(b"tampered")
    (home / "packages" / "download" / "stray").write_bytes(b"not in the backup")

    assert main(["restore", str(archive)]) == 0
    assert table_digests() == before
    assert files_of(home) == files
    assert global_value("PROLOG_FREQ") == 6
    create_user("after-restore", administrator=False)


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _damaged(kind: str, good: bytes) -> bytes:
    if kind == "flipped byte in a table":
        offset = good.index(b"tables/inventory.software.jsonl.gz")
        return _flip(good, offset + 512 + 700)
    if kind == "flipped byte in a package file":
        offset = good.index(b"files/packages/download/")
        return _flip(good, offset + 512 + 1000)
    if kind == "flipped byte in the manifest":
        return _flip(good, good.rindex(b'"ocelot_version"') + 3)
    if kind == "truncated in the middle":
        return good[: len(good) // 2]
    if kind == "truncated at the end":
        # Without the zero blocks that end a tar: the last member is cut short.
        return good.rstrip(b"\0")[:-40]
    if kind == "foreign tar":
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo("manifest.json")
            info.size = 2
            archive.addfile(info, io.BytesIO(b"{}"))
        return buffer.getvalue()
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("ocelot-backup.json", '{"format": "ocelot-backup", "format_version": 1}')
        return buffer.getvalue()
    if kind == "empty":
        return b""
    return os.urandom(20_000)


DAMAGES = [
    "flipped byte in a table",
    "flipped byte in a package file",
    "flipped byte in the manifest",
    "truncated in the middle",
    "truncated at the end",
    "foreign tar",
    "zip",
    "empty",
    "random bytes",
]


def test_a_damaged_or_foreign_archive_is_refused_before_anything_changes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    good = back_up(home, tmp_path / "good.tar").read_bytes()
    # Something to lose: the installation moves on after the backup.
    create_user("after-backup", administrator=False)
    before, files = table_digests(), files_of(home)
    for kind in DAMAGES:
        bad = tmp_path / "bad.tar"
        bad.write_bytes(_damaged(kind, good))
        assert main(["restore", str(bad)]) == 1, kind
        error = capsys.readouterr().err
        assert error.startswith("ocelot restore: ") and error.count("\n") == 1, (kind, error)
        assert "left as it was" in error
        assert main(["restore", "--check", str(bad)]) == 1, kind
        capsys.readouterr()
        assert table_digests() == before, kind
        assert files_of(home) == files, kind
        assert not list(home.glob(".restore-*")), kind
    assert main(["restore", "--check", str(tmp_path / "good.tar")]) == 0


def _old_schema() -> dict[str, list[str]]:
    """This Ocelot's schema without the last deployment migration."""
    schema = code_schema()
    schema["deployment"] = schema["deployment"][:-1]
    return schema


def test_an_older_schema_is_refused_unless_migrate_is_asked(home: Path, tmp_path: Path) -> None:
    populate(tmp_path)
    old = _old_schema()
    old_home = tmp_path / "old-home"
    ensure_pki(old_home / "pki", old_home / "public")
    with registered_database("old", f"sqlite:///{tmp_path}/old.sqlite3"):
        executor = MigrationExecutor(connections["old"])
        executor.migrate([(app, names[-1]) for app, names in old.items()])
        assert applied_schema("old") == old
        apps = executor.loader.project_state([(a, n) for a, names in old.items() for n in names]).apps
        user = apps.get_model("auth", "User")
        user.objects.using("old").create(username="from-the-old-days", password="!")
        archive = back_up(old_home, tmp_path / "old.tar", using="old")
    assert verify_archive(archive).schema == old
    before = table_digests()

    with pytest.raises(SchemaError, match="--migrate"):
        restore_backup(archive, home)
    assert table_digests() == before

    report = restore_backup(archive, home, migrate=True)
    assert report.migrated
    assert applied_schema("default") == code_schema()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["from-the-old-days"]
    assert files_of(home) == files_of(old_home)


def test_the_backup_command_writes_a_checked_archive_and_never_overwrites_by_accident(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    target = tmp_path / "nightly.tar"
    assert main(["backup", str(target)]) == 0
    assert "backup written to" in capsys.readouterr().out
    assert verify_archive(target).tables
    assert main(["backup", str(target)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["backup", "--force", str(target)]) == 0
    assert not list(tmp_path.glob(".nightly.tar.*"))


def _rewritten(good: Path, bad: Path, table: str, change: Any, schema_change: Any = None) -> None:
    """``good`` with one table's rows changed by ``change``, every checksum made to match."""
    with tarfile.open(good) as archive:
        members = {info.name: archive.extractfile(info).read() for info in archive}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    entry = next(e for e in manifest["tables"] if e["table"] == table)
    lines = change(gzip.decompress(members[entry["member"]]).splitlines(keepends=True))
    content = b"".join(lines)
    members[entry["member"]] = gzip.compress(content)
    entry["rows"], entry["content_sha256"] = len(lines), hashlib.sha256(content).hexdigest()
    manifest["members"][entry["member"]].update(
        size=len(members[entry["member"]]), sha256=hashlib.sha256(members[entry["member"]]).hexdigest()
    )
    if schema_change is not None:
        schema_change(manifest["schema"])
    members["manifest.json"] = json.dumps(manifest).encode()
    members["manifest.json.sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest().encode()
    with tarfile.open(bad, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_restore_that_fails_while_storing_rows_leaves_the_old_data_and_files(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    good = back_up(home, tmp_path / "good.tar")
    create_user("after-backup", administrator=False)
    (home / "packages" / "download" / "new-file").write_bytes(b"made after the backup")
    before, files = table_digests(), files_of(home)
    # A well-formed archive whose software rows hold one key twice: the load fails midway,
    # after every table was emptied, earlier ones refilled, and the files were staged.
    bad = tmp_path / "duplicate-key.tar"
    _rewritten(good, bad, "inventory_software", lambda lines: [*lines, lines[-1]])
    assert verify_archive(bad)

    assert main(["restore", str(bad)]) == 1
    error = capsys.readouterr().err
    assert "could not be stored" in error and error.count("\n") == 1
    assert table_digests() == before
    assert files_of(home) == files
    assert not list(home.glob(".restore-*"))


def test_the_backup_command_streams_to_standard_output(
    home: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    populate(tmp_path)
    capsysbinary.readouterr()
    assert main(["backup", "-"]) == 0
    streamed = tmp_path / "streamed.tar"
    streamed.write_bytes(capsysbinary.readouterr().out)
    assert {entry.table: (entry.rows, entry.content_sha256) for entry in verify_archive(streamed).tables} == (
        table_digests()
    )


def test_a_backup_from_a_newer_ocelot_is_refused_even_with_migrate(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(tmp_path)
    good = back_up(home, tmp_path / "good.tar")
    before = table_digests()
    newer = tmp_path / "newer.tar"
    _rewritten(good, newer, "auth_user", list, lambda schema: schema["inventory"].append("9999_future"))
    for argv in (["restore", str(newer)], ["restore", "--migrate", str(newer)]):
        assert main(argv) == 1
        error = capsys.readouterr().err
        assert "inventory.9999_future" in error and "upgrade Ocelot first" in error
    assert table_digests() == before
