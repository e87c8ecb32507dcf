"""Account info field definitions: the administrator's own fields besides the TAG.

Seed "Éditer les informations administratives": a field has a name (spaces and special
characters are not allowed: OCS made each field a column of its ``accountinfo`` table) and a
kind, text, integer, real or date. Deleting a field deletes its values on every computer;
agents get the new list of pairs at their next inventory (protocol.md §6.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from ocelot.inventory.models import AccountField

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_NAME = 64  # AccountField.name
MAX_FIELDS = 100  # every field travels in every ACCOUNTINFO exchange with every agent
# TAG is the built-in field; HARDWARE_ID was the other column of OCS's accountinfo table.
RESERVED_NAMES = frozenset({"TAG", "HARDWARE_ID"})
KINDS = tuple(kind for kind, _label in AccountField.KINDS)


class AccountFieldError(Exception):
    """A field definition that cannot be created or deleted."""


@dataclass(frozen=True)
class FieldSummary:
    """A field and the number of computers that have a value for it."""

    field: AccountField
    values: int


def account_fields() -> list[FieldSummary]:
    """Every field, in creation order, with its number of values."""
    return [
        FieldSummary(field, field.value_count)
        for field in AccountField.objects.annotate(value_count=Count("values")).order_by("id")
    ]


def create_field(name: str, kind: str) -> AccountField:
    """Define a new field; raises AccountFieldError."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not NAME_PATTERN.fullmatch(name):
        raise AccountFieldError(
            _(
                "A field name is 1 to %(max)d letters, digits or underscores, starting with a "
                "letter (no spaces or special characters)."
            )
            % {"max": MAX_NAME}
        )
    if name.upper() in RESERVED_NAMES:
        raise AccountFieldError(_("%(name)s is a built-in field.") % {"name": name})
    if kind not in KINDS:
        raise AccountFieldError(_("Unknown kind %(kind)s.") % {"kind": kind[:20]})
    with transaction.atomic():
        # Case-insensitive everywhere (MariaDB's collation is): agents send names as typed.
        if AccountField.objects.filter(name__iexact=name).exists():
            raise AccountFieldError(_("The field %(name)s already exists.") % {"name": name})
        if AccountField.objects.count() >= MAX_FIELDS:
            raise AccountFieldError(_("At most %(max)d fields may be defined.") % {"max": MAX_FIELDS})
        return AccountField.objects.create(name=name, kind=kind)


def delete_field(field_id: int) -> tuple[str, int]:
    """Delete a field and its values on every computer; returns its name and the number
    of values removed. Raises AccountFieldError when it does not exist."""
    with transaction.atomic():
        field = AccountField.objects.filter(pk=field_id).first()
        if field is None:
            raise AccountFieldError(_("No such field."))
        values = field.values.count()
        name = field.name
        field.delete()  # AccountValue rows go with it (on_delete=CASCADE)
    return name, values
