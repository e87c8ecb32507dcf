"""Account info: the TAG and administrator-defined fields (protocol.md §5.4, §6.2).

The server's values win over the agent's once a computer is known, unless
ACCEPT_TAG_UPDATE_FROM_CLIENT is on; the agent gets ACCOUNT_UPDATE with every pair when
what it sent differs, and then replaces its local copy with exactly those pairs.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from ocelot.inventory.models import AccountField, AccountInfo, AccountValue, Computer

TAG = "TAG"
LOST = "LOST"


class AccountValueError(Exception):
    """A value that does not fit its field's kind."""


def typed_value(field: AccountField, text: str) -> dict[str, object]:
    """The typed columns for a value given as text; raises AccountValueError."""
    text = text.strip()
    columns: dict[str, object] = {"text": text, "integer": None, "real": None, "date": None}
    if not text or field.kind == AccountField.TEXT:
        return columns
    try:
        if field.kind == AccountField.INTEGER:
            columns["integer"] = int(text)
            if not -(2**63) <= columns["integer"] < 2**63:  # type: ignore[operator]
                raise ValueError
        elif field.kind == AccountField.REAL:
            columns["real"] = float(text)
        elif field.kind == AccountField.DATE:
            columns["date"] = datetime.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise AccountValueError(f"{field.name}: {text!r} is not a valid {field.kind}") from None
    return columns


def set_value(computer: Computer, field: AccountField, text: str) -> None:
    """Store one account info value, validated against its field's kind."""
    AccountValue.objects.update_or_create(computer=computer, field=field, defaults=typed_value(field, text))


def set_tag(computer: Computer, tag: str) -> None:
    AccountInfo.objects.update_or_create(computer=computer, defaults={"tag": tag[:255]})


def server_pairs(computer: Computer, fields: Sequence[AccountField] | None = None) -> list[tuple[str, str]]:
    """TAG then every defined field, as the server holds them (empty when unset)."""
    fields = list(AccountField.objects.all()) if fields is None else fields
    info = AccountInfo.objects.filter(computer=computer).first()
    values = dict(AccountValue.objects.filter(computer=computer).values_list("field_id", "text"))
    return [(TAG, info.tag if info else "")] + [(f.name, values.get(f.pk, "")) for f in fields]


def _write_agent_values(computer: Computer, sent: dict[str, str], fields: Sequence[AccountField]) -> None:
    for field in fields:
        if field.name in sent:
            try:
                set_value(computer, field, sent[field.name])
            except AccountValueError:
                continue  # an agent's bad value never blocks its inventory


def reconcile(
    computer: Computer,
    sent_pairs: Sequence[tuple[str, str]],
    *,
    created: bool,
    merged: bool,
    accept_from_agent: bool,
) -> tuple[tuple[str, str], ...] | None:
    """Apply the agent's account info and return the pairs to send back, or None."""
    sent = dict(sent_pairs)
    if created:
        # A computer created in this transaction has no account info yet: its TAG is
        # inserted without looking first, and the fields are read only when the agent
        # sent more than the TAG (three statements fewer per first inventory).
        AccountInfo.objects.create(computer=computer, tag=sent.get(TAG, "")[:255])
        if any(key != TAG for key in sent):
            _write_agent_values(computer, sent, list(AccountField.objects.all()))
        return None
    fields = list(AccountField.objects.all())
    info = AccountInfo.objects.filter(computer=computer).first()
    if info is None:
        # A known computer without account info: the OCS "LOST" case (§6.2).
        set_tag(computer, LOST)
        _write_agent_values(computer, sent, fields)
        return tuple((key, LOST if key == TAG else value) for key, value in sent_pairs) or ((TAG, LOST),)
    if accept_from_agent:
        if TAG in sent:
            set_tag(computer, sent[TAG])
        _write_agent_values(computer, sent, fields)
    pairs = server_pairs(computer, fields)
    differs = merged or len(sent_pairs) != len(pairs) or any(sent.get(key) != value for key, value in pairs)
    return tuple(pairs) if differs else None
