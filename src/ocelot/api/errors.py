"""One JSON error shape for the whole API: ``{"code": ..., "message": ...}``.

Each domain's exception family is mapped here, once (design.md §8): a PermissionDeniedError
is a 403, a SettingError or an AccountValueError a 400, and so on. Nothing an error says
is HTML: inventory strings in a message stay inert JSON text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from ocelot.accounts.administrators import AccountError
from ocelot.accounts.roles import PermissionDeniedError
from ocelot.deployment.errors import (
    ActivationCheckError,
    ActivationError,
    ArchiveError,
    AssignmentError,
    PackageInputError,
    PackageNotFoundError,
    PackageStorageError,
)
from ocelot.inventory.account_info import AccountValueError
from ocelot.inventory.search import SearchError
from ocelot.inventory.setting_catalogue import SettingError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a door raises with its HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


# Domain errors that mean "the request is invalid": (exception, code).
_INVALID: tuple[tuple[type[Exception], str], ...] = (
    (SettingError, "invalid_setting"),
    (AccountValueError, "invalid_account_value"),
    (AccountError, "invalid_user"),
    (SearchError, "invalid_search"),
    (PackageInputError, "invalid_package"),
    (ArchiveError, "invalid_archive"),
    (ActivationError, "invalid_activation"),
    (AssignmentError, "invalid_assignment"),
)


def install(api: NinjaAPI) -> None:
    def reply(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
        return api.create_response(request, {"code": code, "message": message}, status=status)

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return reply(request, exc.status, exc.code, str(exc))

    @api.exception_handler(PermissionDeniedError)
    def forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
        return reply(request, 403, "forbidden", str(exc))

    def invalid_input(code: str) -> Callable[[HttpRequest, Exception | type[Exception]], HttpResponse]:
        return lambda request, exc: reply(request, 400, code, str(exc))

    for exception, code in _INVALID:
        api.add_exception_handler(exception, invalid_input(code))

    @api.exception_handler(PackageNotFoundError)
    def no_package(request: HttpRequest, exc: PackageNotFoundError) -> HttpResponse:
        return reply(request, 404, "not_found", str(exc))

    @api.exception_handler(ActivationCheckError)
    def check_failed(request: HttpRequest, exc: ActivationCheckError) -> HttpResponse:
        # Which files did not answer, one line each, as the console lists them (seeds 002).
        body = {"code": "activation_check_failed", "message": str(exc), "failures": exc.failures}
        return api.create_response(request, body, status=422)

    @api.exception_handler(PackageStorageError)
    def storage_failed(request: HttpRequest, exc: PackageStorageError) -> HttpResponse:
        return reply(request, 507, "storage_error", str(exc))

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return reply(request, 401, "unauthorized", "a valid API token is required")

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return reply(request, 400, "invalid", f"{where}: {first.get('msg', 'invalid input')}".strip(": "))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return reply(request, exc.status_code, "error", str(exc))

    @api.exception_handler(Http404)
    def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return reply(request, 404, "not_found", "not found")

    @api.exception_handler(Exception)
    def crashed(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return reply(request, 500, "internal_error", "internal server error")
