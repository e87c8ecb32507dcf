"""Users and administrators: no default password, ever (design.md §6, security.md T44)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from ocelot.accounts import audit
from ocelot.accounts.models import Profile
from ocelot.accounts.roles import require_administrator


class AccountError(Exception):
    """A user that cannot be created or changed."""


def generate_password() -> str:
    """A one-time secret: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def has_administrator() -> bool:
    return get_user_model().objects.filter(is_superuser=True, is_active=True).exists()


def create_user(
    username: str,
    *,
    administrator: bool,
    password: str | None = None,
    allowed_tags: Sequence[str] = (),
    actor: Any = None,
    address: str = "",
) -> str:
    """Create a user and return its password (generated when none is given).

    ``actor`` is the administrator doing it (None from the command line).
    """
    if actor is not None:
        require_administrator(actor)
    users = get_user_model()
    username = username.strip()
    if not username or len(username) > 150 or any(ch.isspace() for ch in username):
        raise AccountError("a user name is 1 to 150 characters without spaces")
    if users.objects.filter(username__iexact=username).exists():
        raise AccountError(f"user {username!r} already exists")
    if password is not None:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise AccountError(" ".join(exc.messages)) from None
    password = password or generate_password()
    with transaction.atomic():
        if administrator:
            user = users.objects.create_superuser(username=username, password=password)
        else:
            user = users.objects.create_user(username=username, password=password)
        Profile.objects.create(user=user, allowed_tags=[t.strip() for t in allowed_tags if t.strip()])
        audit.record(actor, "user.create", username, address=address, administrator=administrator)
    return password


def change_password(user: Any, old: str, new: str, *, address: str = "") -> None:
    """A user changes their own password."""
    if not user.check_password(old):
        raise AccountError("the current password is wrong")
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from None
    user.set_password(new)
    user.save(update_fields=["password"])
    audit.record(user, "user.password", user.get_username(), address=address)


def update_user(
    actor: Any,
    user: Any,
    *,
    administrator: bool | None = None,
    allowed_tags: Sequence[str] | None = None,
    active: bool | None = None,
    address: str = "",
) -> None:
    """An administrator changes another user's role, TAG scope or activity."""
    require_administrator(actor)
    if user.pk == actor.pk and (administrator is False or active is False):
        raise AccountError("you cannot remove your own administrator rights")
    with transaction.atomic():
        if administrator is not None:
            user.is_superuser = user.is_staff = administrator
        if active is not None:
            user.is_active = active
        user.save()
        profile, _ = Profile.objects.get_or_create(user=user)
        if allowed_tags is not None:
            profile.allowed_tags = [t.strip() for t in allowed_tags if t.strip()]
            profile.save(update_fields=["allowed_tags"])
        audit.record(
            actor,
            "user.update",
            user.get_username(),
            address=address,
            administrator=user.is_superuser,
            active=user.is_active,
            tags=",".join(profile.allowed_tags),
        )


def delete_user(actor: Any, user: Any, *, address: str = "") -> None:
    require_administrator(actor)
    if user.pk == actor.pk:
        raise AccountError("you cannot delete yourself")
    name = user.get_username()
    user.delete()
    audit.record(actor, "user.delete", name, address=address)


def reset_password(actor: Any, user: Any, *, address: str = "") -> str:
    """An administrator gives a user a new generated password (shown once)."""
    require_administrator(actor)
    password = generate_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor, "user.reset_password", user.get_username(), address=address)
    return password
