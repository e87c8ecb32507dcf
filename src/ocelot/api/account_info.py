"""Account info of a computer: its TAG and the administrator-defined fields (administrators).

The change is ``ocelot.inventory.mass_actions.update_account_info``, the console's too: one
transaction, every value checked against its field's kind first (an integer field given
``"abc"`` is a 400 and nothing is written), one ``computer.account_info`` audit entry.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Router

from ocelot.accounts import audit
from ocelot.api.auth import administrators_only
from ocelot.api.computers import account_info_of, visible_computer
from ocelot.api.errors import ApiError
from ocelot.api.requests import address_of, administrator
from ocelot.api.schemas import AccountInfoIn, AccountInfoOut, Error
from ocelot.inventory.mass_actions import (
    MassActionError,
    UnknownAccountFieldError,
    account_field_ids,
    update_account_info,
)

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
    try:
        ids = account_field_ids(body.fields)
        update_account_info(
            computer,
            tag=body.tag,
            values={ids[name]: value for name, value in body.fields.items()},
            audit=partial(audit.record, user, address=address_of(request)),
        )
    except UnknownAccountFieldError as exc:
        raise ApiError(400, "unknown_field", str(exc)) from None
    except MassActionError as exc:
        raise ApiError(400, "invalid_account_value", str(exc)) from None
    return account_info_of(computer)
