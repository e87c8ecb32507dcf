"""General options: everyone reads them; administrators change them, validated by the
catalogue (an unknown name, a wrong type or a value out of range is a 400)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ocelot.accounts import audit
from ocelot.api.auth import administrators_only
from ocelot.api.errors import ApiError, not_found
from ocelot.api.requests import address_of, administrator, refuse_unknown_parameters
from ocelot.api.schemas import Error, Paging, SettingItem, SettingPage, ValueIn
from ocelot.inventory import setting_values
from ocelot.inventory.setting_catalogue import CATALOGUE, SettingDefinition, SettingError, definition

router = Router(tags=["settings"])

CATEGORIES = tuple(dict.fromkeys(item.category for item in CATALOGUE))


class SettingFilters(Schema):
    category: str | None = Field(None, description=f"one of {', '.join(CATEGORIES)}")


def setting_item(spec: SettingDefinition, value: int | str) -> dict[str, Any]:
    return {
        "name": spec.name,
        "value": value,
        "default": spec.default,
        "help": spec.help,
        "category": spec.category,
        "unit": spec.unit,
        "kind": spec.kind,
        "minimum": spec.minimum,
        "maximum": spec.maximum,
        "scopes": list(spec.scopes),
    }


@router.get("/settings", response={200: SettingPage, 400: Error}, summary="Every general option")
def list_settings(
    request: HttpRequest, filters: Query[SettingFilters], paging: Query[Paging]
) -> dict[str, Any]:
    refuse_unknown_parameters(request, SettingFilters.model_fields)
    if filters.category is not None and filters.category not in CATEGORIES:
        raise ApiError(400, "invalid_category", f"category must be one of {', '.join(CATEGORIES)}")
    values = setting_values.global_values()
    items = [
        setting_item(spec, values[spec.name])
        for spec in CATALOGUE
        if filters.category is None or spec.category == filters.category
    ]
    return {
        "count": len(items),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": items[paging.offset : paging.offset + paging.limit],
    }


@router.get("/settings/{name}", response={200: SettingItem, 404: Error}, summary="One general option")
def get_setting(request: HttpRequest, name: str) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    try:
        spec = definition(name)
    except SettingError:
        raise not_found("setting") from None
    return setting_item(spec, setting_values.global_value(spec.name))


@router.put(
    "/settings/{name}",
    response={200: SettingItem, 400: Error, 403: Error},
    auth=administrators_only,
    summary="Change a general option (administrators)",
)
def set_setting(request: HttpRequest, name: str, body: ValueIn) -> dict[str, Any]:
    user = administrator(request)
    spec = definition(name)
    with transaction.atomic():
        value = setting_values.set_global(spec.name, body.value)
        audit.record(user, "setting.set", spec.name, address=address_of(request), value=value)
    return setting_item(spec, value)


@router.delete(
    "/settings/{name}",
    response={200: SettingItem, 400: Error, 403: Error},
    auth=administrators_only,
    summary="Return a general option to its default (administrators)",
)
def reset_setting(request: HttpRequest, name: str) -> dict[str, Any]:
    user = administrator(request)
    spec = definition(name)
    with transaction.atomic():
        setting_values.reset_global(spec.name)
        audit.record(user, "setting.reset", spec.name, address=address_of(request))
    return setting_item(spec, spec.default)
