"""Backup and restore of a whole installation: the database, the package files, the keys.

The seeds back up OCS with ``mysqldump`` and restore with ``mysql`` (004, "Sauvegarder et
Restaurer la base de données"); issue 7 asks for more: one archive that moves between
database kinds (SQLite to PostgreSQL and back), taken while the server runs, checked
whole before a restore touches anything, and restored in one step.

**The archive** is an uncompressed tar (package fragments are compressed already)::

    ocelot-backup.json          first: the format marker, so a foreign file is refused early
    tables/<app>.<model>.jsonl.gz   one per table, in dependency order: one JSON array per row
    files/packages/..., files/pki/..., files/public/..., files/secret_key
    manifest.json               format version, Ocelot version, schema (applied migrations per
                                app), database kind, per member SHA-256, per table columns,
                                row count and content hash
    manifest.json.sha256        the manifest's own SHA-256: a flipped byte anywhere is caught

The manifest comes last because the member checksums are known only once the members are
written (the archive is written as one stream, never assembled in memory).

**The database content is logical**, not a dump in one vendor's SQL: rows are read through
the models of the schema the database is at (Django's historical models, built from its
applied migrations), so every value is already a Python value (booleans, aware datetimes,
JSON), and written as JSON with a fixed encoding per field type. A restore turns them back
into Python values and lets the target backend adapt them. ``pg_dump``/``mariadb-dump``
output cannot be read by another database kind, and Django's ``dumpdata`` builds model
instances and, with ``loaddata``, saves them one by one (``auto_now`` fields would be
rewritten by a bulk insert); reading ``values_list`` by primary key pages and inserting
with ``executemany`` streams a table of any size in bounded memory.

**Consistency while the server runs**: the rows are read in one snapshot. SQLite: the
online backup API copies the live file (one read transaction, WAL readers never block the
writer) and the copy is read. PostgreSQL: one ``REPEATABLE READ, READ ONLY`` transaction.
MariaDB/MySQL: ``START TRANSACTION WITH CONSISTENT SNAPSHOT``. The files are read after
the snapshot: a package is published (files renamed into place) before its row commits, so
every package of the snapshot has its files.

**A restore** verifies the whole archive first (marker, manifest, every checksum, format
version, schema known to this Ocelot), then writes the files to a staging directory beside
the live ones, then replaces every table's content in one transaction (delete, insert,
sequence reset, and a re-read of every table compared with the manifest's content hashes),
swaps the file directories in and commits. Any error rolls the transaction back and puts
the old files back. An archive made at an older schema is refused unless ``migrate`` is
asked: it is then loaded into a temporary SQLite database at its own schema, migrated
forward there, and copied into the target the same way.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps.registry import Apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend

FORMAT = "ocelot-backup"
FORMAT_VERSION = 1
MARKER = "ocelot-backup.json"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
TABLE_DIR = "tables"
FILE_DIR = "files"
# What of $OCELOT_HOME a restored installation needs so that agents keep working: the
# package tree (minus half-built staging), the CA and keys, the published CA and signing
# public key, and the secret key (console sessions survive).
HOME_DIRECTORIES = ("packages", "pki", "public")
HOME_FILES = ("secret_key",)
SKIPPED = ("packages/staging",)
PAGE = 2000
INSERT_BATCH = 500
CHUNK = 1 << 20
SNAPSHOT_ALIAS = "ocelot_backup_snapshot"
STAGING_ALIAS = "ocelot_restore_staging"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


class ArchiveError(BackupError):
    """The file is not a complete, intact Ocelot backup."""


class SchemaError(BackupError):
    """The archive's schema differs from this installation's."""


@dataclass(frozen=True)
class TableEntry:
    """One table of the archive: where its rows are and what they must hash to."""

    table: str
    model: str
    columns: list[str]
    rows: int
    content_sha256: str
    member: str


@dataclass
class Manifest:
    """What the archive holds, read from (or written to) ``manifest.json``."""

    format_version: int
    ocelot_version: str
    created_at: str
    database: str
    schema: dict[str, list[str]]
    tables: list[TableEntry]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        return sorted(name for name in self.members if name.startswith(FILE_DIR + "/"))

    def nodes(self) -> set[tuple[str, str]]:
        return {(app, name) for app, names in self.schema.items() for name in names}

    def to_json(self) -> bytes:
        body = {
            "format": FORMAT,
            "format_version": self.format_version,
            "ocelot_version": self.ocelot_version,
            "created_at": self.created_at,
            "database": self.database,
            "schema": self.schema,
            "tables": [entry.__dict__ for entry in self.tables],
            "members": self.members,
        }
        return json.dumps(body, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
            if body.get("format") != FORMAT:
                raise ArchiveError("not an Ocelot backup (manifest format)")
            return cls(
                format_version=int(body["format_version"]),
                ocelot_version=str(body["ocelot_version"]),
                created_at=str(body["created_at"]),
                database=str(body["database"]),
                schema={str(app): [str(n) for n in names] for app, names in body["schema"].items()},
                tables=[TableEntry(**entry) for entry in body["tables"]],
                members={str(name): dict(info) for name, info in body["members"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveError(f"the manifest is damaged ({exc.__class__.__name__})") from exc


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put in place."""

    manifest: Manifest
    migrated: bool


# --- values: one JSON encoding per field type ------------------------------------------


def _encoder(model_field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    kind = model_field.get_internal_type()
    if kind in ("DateTimeField", "DateField", "TimeField"):
        return lambda value: None if value is None else value.isoformat()
    if kind == "BinaryField":
        return lambda value: None if value is None else base64.b64encode(bytes(value)).decode()
    if kind in ("DecimalField", "UUIDField"):
        return lambda value: None if value is None else str(value)
    if kind == "DurationField":
        return lambda value: None if value is None else value // datetime.timedelta(microseconds=1)
    return lambda value: value


def _decoder(model_field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    kind = model_field.get_internal_type()
    parsers: dict[str, Callable[[Any], Any]] = {
        "DateTimeField": datetime.datetime.fromisoformat,
        "DateField": datetime.date.fromisoformat,
        "TimeField": datetime.time.fromisoformat,
        "BinaryField": base64.b64decode,
        "DecimalField": decimal.Decimal,
        "UUIDField": uuid.UUID,
        "DurationField": lambda value: datetime.timedelta(microseconds=value),
    }
    parse = parsers.get(kind)
    if parse is None:
        return lambda value: value
    return lambda value: None if value is None else parse(value)


def _line(row: list[Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"


# --- schema: the models of the migrations a database has applied -------------------------


def _loader(alias: str) -> MigrationLoader:
    return MigrationLoader(connections[alias], ignore_no_migrations=True)


def applied_schema(alias: str) -> dict[str, list[str]]:
    """The migrations applied to a database, per app (its schema version)."""
    schema: dict[str, list[str]] = {}
    for app, name in sorted(_loader(alias).applied_migrations or {}):
        schema.setdefault(app, []).append(name)
    return schema


def code_schema() -> dict[str, list[str]]:
    """Every migration this Ocelot knows, per app: the schema a migrated database is at."""
    schema: dict[str, list[str]] = {}
    for app, name in sorted(_loader("default").graph.nodes):
        schema.setdefault(app, []).append(name)
    return schema


def _nodes(schema: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(app, name) for app, names in schema.items() for name in names]


def _state_apps(schema: dict[str, list[str]]) -> Apps:
    loader = _loader("default")
    unknown = set(_nodes(schema)) - set(loader.graph.nodes)
    if unknown:
        first = sorted(unknown)[0]
        raise SchemaError(
            f"the schema includes migration {first[0]}.{first[1]}, unknown to this Ocelot "
            "(made by a newer version?)"
        )
    if not schema:
        raise BackupError("the database has no schema: run 'ocelot init' first")
    return loader.project_state(_nodes(schema), at_end=True).apps


def _dependencies(model: type[models.Model]) -> set[str]:
    related = set()
    for model_field in model._meta.concrete_fields:
        target = getattr(model_field, "related_model", None)
        if target is not None and target is not model:
            related.add(target._meta.label_lower)
    return related


def ordered_models(apps: Apps) -> list[type[models.Model]]:
    """Every table's model, each after the models it refers to (cycles broken by name)."""
    candidates: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        candidates.setdefault(meta.label_lower, model)
    ordered: list[type[models.Model]] = []
    placed: set[str] = set()
    pending = dict(sorted(candidates.items()))
    while pending:
        ready = [
            label for label, model in pending.items() if not (_dependencies(model) & set(pending)) - {label}
        ] or [next(iter(pending))]
        for label in ready:
            ordered.append(pending.pop(label))
            placed.add(label)
    return ordered


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def _read_rows(model: type[models.Model], alias: str) -> Iterator[list[Any]]:
    """Every row, encoded, by primary key pages (bounded memory on every backend)."""
    fields = _columns(model)
    names = [f.attname for f in fields]
    encoders = [_encoder(f) for f in fields]
    pk = model._meta.pk
    assert pk is not None
    position = names.index(pk.attname)
    manager = model._default_manager.using(alias)
    last: Any = None
    while True:
        query = manager.order_by(pk.attname)
        if last is not None:
            query = query.filter(**{f"{pk.attname}__gt": last})
        page = list(query.values_list(*names)[:PAGE])
        for row in page:
            yield [encode(value) for encode, value in zip(encoders, row, strict=True)]
        if len(page) < PAGE:
            return
        last = page[-1][position]


def table_digests(alias: str = "default", schema: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Per table: row count and the SHA-256 of its rows in the archive's encoding.

    Two databases of any kinds hold the same content exactly when these are equal; a
    restore compares them with the manifest before it commits.
    """
    apps = _state_apps(schema if schema is not None else applied_schema(alias))
    digests = {}
    for model in ordered_models(apps):
        digest, count = hashlib.sha256(), 0
        for row in _read_rows(model, alias):
            digest.update(_line(row))
            count += 1
        digests[model._meta.db_table] = (count, digest.hexdigest())
    return digests


# --- database aliases for a snapshot copy or a staging database --------------------------


def _add_alias(alias: str, settings_dict: dict[str, Any]) -> None:
    """A connection under ``alias`` for this thread, without touching the configured ones.

    It is not added to the settings: Django (and its test isolation) then treats it as a
    dynamically created connection, and nothing that walks the configured databases sees it.
    """
    normalized = connections.configure_settings(
        {"default": dict(connections["default"].settings_dict), alias: dict(settings_dict)}
    )[alias]
    connections[alias] = load_backend(normalized["ENGINE"]).DatabaseWrapper(normalized, alias)


def _drop_alias(alias: str) -> None:
    try:
        connection = getattr(connections._connections, alias)  # type: ignore[attr-defined]
    except AttributeError:
        return
    with contextlib.suppress(Exception):
        connection.close()
    del connections[alias]


def _sqlite_settings(path: Path) -> dict[str, Any]:
    from ocelot.server.config import database_settings

    settings_dict = database_settings(f"sqlite:///{path}")
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["TEST"] = {}
    return settings_dict


@contextlib.contextmanager
def registered_database(alias: str, url: str) -> Iterator[str]:
    """``url`` (as ``OCELOT_DATABASE_URL`` spells it) usable as ``alias`` for the block.

    For restoring into, or comparing with, a database other than the configured one.
    """
    from ocelot.server.config import database_settings

    settings_dict = database_settings(url)
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["TEST"] = {}
    _add_alias(alias, settings_dict)
    try:
        yield alias
    finally:
        _drop_alias(alias)


@contextlib.contextmanager
def _snapshot(using: str) -> Iterator[str]:
    """An alias whose reads all see one consistent state of the ``using`` database."""
    source = connections[using]
    vendor = source.vendor
    if vendor == "sqlite":
        # Beside the database, not in /tmp (often a small tmpfs): the copy is as big as it.
        live_path = Path(str(source.settings_dict["NAME"]))
        with tempfile.TemporaryDirectory(prefix=".ocelot-backup-", dir=live_path.parent) as tmp:
            copy = Path(tmp) / "snapshot.sqlite3"
            live = sqlite3.connect(str(live_path), timeout=30)
            target = sqlite3.connect(str(copy))
            try:
                live.backup(target)
            finally:
                target.close()
                live.close()
            _add_alias(SNAPSHOT_ALIAS, _sqlite_settings(copy))
            try:
                yield SNAPSHOT_ALIAS
            finally:
                _drop_alias(SNAPSHOT_ALIAS)
        return
    settings_dict = dict(source.settings_dict)
    settings_dict["CONN_MAX_AGE"] = 0
    _add_alias(SNAPSHOT_ALIAS, settings_dict)
    try:
        with transaction.atomic(using=SNAPSHOT_ALIAS), connections[SNAPSHOT_ALIAS].cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            elif vendor == "mysql":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            else:
                raise BackupError(f"backups of {vendor} databases are not supported")
            yield SNAPSHOT_ALIAS
    finally:
        _drop_alias(SNAPSHOT_ALIAS)


# --- writing --------------------------------------------------------------------------


def _ocelot_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ocelot-inventory")
    except PackageNotFoundError:
        from ocelot import __version__

        return __version__


class _HashingReader(io.RawIOBase):
    """A file read once, hashed on the way (the tar member's checksum)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _home_files(home: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every regular file of the home that a backup keeps."""
    for name in HOME_FILES:
        path = home / name
        if path.is_file() and not path.is_symlink():
            yield name, path
    for directory in HOME_DIRECTORIES:
        root = home / directory
        if not root.is_dir():
            continue
        for folder, subdirs, files in os.walk(root):
            relative_folder = Path(folder).relative_to(home).as_posix()
            subdirs[:] = sorted(d for d in subdirs if f"{relative_folder}/{d}" not in SKIPPED)
            for file_name in sorted(files):
                path = Path(folder) / file_name
                if path.is_file() and not path.is_symlink():
                    yield f"{relative_folder}/{file_name}", path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(datetime.datetime.now(datetime.UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def write_backup(destination: IO[bytes], home: Path, *, using: str = "default") -> Manifest:
    """Write a backup of the ``using`` database and of ``home``'s files to ``destination``.

    The destination is written as a stream (a file, a pipe, an HTTP response); each table
    goes through a temporary compressed file first, because a tar member's size comes
    before its data.
    """
    created_at = datetime.datetime.now(datetime.UTC).isoformat()
    members: dict[str, dict[str, Any]] = {}
    entries: list[TableEntry] = []
    with tarfile.open(fileobj=destination, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        marker = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION}).encode()
        _add_bytes(archive, MARKER, marker)
        members[MARKER] = {"size": len(marker), "sha256": hashlib.sha256(marker).hexdigest()}
        with _snapshot(using) as alias, tempfile.TemporaryDirectory(prefix="ocelot-backup-") as tmp:
            vendor = connections[using].vendor
            schema = applied_schema(alias)
            apps = _state_apps(schema)
            for model in ordered_models(apps):
                member = f"{TABLE_DIR}/{model._meta.label_lower}.jsonl.gz"
                spool = Path(tmp) / "table.jsonl.gz"
                content, count = hashlib.sha256(), 0
                with (
                    spool.open("wb") as raw,
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out,
                ):
                    for row in _read_rows(model, alias):
                        line = _line(row)
                        content.update(line)
                        out.write(line)
                        count += 1
                with spool.open("rb") as handle:
                    reader = _HashingReader(handle)
                    info = archive.gettarinfo(str(spool), arcname=member)
                    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                    archive.addfile(info, reader)  # type: ignore[arg-type]
                members[member] = {"size": info.size, "sha256": reader.digest.hexdigest()}
                entries.append(
                    TableEntry(
                        table=model._meta.db_table,
                        model=model._meta.label_lower,
                        columns=[str(f.column) for f in _columns(model)],
                        rows=count,
                        content_sha256=content.hexdigest(),
                        member=member,
                    )
                )
        # After the snapshot: every package in it was published before its row committed.
        for relative, path in _home_files(home):
            member = f"{FILE_DIR}/{relative}"
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                info = archive.gettarinfo(fileobj=handle, arcname=member)
                info.uid, info.gid, info.uname, info.gname = 0, 0, "", ""
                info.mode &= 0o777
                archive.addfile(info, reader)  # type: ignore[arg-type]
            members[member] = {"size": info.size, "sha256": reader.digest.hexdigest(), "mode": info.mode}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            ocelot_version=_ocelot_version(),
            created_at=created_at,
            database=vendor,
            schema=schema,
            tables=entries,
            members=members,
        )
        body = manifest.to_json()
        _add_bytes(archive, MANIFEST, body)
        _add_bytes(archive, MANIFEST_SUM, hashlib.sha256(body).hexdigest().encode() + b"\n")
    return manifest


# --- reading and checking ---------------------------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{path.name} is not an Ocelot backup (not a tar archive: {exc})") from exc


def _safe_member_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return not pure.is_absolute() and ".." not in pure.parts and name == pure.as_posix()


def verify_archive(path: Path) -> Manifest:
    """Read the whole archive and check it; the manifest, or ArchiveError saying what is wrong.

    Checks: a tar whose first member is the format marker; only regular members with safe
    names; the manifest and its own checksum; every member listed, present once, with its
    size and SHA-256; every table member a complete gzip stream; a format version this
    Ocelot reads.
    """
    seen: dict[str, tuple[int, str]] = {}
    manifest_body: bytes | None = None
    manifest_sum: bytes | None = None
    try:
        with _open_archive(path) as archive:
            first = True
            for info in archive:
                if first and info.name != MARKER:
                    raise ArchiveError(f"{path.name} is not an Ocelot backup (no format marker)")
                first = False
                if not info.isreg() or not _safe_member_name(info.name):
                    raise ArchiveError(f"unexpected member {info.name!r} in the archive")
                if info.name in seen or (info.name == MANIFEST and manifest_body is not None):
                    raise ArchiveError(f"member {info.name!r} appears twice")
                handle = archive.extractfile(info)
                assert handle is not None
                if info.name in (MANIFEST, MANIFEST_SUM, MARKER):
                    data = handle.read()
                    if len(data) != info.size:
                        raise ArchiveError("the archive is truncated")
                    if info.name == MANIFEST:
                        manifest_body = data
                        continue
                    if info.name == MANIFEST_SUM:
                        manifest_sum = data
                        continue
                    marker = json.loads(data)
                    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
                        raise ArchiveError(f"{path.name} is not an Ocelot backup (wrong format marker)")
                    if int(marker.get("format_version", 0)) > FORMAT_VERSION:
                        raise ArchiveError(
                            f"backup format {marker.get('format_version')} is newer than this Ocelot reads "
                            f"({FORMAT_VERSION})"
                        )
                    seen[info.name] = (len(data), hashlib.sha256(data).hexdigest())
                    continue
                digest, size = hashlib.sha256(), 0
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                seen[info.name] = (size, digest.hexdigest())
            if first:
                raise ArchiveError(f"{path.name} is not an Ocelot backup (empty archive)")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{path.name} is truncated or damaged ({exc})") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path.name} is not an Ocelot backup (unreadable marker)") from exc
    if manifest_body is None or manifest_sum is None:
        raise ArchiveError(f"{path.name} is truncated or damaged (no manifest at its end)")
    if manifest_sum.strip() != hashlib.sha256(manifest_body).hexdigest().encode():
        raise ArchiveError(f"{path.name} is damaged: the manifest does not match its checksum")
    manifest = Manifest.from_json(manifest_body)
    if manifest.format_version > FORMAT_VERSION:
        raise ArchiveError(f"backup format {manifest.format_version} is newer than this Ocelot reads")
    listed, present = set(manifest.members), set(seen)
    if listed - present:
        raise ArchiveError(f"{path.name} is truncated or damaged: {sorted(listed - present)[0]} is missing")
    if present - listed:
        raise ArchiveError(f"{path.name} is damaged: {sorted(present - listed)[0]} is not in the manifest")
    for name, (size, checksum) in seen.items():
        expected = manifest.members[name]
        if size != expected.get("size") or checksum != expected.get("sha256"):
            raise ArchiveError(f"{path.name} is damaged: {name} does not match its checksum")
    for entry in manifest.tables:
        if entry.member not in seen or not entry.member.startswith(TABLE_DIR + "/"):
            raise ArchiveError(f"{path.name} is damaged: no rows for table {entry.table}")
    for name in manifest.files:
        relative = name[len(FILE_DIR) + 1 :]
        top = relative.split("/", 1)[0]
        if top not in HOME_DIRECTORIES and relative not in HOME_FILES:
            raise ArchiveError(f"unexpected file {name!r} in the archive")
    return manifest


def _table_rows(archive: tarfile.TarFile, entry: TableEntry) -> Iterator[list[Any]]:
    handle = archive.extractfile(entry.member)
    if handle is None:
        raise ArchiveError(f"no rows for table {entry.table}")
    with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
        for line in stream:
            yield json.loads(line)


# --- restoring ----------------------------------------------------------------------------


def _decoded(model: type[models.Model], columns: list[str], rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    fields = {str(f.column): f for f in _columns(model)}
    if set(columns) != set(fields) or len(columns) != len(fields):
        raise SchemaError(f"table {model._meta.db_table}: the archive's columns differ from the schema's")
    decoders = [_decoder(fields[column]) for column in columns]
    for row in rows:
        yield [decode(value) for decode, value in zip(decoders, row, strict=True)]


def _insert(alias: str, model: type[models.Model], columns: list[str], rows: Iterable[list[Any]]) -> int:
    connection = connections[alias]
    fields = {str(f.column): f for f in _columns(model)}
    ordered = [fields[column] for column in columns]
    quote = connection.ops.quote_name
    # Table and column names come from the models, quoted; every value is a parameter.
    names, marks = ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    count, batch = 0, []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(
                [f.get_db_prep_save(value, connection) for f, value in zip(ordered, row, strict=True)]
            )
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _empty_tables(alias: str, tables: list[type[models.Model]]) -> None:
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(quote(m._meta.db_table) for m in tables)
            cursor.execute(f"TRUNCATE {names} CASCADE")
            return
        for model in reversed(tables):
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608


def _reset_sequences(alias: str, tables: list[type[models.Model]]) -> None:
    """The next generated key follows the restored rows.

    PostgreSQL: ``setval`` per sequence (transactional). SQLite: ``sqlite_sequence`` set to
    each table's maximum. MariaDB/MySQL: nothing to do, and nothing may be done inside the
    transaction (``ALTER TABLE ... AUTO_INCREMENT`` commits): InnoDB raises a table's counter
    past every key inserted explicitly, and DELETE never lowers it, so no key is reused.
    """
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in connection.ops.sequence_reset_sql(no_style(), tables):
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone() is None:
                return
            for model in tables:
                pk = model._meta.pk
                if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
                    continue
                table, column = model._meta.db_table, str(pk.column)
                quote = connection.ops.quote_name
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                key, name = quote(column), quote(table)
                top = f"SELECT %s, MAX({key}) FROM {name} HAVING MAX({key}) IS NOT NULL"  # noqa: S608
                cursor.execute(f"INSERT INTO sqlite_sequence (name, seq) {top}", [table])


@dataclass
class _FileSwap:
    """Restored home files staged beside the live ones, swapped in with renames."""

    home: Path
    staging: Path
    swapped: list[tuple[Path, Path | None]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [*HOME_DIRECTORIES, *HOME_FILES]

    def swap_in(self) -> None:
        old = self.staging / "old"
        old.mkdir()
        for name in self.names():
            live, new = self.home / name, self.staging / "new" / name
            kept = old / name if live.exists() else None
            if kept is not None:
                os.rename(live, kept)
            self.swapped.append((live, kept))
            if new.exists():
                os.rename(new, live)

    def swap_back(self) -> None:
        for live, kept in reversed(self.swapped):
            if live.exists():
                trash = self.staging / "failed" / live.name
                trash.parent.mkdir(parents=True, exist_ok=True)
                os.rename(live, trash)
            if kept is not None:
                os.rename(kept, live)
        self.swapped.clear()

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _stage_files(archive: tarfile.TarFile, manifest: Manifest, home: Path) -> _FileSwap:
    """Write the archive's home files under ``home/.restore-*/new`` (same file system)."""
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=home))
    swap = _FileSwap(home, staging)
    new = staging / "new"
    try:
        for directory in HOME_DIRECTORIES:
            (new / directory).mkdir(parents=True)
        (new / "packages" / "staging").mkdir()
        for name in manifest.files:
            relative = name[len(FILE_DIR) + 1 :]
            target = new / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = archive.extractfile(name)
            assert handle is not None
            digest = hashlib.sha256()
            mode = int(manifest.members[name].get("mode", 0o644)) & 0o777
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as out:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != manifest.members[name]["sha256"]:
                raise ArchiveError(f"{name} changed since the archive was checked")
    except BaseException:
        swap.discard()
        raise
    return swap


def _load(
    alias: str,
    models_in_order: list[type[models.Model]],
    source: Iterable[tuple[type[models.Model], list[str], Iterable[list[Any]]]],
) -> None:
    """Replace every table's rows with ``source``'s (inside the caller's transaction)."""
    connection = connections[alias]
    _empty_tables(alias, models_in_order)
    for model, columns, rows in source:
        _insert(alias, model, columns, rows)
    _reset_sequences(alias, models_in_order)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            if cursor.fetchone() is not None:
                raise BackupError("the restored rows break a foreign key")


def _expected(manifest: Manifest) -> dict[str, Any]:
    return {entry.table: (entry.rows, entry.content_sha256) for entry in manifest.tables}


def _check_content(alias: str, schema: dict[str, list[str]], expected: dict[str, Any]) -> None:
    digests = table_digests(alias, schema)
    for table, wanted in expected.items():
        if digests.get(table) != wanted:
            raise BackupError(f"table {table} does not read back as archived; nothing was restored")


def _archive_source(
    archive: tarfile.TarFile, manifest: Manifest, apps: Apps
) -> Iterator[tuple[type[models.Model], list[str], Iterable[list[Any]]]]:
    by_label = {m._meta.label_lower: m for m in ordered_models(apps)}
    if set(by_label) != {entry.model for entry in manifest.tables}:
        raise SchemaError("the archive's tables differ from its schema's")
    for entry in manifest.tables:
        model = by_label[entry.model]
        yield model, entry.columns, _decoded(model, entry.columns, _table_rows(archive, entry))


def _database_source(
    alias: str, models_in_order: list[type[models.Model]]
) -> Iterator[tuple[type[models.Model], list[str], Iterable[list[Any]]]]:
    for model in models_in_order:
        columns = [str(f.column) for f in _columns(model)]
        yield model, columns, _decoded(model, columns, _read_rows(model, alias))


@contextlib.contextmanager
def _foreign_keys_off(alias: str) -> Iterator[None]:
    """MariaDB/MySQL check foreign keys row by row: the load order alone is not enough for
    self references, and the whole content is checked against the manifest anyway."""
    connection = connections[alias]
    if connection.vendor != "mysql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


def _migrated_copy(archive: tarfile.TarFile, manifest: Manifest, tmp: Path) -> dict[str, list[str]]:
    """Load the archive into a temporary SQLite database at its own schema, migrate that
    forward to this Ocelot's schema, and leave it registered as STAGING_ALIAS."""
    _add_alias(STAGING_ALIAS, _sqlite_settings(tmp / "staging.sqlite3"))
    connection = connections[STAGING_ALIAS]
    executor = MigrationExecutor(connection)
    targets: list[tuple[str, str | None]] = []
    leaves = executor.loader.graph.leaf_nodes()
    for app in sorted({app for app, _ in leaves}):
        names = manifest.schema.get(app)
        if not names:
            targets.append((app, None))
            continue
        app_nodes = {(app, name) for name in names}
        graph = executor.loader.graph
        own = [node for node in app_nodes if not {c.key for c in graph.node_map[node].children} & app_nodes]
        targets.append(sorted(own)[-1])
    executor.migrate(targets)  # type: ignore[arg-type]
    old_apps = _state_apps(manifest.schema)
    with transaction.atomic(using=STAGING_ALIAS):
        _load(STAGING_ALIAS, ordered_models(old_apps), _archive_source(archive, manifest, old_apps))
        _check_content(STAGING_ALIAS, manifest.schema, _expected(manifest))
    call_command("migrate", database=STAGING_ALIAS, interactive=False, verbosity=0)
    return applied_schema(STAGING_ALIAS)


def restore_backup(path: Path, home: Path, *, using: str = "default", migrate: bool = False) -> RestoreReport:
    """Replace the ``using`` database's content and ``home``'s files with the archive's.

    Nothing changes unless the whole archive checks out; the tables are replaced in one
    transaction and the files swapped in just before it commits.
    """
    manifest = verify_archive(path)
    current = code_schema()
    archived = manifest.nodes()
    unknown = archived - set(_nodes(current))
    if unknown:
        app, name = sorted(unknown)[0]
        raise SchemaError(
            f"the backup's schema includes migration {app}.{name}, unknown to this Ocelot "
            f"(it was made by Ocelot {manifest.ocelot_version}): upgrade Ocelot first"
        )
    needs_migration = archived != set(_nodes(current))
    if needs_migration and not migrate:
        raise SchemaError(
            f"the backup was made at another schema version (Ocelot {manifest.ocelot_version}); "
            "restore it with --migrate to migrate it to this version"
        )
    # The target at this Ocelot's schema, as 'ocelot server' leaves it.
    call_command("migrate", database=using, interactive=False, verbosity=0)
    apps = _state_apps(current)
    models_in_order = ordered_models(apps)
    home.mkdir(parents=True, exist_ok=True)
    # The staging database of --migrate beside the live files, not in a small /tmp.
    with (
        tempfile.TemporaryDirectory(prefix=".ocelot-restore-", dir=home) as tmp,
        _open_archive(path) as archive,
    ):
        try:
            if needs_migration:
                current_schema = _migrated_copy(archive, manifest, Path(tmp))
                if set(_nodes(current_schema)) != set(_nodes(current)):
                    raise SchemaError("the migrated copy did not reach this Ocelot's schema")
                source = _database_source(STAGING_ALIAS, models_in_order)
                expected = table_digests(STAGING_ALIAS, current)
            else:
                source = _archive_source(archive, manifest, apps)
                expected = _expected(manifest)
            swap = _stage_files(archive, manifest, home)
            try:
                with _foreign_keys_off(using), transaction.atomic(using=using):
                    _load(using, models_in_order, source)
                    _check_content(using, current, expected)
                    swap.swap_in()
            except BaseException:
                swap.swap_back()
                raise
            finally:
                swap.discard()
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise BackupError(
                f"the archived rows could not be stored, everything was rolled back ({reason})"
            ) from exc
        except (ValueError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"{path.name} has unreadable rows ({exc})") from exc
        finally:
            _drop_alias(STAGING_ALIAS)
    return RestoreReport(manifest=manifest, migrated=needs_migration)
