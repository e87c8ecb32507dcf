"""Users (administrators only): list, create with a generated password shown once, change
role, TAG scope and activity, reset a password, delete. The rules (no self-demotion, no
duplicate names, audit entries) live in ``ocelot.accounts.administrators``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ocelot.accounts import administrators
from ocelot.accounts.models import Profile
from ocelot.api.auth import administrators_only
from ocelot.api.errors import not_found
from ocelot.api.requests import address_of, administrator, page, refuse_unknown_parameters, sort_fields
from ocelot.api.schemas import Error, Paging, UserChange, UserCreated, UserIn, UserItem, UserPage

router = Router(tags=["users"], auth=administrators_only)

SORTS: dict[str, str | tuple[str, ...]] = {
    "username": "username",
    "last_login": ("last_login", "username"),
    "date_joined": ("date_joined", "username"),
}


class UserFilters(Schema):
    username: str = Field("", max_length=150, description="part of the user name")
    sort: str = Field("username", description=f"one of {', '.join(SORTS)}, optionally preceded by '-'")


class PasswordOut(Schema):
    password: str = Field(description="generated; shown this once")


def user_item(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.get_username(),
        "administrator": bool(user.is_superuser),
        "active": bool(user.is_active),
        "allowed_tags": _allowed_tags(user),
        "last_login": user.last_login,
        "date_joined": user.date_joined,
    }


def _allowed_tags(user: Any) -> list[str]:
    try:
        return [str(tag) for tag in user.profile.allowed_tags]
    except Profile.DoesNotExist:
        return []


def _user(user_id: int) -> Any:
    user = get_user_model().objects.select_related("profile").filter(pk=user_id).first()
    if user is None:
        raise not_found("user")
    return user


@router.get("/users", response={200: UserPage, 400: Error, 403: Error}, summary="Users (administrators)")
def list_users(request: HttpRequest, filters: Query[UserFilters], paging: Query[Paging]) -> dict[str, Any]:
    administrator(request)
    refuse_unknown_parameters(request, UserFilters.model_fields)
    users = get_user_model().objects.select_related("profile").order_by(*sort_fields(filters.sort, SORTS))
    if filters.username:
        users = users.filter(username__icontains=filters.username)
    return page(users, paging.limit, paging.offset, user_item)


@router.get(
    "/users/{user_id}", response={200: UserItem, 403: Error, 404: Error}, summary="One user (administrators)"
)
def get_user(request: HttpRequest, user_id: int) -> dict[str, Any]:
    administrator(request)
    return user_item(_user(user_id))


@router.post(
    "/users",
    response={201: UserCreated, 400: Error, 403: Error},
    summary="Create a user with a generated password, shown once (administrators)",
)
def create_user(request: HttpRequest, body: UserIn) -> Status[dict[str, Any]]:
    actor = administrator(request)
    password = administrators.create_user(
        body.username,
        administrator=body.administrator,
        allowed_tags=body.allowed_tags,
        actor=actor,
        address=address_of(request),
    )
    user = get_user_model().objects.select_related("profile").get(username=body.username.strip())
    return Status(201, {"user": user_item(user), "password": password})


@router.patch(
    "/users/{user_id}",
    response={200: UserItem, 400: Error, 403: Error, 404: Error},
    summary="Change a user's role, allowed TAGs or activity (administrators)",
)
def update_user(request: HttpRequest, user_id: int, body: UserChange) -> dict[str, Any]:
    actor = administrator(request)
    user = _user(user_id)
    administrators.update_user(
        actor,
        user,
        administrator=body.administrator,
        allowed_tags=body.allowed_tags,
        active=body.active,
        address=address_of(request),
    )
    return user_item(_user(user_id))


@router.post(
    "/users/{user_id}/password",
    response={200: PasswordOut, 403: Error, 404: Error},
    summary="Give a user a new generated password, shown once (administrators)",
)
def reset_password(request: HttpRequest, user_id: int) -> dict[str, Any]:
    actor = administrator(request)
    return {"password": administrators.reset_password(actor, _user(user_id), address=address_of(request))}


@router.delete(
    "/users/{user_id}",
    response={204: None, 400: Error, 403: Error, 404: Error},
    summary="Delete a user (administrators)",
)
def delete_user(request: HttpRequest, user_id: int) -> Status[None]:
    actor = administrator(request)
    administrators.delete_user(actor, _user(user_id), address=address_of(request))
    return Status(204, None)
