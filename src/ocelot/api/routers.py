"""Registers every v1 router on the API instance."""

from __future__ import annotations

from ninja import NinjaAPI, Router

from ocelot.api.schemas import Me

me = Router(tags=["me"])


@me.get("/me", response=Me, summary="The user the token belongs to")
def who_am_i(request) -> Me:  # type: ignore[no-untyped-def]
    user = request.user
    return Me(username=user.get_username(), administrator=bool(user.is_superuser))


def register(api: NinjaAPI) -> None:
    api.add_router("/v1/", me)
