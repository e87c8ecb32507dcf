"""Registers every v1 router on the API instance, one module per domain."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from ocelot.api import account_info, computers, groups, ipdiscover, packages, settings, software, users
from ocelot.api.errors import ApiError
from ocelot.api.schemas import Error, Me

me = Router(tags=["me"])


@me.get("/me", response=Me, summary="The user the token belongs to")
def who_am_i(request: HttpRequest) -> Me:
    user = request.user
    return Me(username=user.get_username(), administrator=bool(user.is_superuser))


# Last: any other path under /api/ answers a JSON 404 rather than the console's HTML page.
unknown = Router()


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    response={404: Error},
    auth=None,
    include_in_schema=False,
)
def no_such_endpoint(request: HttpRequest, rest: str) -> None:
    raise ApiError(404, "not_found", "no such endpoint")


def register(api: NinjaAPI) -> None:
    for router in (
        me,
        computers.router,
        account_info.router,
        software.router,
        settings.router,
        users.router,
        packages.router,
        groups.router,
        ipdiscover.router,
    ):
        api.add_router("/v1/", router)
    api.add_router("/", unknown)
