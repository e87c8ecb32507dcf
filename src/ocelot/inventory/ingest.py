"""Storing an inventory: one transaction per computer (protocol.md §5-§6, security.md R3-R4).

Order of work:

1. Software names go into the shared catalogue first, in short transactions of their own
   (insert-or-ignore in key order), so that the long per-computer transaction never
   fights other agents over catalogue rows (OCS loses inventories to exactly these
   deadlocks: shared/reference-ocs/README.md).
2. In one transaction: lock or create the computer, merge an OLD_DEVICEID, write the
   sections the CHECKSUM marks as changed (only the rows that differ when
   INVENTORY_WRITE_DIFF is on), update the computer's own fields and bookkeeping, apply the
   account info rules, sync the package history, and merge automatic duplicates.
3. Deadlocks, lock time-outs and the lost race of two first inventories of one DEVICEID
   are retried with jitter; past the budget the agent gets a 503 and retries later.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from ocelot.inventory import account_info, duplicates, groups
from ocelot.inventory.models import (
    SECTION_MODELS,
    Computer,
    ContactSession,
    OtherSection,
    PackageHistoryEntry,
    SectionRow,
    Software,
    SoftwareInstallation,
)
from ocelot.inventory.setting_values import global_values
from ocelot.protocol.collector import collector_paused
from ocelot.protocol.messages import Inventory, InventoryReply, Row
from ocelot.protocol.sections import SECTIONS, SECTIONS_BY_NAME

_ATTEMPTS = 6
SOFTWARE_BIT = SECTIONS_BY_NAME["software"].bit
_CATALOGUE_CHUNK = 500
# USERID of a service account says nothing about the user (protocol.md §6.1).
_SYSTEM_USERS = frozenset({"system", "localsystem"})


# Work that domains above inventory do once an inventory is stored, inside its
# transaction (the IP-discovery election, protocol.md §11): they register here when Django
# starts, so inventory never imports them (design.md §3). Arguments: the computer, the
# inventory, the global settings, and whether it came from a file (local import).
InventoryHook = Callable[[Computer, Inventory, dict[str, int | str], bool], None]
inventory_hooks: list[InventoryHook] = []


def register_inventory_hook(hook: InventoryHook) -> None:
    """Add a hook (once); inventories stored from then on run it."""
    if hook not in inventory_hooks:
        inventory_hooks.append(hook)


class IngestError(Exception):
    """An inventory that could not be stored; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


Triple = tuple[str, str, str]


def software_key(name: str, publisher: str, version: str) -> str:
    return hashlib.sha256(
        "\x00".join((name, publisher, version)).encode("utf-8", "surrogatepass")
    ).hexdigest()


@lru_cache(maxsize=16384)
def _cached_key(triple: Triple) -> str:
    """:func:`software_key` remembered: every agent of a site lists mostly the same few
    thousand packages, and reading and hashing the 800 of an inventory took 4 ms (1.9 ms
    remembered, best of 95 inventories on a loaded machine). A key depends on the triple
    alone, so nothing can go stale; 16,384 of them hold at most about 8 MiB."""
    return software_key(*triple)


def _text(row: Row, name: str) -> str:
    value = row.get(name)
    return value if isinstance(value, str) else ""


def _triple(row: Row) -> Triple:
    return (_text(row, "name"), _text(row, "publisher"), _text(row, "version"))


def ensure_software(rows: Sequence[Row]) -> dict[Triple, int]:
    """Catalogue ids for every name/publisher/version in ``rows``, creating missing entries.

    Keyed by the triple itself, so that the rows find their id without hashing again."""
    wanted: dict[str, Triple] = {_cached_key(triple): triple for triple in set(map(_triple, rows))}
    keys = sorted(wanted)
    ids = _catalogue_ids(keys)
    missing = [key for key in keys if key not in ids]
    if missing:
        for attempt in range(_ATTEMPTS):
            try:
                with transaction.atomic():
                    Software.objects.bulk_create(
                        [
                            Software(
                                key=key, name=wanted[key][0], publisher=wanted[key][1], version=wanted[key][2]
                            )
                            for key in missing
                        ],
                        ignore_conflicts=True,
                        batch_size=_CATALOGUE_CHUNK,
                    )
                break
            except OperationalError:
                if attempt == _ATTEMPTS - 1:
                    raise
                _backoff(attempt)
        ids.update(_catalogue_ids(missing))
    return {wanted[key]: id_ for key, id_ in ids.items()}


def _catalogue_ids(keys: list[str]) -> dict[str, int]:
    """Catalogue ids of the given keys that exist.

    Plain SQL: the ORM prepared each of the hundreds of bound values of ``key__in`` through
    the field API, about half the time of the lookup. PostgreSQL gets the keys as one
    parameter: planning ``IN`` with 500 bound values cost about 10 ms per chunk of a full
    inventory (bench.profile_ingest)."""
    ids: dict[str, int] = {}
    connection = transaction.get_connection()
    table = connection.ops.quote_name(Software._meta.db_table)
    key = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The keys are hexadecimal digests: joined with commas they travel as one text
            # value, which psycopg quotes at once instead of element by element.
            sql = f"SELECT {key}, id FROM {table} WHERE {key} = ANY(string_to_array(%s, ','))"  # noqa: S608
            for start in range(0, len(keys), 5000):
                cursor.execute(sql, [",".join(keys[start : start + 5000])])
                ids.update(cursor.fetchall())
            return ids
        for start in range(0, len(keys), _CATALOGUE_CHUNK):
            chunk = keys[start : start + _CATALOGUE_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT {key}, id FROM {table} WHERE {key} IN ({placeholders})", chunk)  # noqa: S608
            ids.update(cursor.fetchall())
    return ids


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * 2**attempt))


# ---------------------------------------------------------------- section rows


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    skip = {"id", "computer"}
    return [f for f in model._meta.concrete_fields if f.name not in skip]  # type: ignore[misc]


Cleaner = Callable[[object], object]


def _cleaner(field: models.Field[Any, Any]) -> Cleaner:
    """How one column stores a value: text bounded by the column, ints as given, JSON dicts."""
    if isinstance(field, models.JSONField):
        return lambda value: value if isinstance(value, dict) else {}
    if isinstance(field, models.BigIntegerField | models.IntegerField | models.ForeignKey):
        return lambda value: value if isinstance(value, int) else None
    limit = field.max_length
    if limit:
        return lambda value: value[:limit] if isinstance(value, str) else ""
    return lambda value: value if isinstance(value, str) else ""


def _clean(field: models.Field[Any, Any], value: object) -> object:
    """A value as the column stores it (see :func:`_cleaner`)."""
    return _cleaner(field)(value)


@cache
def _layout(model: type[models.Model]) -> tuple[list[str], list[Cleaner]]:
    """Column names and their cleaners, worked out once per model: an inventory cleans
    tens of thousands of values (bench/README.md, "Where the time goes")."""
    columns = _columns(model)
    return [f.attname for f in columns], [_cleaner(f) for f in columns]


def _hashable(value: object) -> object:
    if isinstance(value, dict):
        # Most rows have nothing extra, and json.dumps of an empty mapping is "{}".
        return json.dumps(value, sort_keys=True, default=str) if value else "{}"
    return value


def _key(values: Iterable[object]) -> tuple[object, ...]:
    """A row as a hashable tuple, JSON columns canonicalised."""
    return tuple(_hashable(value) for value in values)


def _insert(
    model: type[SectionRow], computer: Computer, names: list[str], rows: list[tuple[object, ...]]
) -> None:
    """Insert rows with one parameterised statement per batch, or COPY on PostgreSQL.

    ``bulk_create`` builds a model instance and prepares every value through the field
    API; for the hundreds of software rows of each inventory that dominated the time of
    the whole request. Values here are already clean (``_clean``); only JSON needs the
    backend's own adaptation. On PostgreSQL, psycopg's ``executemany`` still sends one
    statement per row: COPY sends them all at once (800 software rows: about 60 ms
    against 10 ms, bench/README.md).
    """
    connection = transaction.get_connection()
    fields = {f.attname: f for f in _columns(model)}
    json_positions = [i for i, name in enumerate(names) if isinstance(fields[name], models.JSONField)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ["computer_id", *names])
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                values = list(row)
                for i in json_positions:
                    value = values[i]
                    # Most rows have nothing extra.
                    values[i] = "{}" if value == {} else json.dumps(value)
                copy.write_row([computer.pk, *values])
        return
    placeholders = ", ".join(["%s"] * (len(names) + 1))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    empty: dict[int, object] = {}
    params = []
    for row in rows:
        values = list(row)
        for i in json_positions:
            value = values[i]
            if value == {}:
                # Most rows have nothing extra: adapt the empty mapping once.
                if i not in empty:
                    empty[i] = fields[names[i]].get_db_prep_save({}, connection)
                values[i] = empty[i]
            else:
                values[i] = fields[names[i]].get_db_prep_save(value, connection)
        params.append([computer.pk, *values])
    with connection.cursor() as cursor:
        for start in range(0, len(params), 500):
            cursor.executemany(sql, params[start : start + 500])


RowCleaner = Callable[[Row], tuple[object, ...]]


@cache
def _row_cleaner(model: type[models.Model]) -> RowCleaner:
    """One function that cleans a whole row of ``model`` as :func:`_cleaner` would, each
    column written out: a first inventory cleans about 12,000 values, and a call per value
    cost more than the cleaning (bench/README.md, "Where the time goes"). The source is
    made from the model's own column names and lengths, nothing an agent sends."""
    parts = []
    for i, field in enumerate(_columns(model)):
        value, get = f"v{i}", f"get({field.attname!r})"
        if isinstance(field, models.JSONField):
            parts.append(f"({value} if isinstance({value} := {get}, dict) else {{}})")
        elif isinstance(field, models.BigIntegerField | models.IntegerField | models.ForeignKey):
            parts.append(f"({value} if isinstance({value} := {get}, int) else None)")
        elif field.max_length:
            parts.append(f"({value}[:{int(field.max_length)}] if isinstance({value} := {get}, str) else '')")
        else:
            parts.append(f"({value} if isinstance({value} := {get}, str) else '')")
    source = f"def clean(row):\n    get = row.get\n    return ({', '.join(parts)},)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<row cleaner of {model.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["clean"]  # type: ignore[no-any-return]


def clean_rows(model: type[models.Model], rows: Sequence[Row]) -> list[tuple[object, ...]]:
    """Rows as the model's columns store them, in column order (see :func:`_layout`).

    Software rows carry their catalogue id under "software_id", like the column."""
    clean = _row_cleaner(model)
    return [clean(row) for row in rows]


def replace_rows(
    model: type[SectionRow],
    computer: Computer,
    wanted: list[tuple[object, ...]],
    *,
    write_diff: bool,
    fresh: bool = False,
) -> None:
    """Make the computer's rows of one section equal to ``wanted`` (from :func:`clean_rows`).

    With ``write_diff`` only the differing rows are deleted and inserted: rows compare as
    whole tuples (protocol.md §5.3, INVENTORY_WRITE_DIFF), as a multiset. ``fresh`` says
    the computer was just created and has no rows yet.
    """
    names, _ = _layout(model)
    if fresh:
        to_insert = wanted
    elif write_diff:
        current: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for values in model.objects.filter(computer=computer).values_list("pk", *names):
            current[_key(values[1:])].append(values[0])
        wanted_keys = [_key(values) for values in wanted]
        counts = Counter(wanted_keys)
        to_delete: list[int] = []
        for key, ids in current.items():
            keep = min(len(ids), counts.get(key, 0))
            to_delete.extend(ids[keep:])
            counts[key] -= keep
        to_insert = []
        for values, key in zip(wanted, wanted_keys, strict=True):
            if counts.get(key, 0) > 0:
                counts[key] -= 1
                to_insert.append(values)
        for start in range(0, len(to_delete), 500):
            model.objects.filter(pk__in=to_delete[start : start + 500]).delete()
    else:
        model.objects.filter(computer=computer).delete()
        to_insert = wanted
    if to_insert:
        _insert(model, computer, names, to_insert)


def _software_rows(rows: Sequence[Row], ids: dict[Triple, int]) -> list[Row]:
    return [{**row, "software_id": ids[_triple(row)]} for row in rows]


# ---------------------------------------------------------------- the computer itself

_COMPUTER_FIELDS = [
    f
    for f in Computer._meta.concrete_fields
    if f.name
    not in {
        "id",
        "device_id",
        "checksum",
        "fidelity",
        "quality",
        "first_seen_at",
        "last_contact_at",
        "last_inventory_at",
        "source_ip",
        "user_agent",
        "imported",
    }
]


def _update_computer(computer: Computer, inventory: Inventory, source_ip: str) -> None:
    fields = inventory.computer_fields
    if not inventory.sections.get("hardware"):
        return
    for field in _COMPUTER_FIELDS:
        if field.name == "user_id":
            new = _text(fields, "user_id")
            if new.lower() in _SYSTEM_USERS and computer.user_id:
                continue
        setattr(computer, field.attname, _clean(field, fields.get(field.name)))
    # IPADDR is the interface address the agent connected from, if it has one (§6.1).
    addresses = {_text(row, "ip_address") for row in inventory.sections.get("networks", [])}
    if source_ip and source_ip in addresses:
        computer.ip_address = source_ip


def _other_rows(inventory: Inventory) -> list[Row]:
    return [
        {"tag": tag[:64], "data": data} for tag, items in inventory.other_sections.items() for data in items
    ]


def _prepare(
    inventory: Inventory, settings: dict[str, int | str], software_ids: dict[Triple, int]
) -> dict[str, list[tuple[object, ...]]]:
    """Clean the rows that will probably be written before the transaction starts: on
    SQLite the write lock is held from BEGIN to COMMIT, so Python work done inside it makes
    every other inventory wait (bench/README.md). Sections the CHECKSUM says are unchanged
    are left out; ``_store`` cleans them itself if the computer turns out to be new."""
    bits = inventory.changed_bits
    maybe_diff = bool(settings["INVENTORY_DIFF"]) and bits is not None
    prepared: dict[str, list[tuple[object, ...]]] = {}
    for spec in SECTIONS:
        if spec.name == "hardware" or (maybe_diff and spec.bit and not (bits or 0) & spec.bit):
            continue
        rows = inventory.sections.get(spec.name, [])
        if spec.name == "software":
            if rows and not software_ids:
                continue
            prepared[spec.name] = clean_rows(SoftwareInstallation, _software_rows(rows, software_ids))
        else:
            prepared[spec.name] = clean_rows(SECTION_MODELS[spec.name], rows)
    prepared[_OTHER] = clean_rows(OtherSection, _other_rows(inventory))
    return prepared


_OTHER = "other sections"


def _write_fields(
    computer: Computer,
    inventory: Inventory,
    now: datetime,
    *,
    source_ip: str,
    user_agent: str,
    imported: bool,
) -> None:
    """The computer's own fields from the inventory, and the bookkeeping of one."""
    _update_computer(computer, inventory, source_ip)
    bits = inventory.changed_bits
    computer.checksum = (bits if bits is not None else 0) | computer.checksum | 1
    computer.last_inventory_at = now
    computer.last_contact_at = now
    computer.source_ip = source_ip[:64]
    computer.user_agent = user_agent[:255]
    computer.imported = imported


def _store(
    inventory: Inventory,
    settings: dict[str, int | str],
    software_ids: dict[Triple, int],
    prepared: dict[str, list[tuple[object, ...]]],
    *,
    source_ip: str,
    user_agent: str,
    imported: bool,
) -> InventoryReply:
    now = timezone.now()
    computer = Computer.objects.select_for_update().filter(device_id=inventory.device_id).first()
    created = computer is None
    written = False
    if computer is None:
        computer = Computer(device_id=inventory.device_id, last_contact_at=now)
        if not inventory.old_device_id:
            # Nothing else changes a new computer's own fields before they are written:
            # one INSERT with all of them instead of an INSERT and an UPDATE.
            _write_fields(
                computer, inventory, now, source_ip=source_ip, user_agent=user_agent, imported=imported
            )
            written = True
        computer.save(force_insert=True)
    merged = False
    if inventory.old_device_id:
        old = Computer.objects.select_for_update().filter(device_id=inventory.old_device_id).first()
        if old is not None and old.pk != computer.pk:
            duplicates.absorb(computer, old)
            merged = True

    bits = inventory.changed_bits
    diff = bool(settings["INVENTORY_DIFF"]) and not created and bits is not None
    write_diff = bool(settings["INVENTORY_WRITE_DIFF"]) and not created
    for spec in SECTIONS:
        if spec.name == "hardware":
            continue
        rows = inventory.sections.get(spec.name, [])
        # Sections outside the CHECKSUM bits are rewritten every time. OCS 2.8.1 also
        # rewrites software whatever its bit says; the agents set that bit whenever the
        # list changed (protocol.md §5.3), so Ocelot trusts it like the others.
        if diff and spec.bit and not (bits or 0) & spec.bit:
            continue
        wanted = prepared.get(spec.name)
        if spec.name == "software":
            if wanted is None:
                if rows and not software_ids:
                    # Only when the computer vanished between the check and the lock.
                    software_ids = ensure_software(rows)
                wanted = clean_rows(SoftwareInstallation, _software_rows(rows, software_ids))
            replace_rows(SoftwareInstallation, computer, wanted, write_diff=write_diff, fresh=created)
        else:
            model = SECTION_MODELS[spec.name]
            wanted = clean_rows(model, rows) if wanted is None else wanted
            replace_rows(model, computer, wanted, write_diff=write_diff, fresh=created)
    replace_rows(OtherSection, computer, prepared[_OTHER], write_diff=write_diff, fresh=created)

    if not written:
        _write_fields(computer, inventory, now, source_ip=source_ip, user_agent=user_agent, imported=imported)
        computer.save()

    if inventory.package_history is not None:
        _sync_history(computer, inventory.package_history)

    if not merged:
        merged = duplicates.absorb_duplicates(computer, int(settings["AUTO_DUPLICATE_LVL"]))
    pairs = account_info.reconcile(
        computer,
        inventory.account_info,
        created=created and not merged,
        merged=merged,
        accept_from_agent=bool(settings["ACCEPT_TAG_UPDATE_FROM_CLIENT"]),
    )
    # Once the sections and account info are stored: the computer joins the dynamic groups
    # its new inventory matches and leaves the others (issue 7).
    groups.update_memberships(computer.pk)
    for hook in inventory_hooks:
        hook(computer, inventory, settings, imported)
    return InventoryReply(pairs)


def _sync_history(computer: Computer, package_ids: Iterable[int]) -> None:
    wanted = set(package_ids)
    current = set(PackageHistoryEntry.objects.filter(computer=computer).values_list("package_id", flat=True))
    if current - wanted:
        PackageHistoryEntry.objects.filter(computer=computer, package_id__in=current - wanted).delete()
    if wanted - current:
        PackageHistoryEntry.objects.bulk_create(
            [PackageHistoryEntry(computer=computer, package_id=pid) for pid in sorted(wanted - current)]
        )


def store_inventory(
    inventory: Inventory,
    *,
    source_ip: str = "",
    user_agent: str = "",
    imported: bool = False,
    settings: dict[str, int | str] | None = None,
) -> InventoryReply:
    """Store one inventory and return the reply for the agent (ACCOUNT_UPDATE or not)."""
    settings = global_values() if settings is None else settings
    if settings["INVENTORY_SESSION_ONLY"] and not imported:
        # OCS's prolog_conntrack: the inventory must follow a contact that asked for it.
        oldest = timezone.now() - timedelta(seconds=int(settings["SESSION_VALIDITY_TIME"]))
        deleted, _ = ContactSession.objects.filter(
            device_id=inventory.device_id, started_at__gte=oldest
        ).delete()
        if not deleted:
            raise IngestError("an inventory is accepted only after a contact", status=403)
    bits = inventory.changed_bits
    skip_software = (
        bool(settings["INVENTORY_DIFF"])
        and bits is not None
        and not bits & SOFTWARE_BIT
        and Computer.objects.filter(device_id=inventory.device_id).exists()
    )
    for attempt in range(_ATTEMPTS):
        try:
            software_ids = {} if skip_software else ensure_software(inventory.sections.get("software", []))
            # Thousands of rows that live until the request ends (protocol/collector.py).
            with collector_paused():
                prepared = _prepare(inventory, settings, software_ids)
            with transaction.atomic():
                return _store(
                    inventory,
                    settings,
                    software_ids,
                    prepared,
                    source_ip=source_ip,
                    user_agent=user_agent,
                    imported=imported,
                )
        except (IntegrityError, OperationalError):
            # The lost race of two first inventories, a deadlock or a lock time-out:
            # the transaction rolled back whole, so trying again is safe.
            if attempt == _ATTEMPTS - 1:
                break
            _backoff(attempt)
    raise IngestError("the server is busy, try again later", status=503)
