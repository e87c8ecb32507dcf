"""Registry queries: the registry values Windows agents read and report.

Seed "Utiliser les fonctionnalités de requêtes sur le Registre": a query has a name, a hive
(HKEY_CLASSES_ROOT ... HKEY_DYN_DATA), a key and the name of the value to read, or ``*`` for
every value of the key. Agents receive them in the REGISTRY option of the contact reply
while the REGISTRY setting is on (protocol.md §4.6); the values come back in the REGISTRY
section of their inventories.

Every field travels in XML to every agent: control characters (which XML cannot carry)
are refused, and lengths and the number of queries are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ocelot.inventory.models import RegistryQuery

HIVES: dict[int, str] = dict(RegistryQuery.HIVES)
ALL_VALUES = "*"
MAX_NAME = 255  # RegistryQuery.name
MAX_KEY = 1024
MAX_VALUE_NAME = 255  # RegistryQuery.value_name
MAX_QUERIES = 100  # sent in every contact reply while REGISTRY is on
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RegistryQueryError(Exception):
    """A registry query that is invalid, duplicated or missing."""


@dataclass(frozen=True)
class QueryFields:
    """The validated fields of a query."""

    name: str
    hive: int
    key: str
    value_name: str


def registry_queries() -> QuerySet[RegistryQuery]:
    """Every query, in the order agents receive them."""
    return RegistryQuery.objects.order_by("id")


def _text(raw: str, label: str, maximum: int) -> str:
    value = raw.strip()
    if not value:
        raise RegistryQueryError(_("%(field)s is required.") % {"field": label})
    if len(value) > maximum:
        raise RegistryQueryError(
            _("%(field)s is at most %(max)d characters.") % {"field": label, "max": maximum}
        )
    if _CONTROL.search(value):
        raise RegistryQueryError(_("%(field)s may not contain control characters.") % {"field": label})
    return value


def validate(name: str, hive: str | int, key: str, value_name: str) -> QueryFields:
    """Check a query's fields; raises RegistryQueryError."""
    try:
        hive_number = int(str(hive).strip())
    except ValueError:
        hive_number = -1
    if hive_number not in HIVES:
        raise RegistryQueryError(_("Choose a registry hive."))
    # Agents read the key relative to the hive: a leading or trailing backslash is noise.
    key_text = _text(key, _("The key"), MAX_KEY).strip("\\").strip()
    if not key_text:
        raise RegistryQueryError(_("%(field)s is required.") % {"field": _("The key")})
    return QueryFields(
        name=_text(name, _("The name"), MAX_NAME),
        hive=hive_number,
        key=key_text,
        value_name=_text(value_name, _("The value name"), MAX_VALUE_NAME),
    )


def _check_name_is_free(name: str, query_id: int | None = None) -> None:
    # Case-insensitive on every database, as MariaDB's collation already is.
    taken = RegistryQuery.objects.filter(name__iexact=name)
    if query_id is not None:
        taken = taken.exclude(pk=query_id)
    if taken.exists():
        raise RegistryQueryError(_("A query named %(name)s already exists.") % {"name": name})


def create_query(name: str, hive: str | int, key: str, value_name: str) -> RegistryQuery:
    """Add a query; raises RegistryQueryError."""
    fields = validate(name, hive, key, value_name)
    with transaction.atomic():
        _check_name_is_free(fields.name)
        if RegistryQuery.objects.count() >= MAX_QUERIES:
            raise RegistryQueryError(_("At most %(max)d queries may be defined.") % {"max": MAX_QUERIES})
        return RegistryQuery.objects.create(
            name=fields.name, hive=fields.hive, key=fields.key, value_name=fields.value_name
        )


def update_query(query_id: int, name: str, hive: str | int, key: str, value_name: str) -> RegistryQuery:
    """Change a query; raises RegistryQueryError."""
    fields = validate(name, hive, key, value_name)
    with transaction.atomic():
        query = RegistryQuery.objects.select_for_update().filter(pk=query_id).first()
        if query is None:
            raise RegistryQueryError(_("No such registry query."))
        _check_name_is_free(fields.name, query_id)
        query.name, query.hive, query.key, query.value_name = (
            fields.name,
            fields.hive,
            fields.key,
            fields.value_name,
        )
        query.save()
        return query


def delete_query(query_id: int) -> str:
    """Delete a query and return its name; raises RegistryQueryError."""
    query = RegistryQuery.objects.filter(pk=query_id).first()
    if query is None:
        raise RegistryQueryError(_("No such registry query."))
    query.delete()
    return query.name
