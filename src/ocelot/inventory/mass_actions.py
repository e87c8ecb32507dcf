"""Changing computers from the console or the API: delete them, set or clear their own
settings, edit their account info (seed 004: "Données Administratives", "Personnalisation";
issue 3: the mass-processing bar on search results).

Every function validates everything before writing anything, writes in one transaction and
reports each change to ``audit``, a callable the door supplies (the console and the API
bind ``ocelot.accounts.audit.record`` to the user and address; the inventory layer cannot
import accounts). Who may call these -- administrators -- is checked by the doors with
``ocelot.accounts.roles``; the queryset they pass is already the user's visible computers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.db import transaction
from django.db.models import QuerySet

from ocelot.inventory import account_info, groups
from ocelot.inventory.computer_queries import COMPUTER_SETTINGS, IPDISCOVER_OVERRIDE, ipdiscover_mode
from ocelot.inventory.models import AccountField, AccountInfo, Computer, SettingOverride
from ocelot.inventory.setting_catalogue import SettingError, definition

# Audit details list at most this many computer names; the count and ids are always whole.
_NAMES_IN_AUDIT = 100


class AuditHook(Protocol):
    """``audit(action, target, **details)``: record one state change."""

    def __call__(self, action: str, target: str = "", /, **details: Any) -> Any: ...


class MassActionError(ValueError):
    """Input a change refuses: an unknown setting, a bad value, a bad account info value."""


class UnknownAccountFieldError(MassActionError):
    """An account info field that is not defined."""


def _describe(computers: list[tuple[int, str, str]]) -> dict[str, Any]:
    return {
        "count": len(computers),
        "ids": ",".join(str(pk) for pk, _name, _device in computers),
        "names": ", ".join(name or device for _pk, name, device in computers[:_NAMES_IN_AUDIT]),
    }


def target_of(computer: Computer) -> str:
    """How the audit log names one computer."""
    return f"computer {computer.pk} {computer.name or computer.device_id}"


def delete_computers(computers: QuerySet[Computer], *, audit: AuditHook) -> int:
    """Delete these computers and everything inventoried about them; returns how many."""
    with transaction.atomic():
        chosen = list(computers.order_by("id").values_list("id", "name", "device_id"))
        if not chosen:
            return 0
        ids = [pk for pk, _name, _device in chosen]
        # Locked before Django collects their rows: an inventory being written holds its
        # computer's lock, so its software installations are committed (and collected)
        # before the deletion goes on. The database no longer checks that an installation
        # has its computer (migration 0009).
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            list(Computer.objects.select_for_update().filter(pk__in=batch).order_by("id").values_list("id"))
        for start in range(0, len(ids), 500):
            Computer.objects.filter(pk__in=ids[start : start + 500]).delete()
        audit("computers.delete", f"{len(chosen)} computers", **_describe(chosen))
    return len(chosen)


def _validated_settings(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """Setting name -> stored text, or None to inherit again; raises MassActionError."""
    valid: dict[str, str | None] = {}
    for name, raw in changes.items():
        if name == IPDISCOVER_OVERRIDE:
            if raw is None:
                valid[name] = None
                continue
            try:
                valid[name] = ipdiscover_mode(raw)
            except ValueError as exc:
                raise MassActionError(str(exc)) from None
            continue
        if name not in COMPUTER_SETTINGS:
            raise MassActionError(f"{str(name)[:40]!r} cannot be set per computer")
        if raw is None:
            valid[name] = None
            continue
        try:
            valid[name] = str(definition(name).parse(raw))
        except SettingError as exc:
            raise MassActionError(str(exc)) from None
    return valid


def apply_settings(
    computers: QuerySet[Computer], changes: Mapping[str, str | None], *, audit: AuditHook
) -> int:
    """Give these computers their own value of each setting (None: inherit again).

    ``changes`` maps a name of ``COMPUTER_SETTINGS`` or ``IPDISCOVER`` to the value as
    typed (validated against the setting catalogue) or None. Returns how many computers.
    """
    valid = _validated_settings(changes)
    if not valid:
        return 0
    with transaction.atomic():
        chosen = list(computers.order_by("id").values_list("id", "name", "device_id"))
        ids = [pk for pk, _name, _device in chosen]
        for name, value in valid.items():
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                SettingOverride.objects.filter(computer_id__in=batch, name=name).delete()
                if value is not None:
                    SettingOverride.objects.bulk_create(
                        [SettingOverride(computer_id=pk, name=name, value=value) for pk in batch]
                    )
        if chosen:
            target = (
                f"computer {chosen[0][0]} {chosen[0][1] or chosen[0][2]}"
                if len(chosen) == 1
                else f"{len(chosen)} computers"
            )
            audit(
                "computers.settings",
                target,
                settings=", ".join(
                    f"{name}={'inherit' if value is None else value}" for name, value in valid.items()
                ),
                **_describe(chosen),
            )
    return len(chosen)


def account_field_ids(names: Iterable[str]) -> dict[str, int]:
    """Account info field name -> id, for doors that name fields (the API); raises
    UnknownAccountFieldError naming the first unknown name."""
    wanted = list(names)
    known = dict(AccountField.objects.filter(name__in=wanted).values_list("name", "pk"))
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise UnknownAccountFieldError(f"no account info field named {unknown[0][:64]!r}")
    return {name: known[name] for name in wanted}


def update_account_info(
    computer: Computer, *, tag: str | None, values: Mapping[int, str], audit: AuditHook
) -> list[str]:
    """Set the TAG (None: unchanged) and account info values (by field id) of one computer.

    Every value is checked against its field's kind first; returns the names of what
    changed. Raises MassActionError (nothing written) on an unknown field or a bad value.

    One change is one audit entry, whichever door made it (the console's form, the API's
    PUT): ``computer.account_info`` with ``tag`` (the new TAG, or None when unchanged),
    ``fields`` (the changed field names, sorted, comma-separated) and ``changes`` (each
    change as ``name: 'old' -> 'new'``). Nothing changed: no entry.
    """
    fields = {item.pk: item for item in AccountField.objects.filter(pk__in=list(values))}
    typed: dict[int, dict[str, object]] = {}
    for field_id, text in values.items():
        field = fields.get(field_id)
        if field is None:
            raise UnknownAccountFieldError(f"unknown account info field {field_id}")
        try:
            typed[field_id] = account_info.typed_value(field, text[:4096])
        except account_info.AccountValueError as exc:
            raise MassActionError(str(exc)) from None
    current_tag = AccountInfo.objects.filter(computer=computer).values_list("tag", flat=True).first()
    current = dict(computer.account_values.values_list("field_id", "text"))
    changed: list[str] = []
    changes: list[str] = []
    new_tag: str | None = None
    with transaction.atomic():
        if tag is not None and tag[:255] != current_tag:
            new_tag = tag[:255]
            account_info.set_tag(computer, new_tag)
            changed.append(account_info.TAG)
            changes.append(f"{account_info.TAG}: {current_tag or ''!r} -> {new_tag!r}")
        names: list[str] = []
        for field_id, columns in typed.items():
            if current.get(field_id, "") == columns["text"] and (field_id in current or not columns["text"]):
                continue
            name = fields[field_id].name
            account_info.set_value(computer, fields[field_id], str(columns["text"]))
            changed.append(name)
            names.append(name)
            changes.append(f"{name}: {current.get(field_id, '')!r} -> {str(columns['text'])!r}")
        if changed:
            # Dynamic groups searching on the TAG or account info follow at once (issue 7).
            groups.update_memberships(computer.pk)
            audit(
                "computer.account_info",
                target_of(computer),
                computer=computer.pk,
                tag=new_tag,
                fields=",".join(sorted(names)),
                changes="; ".join(changes),
            )
    return changed


def update_computer_settings(
    computer: Computer, submitted: Mapping[str, str], *, audit: AuditHook
) -> list[str]:
    """The computer page's settings form: for each submitted setting, a value or "" to
    inherit again. Only what differs from the computer's own values is written and audited;
    returns those names. Raises MassActionError (nothing written) on any bad value."""
    requested = {name: (raw.strip() or None) for name, raw in submitted.items()}
    valid = _validated_settings(requested)
    own = dict(SettingOverride.objects.filter(computer=computer).values_list("name", "value"))
    changes = {name: value for name, value in valid.items() if own.get(name) != value}
    if changes:
        apply_settings(Computer.objects.filter(pk=computer.pk), changes, audit=audit)
    return list(changes)
