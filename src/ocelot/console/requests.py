"""What every console view needs from a request: the client address and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string

from ocelot.accounts.roles import PermissionDeniedError, is_administrator
from ocelot.protocol.client_address import client_address

View = Callable[..., HttpResponse]


def address_of(request: HttpRequest) -> str:
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.CONFIG.trusted_proxies,  # type: ignore[misc]
    )


def forbidden(request: HttpRequest) -> HttpResponse:
    return HttpResponseForbidden(render_to_string("console/forbidden.html", request=request))


def console_view(view: View) -> View:
    """Logged-in users only; a PermissionDeniedError from the domain becomes a 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError:
            return forbidden(request)

    return wrapper


def admin_view(view: View) -> View:
    """Administrators only (403 for others, even by direct URL)."""

    @console_view
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_administrator(request.user):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapper
