"""API authentication: ``Authorization: Bearer <token>`` (tokens per user).

``TokenAuth`` lets any user with a valid token in (401 otherwise); ``AdministratorAuth``
then refuses everyone but administrators (403) before the request body is even read, so a
read-only user gets the same 403 for every write, whatever it sends (security.md T45).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from ocelot.accounts.roles import require_administrator
from ocelot.accounts.tokens import authenticate_token


class TokenAuth(HttpBearer):
    """Sets ``request.user`` to the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class AdministratorAuth(TokenAuth):
    """A valid token of an administrator; PermissionDeniedError (403) for other users."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = super().authenticate(request, token)
        if user is not None:
            require_administrator(user)
        return user


administrators_only = AdministratorAuth()
