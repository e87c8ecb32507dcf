"""Account info of a computer: its TAG and the administrator-defined fields (administrators).

The whole change is one transaction: a value that does not fit its field's kind (an
integer field given ``"abc"``) is a 400 and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from ocelot.accounts import audit
from ocelot.api.auth import administrators_only
from ocelot.api.computers import account_info_of, visible_computer
from ocelot.api.errors import ApiError
from ocelot.api.requests import address_of, administrator
from ocelot.api.schemas import AccountInfoIn, AccountInfoOut, Error
from ocelot.inventory import account_info
from ocelot.inventory.models import AccountField

router = Router(tags=["account info"])


@router.put(
    "/computers/{computer_id}/account-info",
    response={200: AccountInfoOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Change a computer's TAG and account info fields (administrators)",
)
def set_account_info(request: HttpRequest, computer_id: int, body: AccountInfoIn) -> dict[str, Any]:
    user = administrator(request)
    computer = visible_computer(request, computer_id)
    fields = {field.name: field for field in AccountField.objects.filter(name__in=list(body.fields))}
    unknown = sorted(set(body.fields) - set(fields))
    if unknown:
        raise ApiError(400, "unknown_field", f"no account info field named {unknown[0][:64]!r}")
    with transaction.atomic():
        if body.tag is not None:
            account_info.set_tag(computer, body.tag)
        for name, value in body.fields.items():
            account_info.set_value(computer, fields[name], value)
        audit.record(
            user,
            "computer.account_info",
            computer.name or computer.device_id,
            address=address_of(request),
            computer=computer.pk,
            tag=body.tag,
            fields=",".join(sorted(body.fields)),
        )
    return account_info_of(computer)
