"""API tokens: a random secret shown once; only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from ocelot.accounts.models import ApiToken

PREFIX = "ocl_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user: Any, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (shown once)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "token", key_hash=_hash(raw), prefix=raw[:12]
    )
    return token, raw


def authenticate_token(raw: str) -> Any | None:
    """The active user a token belongs to, or None."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def create_token_for(username: str, name: str) -> str:
    """For ``ocelot tokens create``: a token for an existing user, by name."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise LookupError(f"no user named {username!r}")
    return create_token(user, name)[1]


def tokens_for(username: str) -> list[ApiToken]:
    """For ``ocelot tokens list``: a user's tokens, newest first (never their secrets)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise LookupError(f"no user named {username!r}")
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def tokens_of(user: Any) -> list[ApiToken]:
    """For "My account": the user's own tokens, newest first (never their secrets)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def revoke_token(user: Any, token_id: int) -> ApiToken | None:
    """Delete one of ``user``'s own tokens; returns it (for the audit log), or None when
    ``user`` has no such token (someone else's token is left alone)."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is not None:
        token.delete()
    return token
