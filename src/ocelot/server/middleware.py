"""HTTP-wide rules: the console over HTTPS only, security headers, the user's language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from django.utils import translation

# Paths agents use over plain HTTP (protocol.md §1.1, §8): everything else is HTTPS only.
AGENT_PATHS = ("/ocsinventory", "/download/", "/cacert.pem")

# No inline script or style anywhere (security.md S11): every script is a static file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Handler = Callable[[HttpRequest], HttpResponse]


class ConsoleOverHttpsMiddleware:
    """Redirect console and API requests that arrive on the HTTP listener to HTTPS."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.https_port = settings.CONFIG.https_bind.rpartition(":")[2]  # type: ignore[misc]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.is_secure() or request.path.startswith(AGENT_PATHS):
            return self.get_response(request)
        host, _port = split_domain_port(request.get_host())
        if ":" in host:
            host = f"[{host}]"
        port = "" if self.https_port == "443" else f":{self.https_port}"
        return HttpResponsePermanentRedirect(f"https://{host}{port}{request.get_full_path()}")


class SecurityHeadersMiddleware:
    """Content-Security-Policy and friends on every response."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure():
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


class UserLanguageMiddleware:
    """A user's chosen language wins over the browser's (LocaleMiddleware ran before)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            language = getattr(profile, "language", "") if profile is not None else ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
