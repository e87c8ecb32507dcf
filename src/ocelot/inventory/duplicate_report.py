"""The duplicates page: computers that share a hostname, a serial number or a MAC address.

Seed "Gérer les ordinateurs dupliqués": a summary gives the number of redundant computers
found by each comparison method; the six methods ("Hostname + Serial number", "Hostname +
MAC address", "MAC address + Serial number", then each criterion alone) list the computers
that share the values, and the administrator merges those that are the same machine
(:func:`ocelot.inventory.duplicates.merge_computers`: the newest inventory is kept, with the
oldest administrative data).

Values are compared as automatic detection compares them (``duplicates.candidate_ids``):
trimmed, MAC addresses without regard to case, blacklisted serial numbers and MAC
addresses (``NNNNNNNN``, ``00:00:00:00:00:00``, ...) and empty values never count. Hostnames
and serial numbers also compare without regard to case here, so that SQLite, PostgreSQL
and MariaDB (whose collation ignores case) find the same groups.

Each method is one grouped query over the rows that carry its values: the computers for a
name alone, their BIOS for a serial number, their network interfaces for a MAC address (a
computer has one row per address, so computers are counted distinctly). Two values are
compared as one key joined by the ASCII unit separator, which no inventory value can
contain: XML 1.0 cannot carry that character, and every inventory arrives as XML.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import CharField, Count, F, Model, QuerySet, Value
from django.db.models.functions import Concat, Trim, Upper

from ocelot.inventory.duplicates import MergeError, merge_computers
from ocelot.inventory.models import (
    Bios,
    BlacklistedMac,
    BlacklistedSerial,
    Computer,
    NetworkInterface,
)

HOSTNAME, SERIAL, MAC = "hostname", "serial", "mac"
SEPARATOR = "\x1f"
GROUPS_PER_PAGE = 50


@dataclass(frozen=True)
class Method:
    """A comparison method: the criteria that must all be shared."""

    slug: str
    criteria: tuple[str, ...]


# The seed's order: the two-criteria methods, the most reliable, then each criterion alone.
METHODS: tuple[Method, ...] = (
    Method("hostname-serial", (HOSTNAME, SERIAL)),
    Method("hostname-mac", (HOSTNAME, MAC)),
    Method("mac-serial", (MAC, SERIAL)),
    Method("hostname", (HOSTNAME,)),
    Method("serial", (SERIAL,)),
    Method("mac", (MAC,)),
)
METHODS_BY_SLUG = {method.slug: method for method in METHODS}


class DuplicateReportError(Exception):
    """An unknown comparison method."""


def method(slug: str) -> Method:
    try:
        return METHODS_BY_SLUG[slug]
    except KeyError:
        raise DuplicateReportError(f"unknown comparison method {slug[:40]!r}") from None


def _rows(chosen: Method) -> tuple[QuerySet[Model], str]:
    """The rows carrying the method's values, annotated with ``key``, and the name of
    their computer id column."""
    model: type[Model]
    if MAC in chosen.criteria:
        model, computer_id = NetworkInterface, "computer_id"
        paths = {HOSTNAME: "computer__name", SERIAL: "computer__bios__system_serial", MAC: "mac"}
    elif SERIAL in chosen.criteria:
        model, computer_id = Bios, "computer_id"
        paths = {HOSTNAME: "computer__name", SERIAL: "system_serial"}
    else:
        model, computer_id = Computer, "id"
        paths = {HOSTNAME: "name"}
    rows: QuerySet[Model] = model._default_manager.all()
    parts: list[F] = []
    for criterion in chosen.criteria:
        alias = f"value_{criterion}"
        rows = rows.annotate(**{alias: Upper(Trim(F(paths[criterion])))})
        # "> ''" drops empty values and the NULLs of a missing BIOS alike.
        rows = rows.filter(**{f"{alias}__gt": ""})
        if criterion == SERIAL:
            rows = rows.exclude(**{f"{alias}__in": _blacklist(BlacklistedSerial)})
        elif criterion == MAC:
            rows = rows.exclude(**{f"{alias}__in": _blacklist(BlacklistedMac)})
        parts.append(F(alias))
    key: F | Concat = (
        parts[0]
        if len(parts) == 1
        else Concat(parts[0], Value(SEPARATOR), parts[1], output_field=CharField())
    )
    return rows.annotate(key=key).order_by(), computer_id


def _blacklist(model: type[BlacklistedSerial] | type[BlacklistedMac]) -> list[str]:
    return sorted({value.strip().upper() for value in model.objects.values_list("value", flat=True)})


def _shared_keys(chosen: Method) -> tuple[QuerySet[Model], QuerySet[Any, dict[str, Any]], str]:
    rows, computer_id = _rows(chosen)
    keys = (
        rows.values("key")
        .annotate(computers=Count(computer_id, distinct=True))
        .filter(computers__gt=1)
        .order_by("key")
    )
    return rows, keys, computer_id


def redundant_computers(chosen: Method) -> int:
    """How many computers share the method's values with at least one other computer."""
    rows, keys, computer_id = _shared_keys(chosen)
    return rows.filter(key__in=keys.values("key")).values(computer_id).distinct().count()


def summary() -> list[tuple[Method, int]]:
    """The "redundancy summary": each method with its number of redundant computers."""
    return [(chosen, redundant_computers(chosen)) for chosen in METHODS]


@dataclass(frozen=True)
class DuplicateComputer:
    """A computer as the duplicates page shows it."""

    id: int
    name: str
    serial: str
    macs: tuple[str, ...]
    last_inventory_at: datetime.datetime | None
    tag: str


@dataclass
class DuplicateGroup:
    """Computers that share the method's values (shown upper-cased, as compared)."""

    values: tuple[str, ...]
    computers: list[DuplicateComputer] = field(default_factory=list)


def groups(chosen: Method, page_number: int | str | None = 1) -> tuple[Page[Any], list[DuplicateGroup]]:
    """One page of the method's groups, each with its computers (a fixed number of queries)."""
    rows, keys, computer_id = _shared_keys(chosen)
    page = Paginator(keys, GROUPS_PER_PAGE).get_page(page_number)
    wanted = [str(item["key"]) for item in page.object_list]
    found: dict[str, DuplicateGroup] = {key: DuplicateGroup(tuple(key.split(SEPARATOR))) for key in wanted}
    members: dict[str, list[int]] = {key: [] for key in wanted}
    if wanted:
        for key, member in rows.filter(key__in=wanted).values_list("key", computer_id).distinct():
            if member not in members[key]:
                members[key].append(member)
    computers = _computers({member for ids in members.values() for member in ids})
    for key, ids in members.items():
        found[key].computers = sorted(
            (computers[member] for member in ids if member in computers),
            key=_newest_first,
        )
    return page, [found[key] for key in wanted]


def _newest_first(computer: DuplicateComputer) -> tuple[int, float, int]:
    seen = computer.last_inventory_at
    return (0 if seen is not None else 1, -seen.timestamp() if seen is not None else 0.0, -computer.id)


def _computers(ids: set[int]) -> dict[int, DuplicateComputer]:
    if not ids:
        return {}
    macs: dict[int, set[str]] = {}
    for owner, mac in NetworkInterface.objects.filter(computer_id__in=ids).values_list("computer_id", "mac"):
        if mac.strip():
            macs.setdefault(owner, set()).add(mac.strip().upper())
    found = {}
    for computer in Computer.objects.filter(pk__in=ids).select_related("bios", "account_info"):
        bios = getattr(computer, "bios", None)
        info = getattr(computer, "account_info", None)
        found[computer.pk] = DuplicateComputer(
            id=computer.pk,
            name=computer.name,
            serial=bios.system_serial if bios is not None else "",
            macs=tuple(sorted(macs.get(computer.pk, ()))),
            last_inventory_at=computer.last_inventory_at,
            tag=info.tag if info is not None else "",
        )
    return found


@dataclass(frozen=True)
class MergeOutcome:
    """What merging one selection did: the computer kept and the names of those merged
    into it, or the reason nothing was merged."""

    selection: tuple[int, ...]
    kept_id: int | None = None
    kept_name: str = ""
    merged_names: tuple[str, ...] = ()
    error: str = ""


def merge_selections(selections: Sequence[Sequence[int]]) -> list[MergeOutcome]:
    """Merge each selection (the computers ticked in one group) with ``merge_computers``.

    Groups may overlap (a computer with two shared MAC addresses is in two groups): a
    computer merged by an earlier selection stands for the one that absorbed it.
    """
    absorbed_into: dict[int, int] = {}
    outcomes = []
    for selection in selections:
        chosen = {int(i) for i in selection}
        ids = sorted({absorbed_into.get(i, i) for i in chosen})
        names = dict(Computer.objects.filter(pk__in=ids).values_list("pk", "name"))
        if len(ids) == 1 < len(chosen):
            # Every ticked computer was already merged into this one by an earlier selection.
            outcomes.append(MergeOutcome(tuple(ids), kept_id=ids[0], kept_name=str(names.get(ids[0], ""))))
            continue
        try:
            kept = merge_computers(ids)
        except MergeError as exc:
            outcomes.append(MergeOutcome(tuple(ids), error=str(exc)))
            continue
        for other in ids:
            if other != kept.pk:
                absorbed_into[other] = kept.pk
        for old, into in list(absorbed_into.items()):
            if into in absorbed_into:
                absorbed_into[old] = absorbed_into[into]
        outcomes.append(
            MergeOutcome(
                tuple(ids),
                kept_id=kept.pk,
                kept_name=kept.name,
                merged_names=tuple(str(names.get(i, i)) for i in ids if i != kept.pk),
            )
        )
    return outcomes
