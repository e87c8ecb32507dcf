"""Roles, checked in the domain layer: Administrator (everything) and User (read-only,
optionally restricted to chosen TAG values)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ocelot.accounts.models import Profile
from ocelot.inventory.models import Computer


class PermissionDeniedError(Exception):
    """The user may not do this."""


def is_administrator(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def require_administrator(user: Any) -> None:
    if not is_administrator(user):
        raise PermissionDeniedError("administrators only")


def profile_of(user: Any) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def allowed_tags(user: Any) -> list[str] | None:
    """The TAG values a user may see, or None for every computer."""
    if is_administrator(user):
        return None
    tags = profile_of(user).allowed_tags
    return [str(tag) for tag in tags] if tags else None


def visible_computers(user: Any) -> QuerySet[Computer]:
    """The computers a user may see (every query of the console and the API starts here)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Computer.objects.none()
    tags = allowed_tags(user)
    if tags is None:
        return Computer.objects.all()
    return Computer.objects.filter(account_info__tag__in=tags)


def computer_for(user: Any, computer_id: int) -> Computer:
    """One computer, if the user may see it."""
    computer = visible_computers(user).filter(pk=computer_id).first()
    if computer is None:
        raise PermissionDeniedError("no such computer")
    return computer
