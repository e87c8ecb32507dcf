"""What every endpoint needs from a request: the client address, the user's role, strict
query parameters and bounded pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from ocelot.accounts.roles import require_administrator
from ocelot.api.errors import ApiError
from ocelot.protocol.client_address import client_address

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
# An offset past this is a request for nothing (and a way to make the database count).
MAX_OFFSET = 10_000_000
PAGING = frozenset({"limit", "offset"})

T = TypeVar("T")


def address_of(request: HttpRequest) -> str:
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.CONFIG.trusted_proxies,  # type: ignore[misc]
    )


def administrator(request: HttpRequest) -> Any:
    """The request's user if an administrator; PermissionDeniedError (403) otherwise."""
    user = request.user  # type: ignore[attr-defined]
    require_administrator(user)
    return user


def refuse_unknown_parameters(
    request: HttpRequest, allowed: Iterable[str], repeatable: Iterable[str] = ()
) -> None:
    """400 for a query parameter the endpoint does not know, or one given twice that may
    appear only once (security.md T38: allow-lists only)."""
    repeatable = frozenset(repeatable)
    known = set(allowed) | PAGING | repeatable
    unknown = sorted(key for key in request.GET if key not in known)
    if unknown:
        shown = ", ".join(repr(key[:40]) for key in unknown[:5])
        raise ApiError(400, "unknown_parameter", f"unknown query parameter {shown}")
    repeated = sorted(
        key for key in request.GET if key not in repeatable and len(request.GET.getlist(key)) > 1
    )
    if repeated:
        raise ApiError(400, "repeated_parameter", f"query parameter {repeated[0]!r} is given more than once")


def sort_fields(sort: str, allowed: Mapping[str, str | Sequence[str]]) -> list[str]:
    """The ORM ordering for ``name`` or ``-name``, from an allow-list of names; 400 otherwise."""
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in allowed:
        names = ", ".join(sorted(allowed))
        raise ApiError(400, "invalid_sort", f"sort must be one of {names}, optionally preceded by '-'")
    columns = allowed[key]
    columns = [columns] if isinstance(columns, str) else list(columns)
    return [f"-{column}" if descending else column for column in columns]


def page(
    queryset: QuerySet[Any],
    limit: int,
    offset: int,
    item: Callable[[Any], T] = lambda row: row,
    *,
    counted: QuerySet[Any] | None = None,
) -> dict[str, Any]:
    """One bounded page of a query: the total count and at most ``limit`` items.

    ``counted`` is the same set without the page's joins and annotations, cheaper to count.
    """
    rows = list(queryset[offset : offset + limit])
    total = (queryset if counted is None else counted).count()
    return {"count": total, "limit": limit, "offset": offset, "items": [item(row) for row in rows]}
