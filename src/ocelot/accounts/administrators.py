"""Administrators: no default password, ever (design.md §6, security.md T44)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model


class AccountError(Exception):
    """A user that cannot be created or changed."""


def generate_password() -> str:
    """A one-time secret: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def has_administrator() -> bool:
    return get_user_model().objects.filter(is_superuser=True, is_active=True).exists()


def create_user(username: str, *, administrator: bool, password: str | None = None) -> str:
    """Create a user and return its password (generated when none is given)."""
    users = get_user_model()
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("a user name is 1 to 150 characters")
    if users.objects.filter(username=username).exists():
        raise AccountError(f"user {username!r} already exists")
    password = password or generate_password()
    if administrator:
        users.objects.create_superuser(username=username, password=password)
    else:
        users.objects.create_user(username=username, password=password)
    return password
