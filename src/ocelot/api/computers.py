"""Computers: the list (with the search's filters), one computer with every section, and
its own settings.

Every query starts from ``visible_computers(user)``: a user restricted to some TAG values
never sees, counts or reaches another computer; one outside the scope is a 404, as if it
did not exist (security.md T45).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ocelot.accounts import audit
from ocelot.accounts.roles import PermissionDeniedError, computer_for, visible_computers
from ocelot.api.auth import administrators_only
from ocelot.api.errors import ApiError, not_found
from ocelot.api.requests import address_of, administrator, page, refuse_unknown_parameters
from ocelot.api.schemas import (
    ComputerDetail,
    ComputerPage,
    Error,
    OverrideOut,
    Paging,
    ValueIn,
)
from ocelot.inventory import setting_values
from ocelot.inventory.account_info import server_pairs
from ocelot.inventory.computer_queries import COLUMNS, DEFAULT_SORT, ListError, list_rows
from ocelot.inventory.models import SECTION_MODELS, Computer, SettingOverride, SoftwareInstallation
from ocelot.inventory.search import OPERATORS, criteria_from_params, search
from ocelot.inventory.setting_catalogue import SettingError, definition

router = Router(tags=["computers"])

# The list item's names for the console's sort keys (ocelot.inventory.computer_queries.COLUMNS).
SORT_ALIASES = {
    "last_inventory_at": "last_inventory",
    "last_contact_at": "last_contact",
    "user_agent": "agent",
}
SORT_KEYS = (*COLUMNS, *SORT_ALIASES)

CRITERIA_PARAMETERS = ("field", "op", "value", "value2")

_LIST_COLUMNS = (
    "id",
    "device_id",
    "name",
    "os_name",
    "ip_address",
    "memory",
    "last_inventory_at",
    "last_contact_at",
    "user_agent",
)
_ROW_SKIP = frozenset({"id", "computer"})
_SOFTWARE_FIELDS = (
    "comments",
    "file_size",
    "folder",
    "source",
    "install_date",
    "architecture",
    "bits_width",
    "filename",
    "guid",
    "language",
    "status",
    "extra",
)
_HARDWARE_SKIP = frozenset(
    {"id", "first_seen_at", "last_contact_at", "last_inventory_at", "source_ip", "imported"}
)


def visible_computer(request: HttpRequest, computer_id: int) -> Computer:
    """The computer if the user may see it; a 404 otherwise (never a hint that it exists)."""
    try:
        return computer_for(request.user, computer_id)  # type: ignore[attr-defined]
    except PermissionDeniedError:
        raise not_found("computer") from None


def _list_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "device_id": row["device_id"],
        "name": row["name"],
        "os": row["os_name"],
        "ip": row["ip_address"],
        "memory": row["memory"],
        "tag": row["tag"] or "",
        "last_inventory_at": row["last_inventory_at"],
        "last_contact_at": row["last_contact_at"],
        "user_agent": row["user_agent"],
        "own_settings": bool(row.get("has_own_settings")),
    }


def computer_rows(computers: QuerySet[Computer]) -> QuerySet[Any]:
    """The list columns of each computer, in one query (no per-computer lookups)."""
    return computers.values(*_LIST_COLUMNS, "has_own_settings", tag=F("account_info__tag"))


class ComputerListQuery(Schema):
    """The documented parameters of the list; the search criteria come as repeated
    ``field`` / ``op`` / ``value`` / ``value2``, the console's search format."""

    sort: str = Field(
        DEFAULT_SORT,
        description=f"a column of the console's list ({', '.join(SORT_KEYS)}), optionally preceded by '-'",
    )
    field: list[str] = Field(
        default_factory=list,
        description="field of each criterion: name, os, ip, software, memory, tag, account:<name>, ...",
    )
    op: list[str] = Field(
        default_factory=list,
        description=f"operator of each criterion: {', '.join(OPERATORS)}",
    )
    value: list[str] = Field(
        default_factory=list,
        description="value of each criterion; * matches any run of characters, ? one character",
    )
    value2: list[str] = Field(
        default_factory=list,
        description="upper bound of BETWEEN / OUTSIDE: absent altogether, or one per criterion",
    )


@router.get(
    "/computers",
    response={200: ComputerPage, 400: Error},
    summary="Computers the user may see, filtered with the multi-criteria search",
)
def list_computers(
    request: HttpRequest, query: Query[ComputerListQuery], paging: Query[Paging]
) -> dict[str, Any]:
    refuse_unknown_parameters(request, {"sort"}, repeatable=CRITERIA_PARAMETERS)
    descending = query.sort.startswith("-")
    key = query.sort[1:] if descending else query.sort
    sort = ("-" if descending else "") + SORT_ALIASES.get(key, key)
    criteria = criteria_from_params(request.GET)
    computers = search(visible_computers(request.user), criteria)  # type: ignore[attr-defined]
    try:
        ordered = list_rows(computers, sort)
    except ListError:
        raise ApiError(
            400, "invalid_sort", f"sort must be one of {', '.join(SORT_KEYS)}, optionally preceded by '-'"
        ) from None
    # As the console's list: sort narrow id rows, then read only the page's computers.
    ids = page(ordered.values_list("id", flat=True), paging.limit, paging.offset, counted=computers)
    found = {row["id"]: row for row in computer_rows(list_rows(Computer.objects.filter(pk__in=ids["items"])))}
    return {**ids, "items": [_list_item(found[pk]) for pk in ids["items"] if pk in found]}


def _section_rows(model: type[Model], computer: Computer) -> list[dict[str, Any]]:
    names = [field.attname for field in model._meta.concrete_fields if field.name not in _ROW_SKIP]
    return list(model._default_manager.filter(computer=computer).order_by("pk").values(*names))


def _software(computer: Computer) -> list[dict[str, Any]]:
    rows = (
        SoftwareInstallation.objects.filter(computer=computer)
        .order_by("software__name", "software__version", "pk")
        .values(
            *_SOFTWARE_FIELDS,
            name=F("software__name"),
            publisher=F("software__publisher"),
            version=F("software__version"),
            category=F("software__category"),
        )
    )
    return list(rows)


def account_info_of(computer: Computer) -> dict[str, Any]:
    pairs = server_pairs(computer)
    return {"tag": pairs[0][1], "fields": dict(pairs[1:])}


def _settings(computer: Computer) -> dict[str, Any]:
    overrides: dict[str, int | str] = {}
    for name, raw in SettingOverride.objects.filter(computer=computer).values_list("name", "value"):
        try:
            overrides[name] = definition(name).parse(raw)
        except SettingError:
            overrides[name] = raw  # stored under older bounds: shown as stored
    return {"overrides": overrides, "effective": setting_values.resolve(computer.pk).values}


def computer_detail(computer: Computer) -> dict[str, Any]:
    account = account_info_of(computer)
    settings = _settings(computer)
    return {
        **_list_item({"tag": account["tag"], **{name: getattr(computer, name) for name in _LIST_COLUMNS}}),
        "first_seen_at": computer.first_seen_at,
        "source_ip": computer.source_ip,
        "imported": computer.imported,
        "hardware": {
            field.attname: getattr(computer, field.attname)
            for field in Computer._meta.concrete_fields
            if field.name not in _HARDWARE_SKIP
        },
        "sections": {name: _section_rows(model, computer) for name, model in SECTION_MODELS.items()},
        "other_sections": list(computer.other_sections.order_by("pk").values("tag", "data")),
        "software": _software(computer),
        "account_info": account,
        "settings": settings,
        "own_settings": bool(settings["overrides"]),
    }


@router.get(
    "/computers/{computer_id}",
    response={200: ComputerDetail, 404: Error},
    summary="One computer: every inventory section, software, account info and settings",
)
def get_computer(request: HttpRequest, computer_id: int) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    return computer_detail(visible_computer(request, computer_id))


@router.put(
    "/computers/{computer_id}/settings/{name}",
    response={200: OverrideOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Set one setting for this computer (administrators)",
)
def set_computer_setting(request: HttpRequest, computer_id: int, name: str, body: ValueIn) -> dict[str, Any]:
    user = administrator(request)
    computer = visible_computer(request, computer_id)
    spec = definition(name)
    with transaction.atomic():
        value = setting_values.set_override(spec.name, body.value, computer=computer)
        audit.record(
            user,
            "computer.setting",
            computer.name or computer.device_id,
            address=address_of(request),
            computer=computer.pk,
            name=spec.name,
            value=value,
        )
    return {"name": spec.name, "value": value}


@router.delete(
    "/computers/{computer_id}/settings/{name}",
    response={204: None, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Remove this computer's own value of a setting (administrators)",
)
def clear_computer_setting(request: HttpRequest, computer_id: int, name: str) -> Status[None]:
    user = administrator(request)
    computer = visible_computer(request, computer_id)
    spec = definition(name)
    with transaction.atomic():
        setting_values.clear_override(spec.name, computer=computer)
        audit.record(
            user,
            "computer.setting.clear",
            computer.name or computer.device_id,
            address=address_of(request),
            computer=computer.pk,
            name=spec.name,
        )
    return Status(204, None)
