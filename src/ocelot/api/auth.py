"""API authentication: ``Authorization: Bearer <token>`` (tokens per user)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from ocelot.accounts.tokens import authenticate_token


class TokenAuth(HttpBearer):
    """Sets ``request.user`` to the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user
