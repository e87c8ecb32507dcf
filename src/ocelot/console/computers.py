"""Console pages for computers: dashboard, list, computer page, search, TAG repartition, CSV
export and the mass-processing bar (seed 004, "Résultats des requêtes d'inventaire").

Every page starts from ``visible_computers(request.user)``. The list and the search share
one query-string format (``ocelot.inventory.search.criteria_from_params``: ``field``,
``op``, ``value``, ``value2``) plus ``sort`` and ``page``; a list URL with criteria is a
filtered list (the TAG page and the dashboard charts link to those).
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ocelot.accounts.audit import record
from ocelot.accounts.models import Profile
from ocelot.accounts.roles import computer_for, is_administrator, profile_of, visible_computers
from ocelot.console.charts import Bar, bar_chart
from ocelot.console.presentation import is_windows, operating_system, present_section
from ocelot.console.requests import address_of, admin_view, console_view
from ocelot.inventory import computer_queries as queries
from ocelot.inventory.mass_actions import (
    MassActionError,
    apply_settings,
    delete_computers,
    update_account_info,
    update_computer_settings,
)
from ocelot.inventory.search import (
    FIELDS,
    OPERATOR_LABELS,
    OPERATORS,
    Criterion,
    SearchError,
    criteria_from_params,
    criteria_to_params,
    escape_wildcards,
    search,
    search_fields,
)

BLANK_ROWS = 3


def _profile(request: HttpRequest) -> Profile:
    """The user's profile, reusing the one the language middleware already loaded."""
    try:
        return request.user.profile  # type: ignore[union-attr]
    except Profile.DoesNotExist:
        return profile_of(request.user)


def _audit(request: HttpRequest) -> Any:
    return partial(record, request.user, address=address_of(request))


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _query(pairs: Iterable[tuple[str, str]]) -> str:
    """A query string ending with "&" (or empty), to prefix page/sort parameters."""
    text = urlencode(list(pairs))
    return f"{text}&" if text else ""


def search_url(*criteria: Criterion) -> str:
    """The computer list filtered by these criteria."""
    return reverse("console:computers") + "?" + urlencode(criteria_to_params(criteria))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or default
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=True
    ):
        return default
    return target


# ---------------------------------------------------------------- dashboard and TAGs


def _share_bars(shares: Sequence[queries.Share], field: str) -> list[Bar]:
    """Chart bars for shares of one field, each linking to the computers with that value."""
    bars = []
    for share in shares:
        if share.other:
            bars.append(Bar(_("Others"), share.count, other=True))
        else:
            href = search_url(Criterion(field, "EQUAL", escape_wildcards(share.label)))
            bars.append(Bar(share.label or _("(unknown)"), share.count, href))
    return bars


@console_view
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = queries.dashboard(visible_computers(request.user))
    os_bars = _share_bars(figures.operating_systems, "os")
    agent_bars = _share_bars(figures.agents, "agent")
    context = {
        "figures": figures,
        "os_chart": bar_chart(os_bars, title=_("Operating systems")),
        "agent_chart": bar_chart(agent_bars, title=_("Agent versions")),
    }
    return render(request, "console/dashboard.html", context)


@console_view
def tags(request: HttpRequest) -> HttpResponse:
    counts = queries.tag_repartition(visible_computers(request.user))
    rows = [(item, search_url(Criterion("tag", "EQUAL", escape_wildcards(item.tag)))) for item in counts]
    chart = bar_chart(
        [Bar(item.tag or _("(no TAG)"), item.count, href) for item, href in rows[:30]],
        title=_("Computers per TAG"),
    )
    total = sum(item.count for item in counts)
    return render(request, "console/computers/tags.html", {"rows": rows, "chart": chart, "total": total})


# ---------------------------------------------------------------- list and search


def _listing_context(request: HttpRequest, criteria: Sequence[Criterion], page_path: str) -> dict[str, Any]:
    """The list table for the visible computers matching ``criteria``; raises SearchError / ListError."""
    profile = _profile(request)
    columns = queries.saved_columns(profile.computer_columns)
    page_size = profile.page_size if profile.page_size in queries.PAGE_SIZES else queries.DEFAULT_PAGE_SIZE
    sort = request.GET.get("sort", queries.DEFAULT_SORT)
    queries.parse_sort(sort)
    found = search(visible_computers(request.user), criteria)
    listing = queries.list_page(
        found, columns=columns, sort=sort, page_number=request.GET.get("page"), page_size=page_size
    )
    criteria_pairs = criteria_to_params(criteria)
    current_key, descending = queries.parse_sort(sort)
    headers = [
        {
            "column": column,
            "sorted": column.key == current_key,
            "descending": descending,
            "next_sort": f"-{column.key}" if column.key == current_key and not descending else column.key,
        }
        for column in listing.columns
    ]
    return {
        "listing": listing,
        "headers": headers,
        "page": listing.page,
        "criteria": criteria,
        "criteria_pairs": criteria_pairs,
        "criteria_query": _query(criteria_pairs),
        "query_prefix": _query([*criteria_pairs, ("sort", sort)]),
        "next_url": f"{page_path}?{request.GET.urlencode()}",
        "can_change": is_administrator(request.user),
        "all_columns": queries.COLUMNS.values(),
        "chosen_columns": columns,
        "page_sizes": queries.PAGE_SIZES,
        "page_size": page_size,
        "setting_names": [*queries.COMPUTER_SETTINGS, queries.IPDISCOVER_OVERRIDE],
        "field_labels": {key: item.label for key, item in FIELDS.items()},
        "operator_labels": OPERATOR_LABELS,
    }


@console_view
def computers(request: HttpRequest) -> HttpResponse:
    try:
        criteria = criteria_from_params(request.GET)
        context = _listing_context(request, criteria, reverse("console:computers"))
    except (SearchError, queries.ListError) as exc:
        return _bad_request(request, str(exc))
    context["chips"] = [_describe(criterion) for criterion in criteria]
    return render(request, "console/computers/list.html", context)


def _describe(criterion: Criterion) -> str:
    field = FIELDS.get(criterion.field)
    label = str(field.label) if field else criterion.field.split(":", 1)[-1]
    operator = str(OPERATOR_LABELS.get(criterion.operator, criterion.operator))
    value = (
        f"{criterion.value} .. {criterion.value2}"
        if criterion.operator in ("BETWEEN", "OUTSIDE")
        else criterion.value
    )
    return f"{label} {operator} {value!s}".strip() if value else f"{label} {operator} ∅"


@console_view
def search_page(request: HttpRequest) -> HttpResponse:
    fields = search_fields()
    groups: dict[str, list[Any]] = {}
    for item in fields:
        groups.setdefault(str(item.group), []).append(item)
    context: dict[str, Any] = {"groups": groups, "operators": [(op, OPERATOR_LABELS[op]) for op in OPERATORS]}
    status = 200
    try:
        criteria = criteria_from_params(request.GET)
    except SearchError as exc:
        return _bad_request(request, str(exc))
    context["rows"] = [*criteria, *[Criterion("") for _row in range(max(BLANK_ROWS, 5 - len(criteria)))]]
    if criteria:
        try:
            context.update(_listing_context(request, criteria, reverse("console:search")))
        except queries.ListError as exc:
            return _bad_request(request, str(exc))
        except SearchError as exc:
            context["error"] = str(exc)
            status = 400
    return render(request, "console/computers/search.html", context, status=status)


@require_POST
@console_view
def save_columns(request: HttpRequest) -> HttpResponse:
    try:
        columns = queries.parse_columns(request.POST.getlist("columns"))
        page_size = queries.parse_page_size(request.POST.get("page_size", queries.DEFAULT_PAGE_SIZE))
    except queries.ListError as exc:
        return _bad_request(request, str(exc))
    profile = _profile(request)
    profile.computer_columns = columns
    profile.page_size = page_size
    profile.save(update_fields=["computer_columns", "page_size"])
    return redirect(_safe_next(request, reverse("console:computers")))


class _Echo:
    """A write-only file for csv.writer that hands each line back."""

    def write(self, value: str) -> str:
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell spreadsheets will not run: text starting like a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@console_view
def export_csv(request: HttpRequest) -> HttpResponse:
    try:
        criteria = criteria_from_params(request.GET)
        sort = request.GET.get("sort", queries.DEFAULT_SORT)
        queries.parse_sort(sort)
        found = search(visible_computers(request.user), criteria)
    except (SearchError, queries.ListError) as exc:
        return _bad_request(request, str(exc))
    columns = queries.saved_columns(_profile(request).computer_columns)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in queries.export_rows(found, columns=columns, sort=sort):
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="computers.csv"'
    return response  # type: ignore[return-value]


@require_POST
@admin_view
def mass_action(request: HttpRequest) -> HttpResponse:
    """The mass-processing bar: delete or set settings on every result or the ticked ones."""
    params = QueryDict(mutable=True)
    for key in ("field", "op", "value", "value2"):
        params.setlist(key, request.POST.getlist(key))
    try:
        criteria = criteria_from_params(params)
        chosen = search(visible_computers(request.user), criteria)
    except SearchError as exc:
        return _bad_request(request, str(exc))
    scope = request.POST.get("scope", "selected")
    if scope == "selected":
        try:
            ids = [int(item) for item in request.POST.getlist("ids")]
        except ValueError:
            return _bad_request(request, "ids must be computer ids")
        if not ids:
            messages.warning(request, _("Tick at least one computer, or choose all results."))
            return redirect(_safe_next(request, reverse("console:computers")))
        chosen = chosen.filter(pk__in=ids)
    elif scope != "all":
        return _bad_request(request, "scope must be 'selected' or 'all'")
    action = request.POST.get("action", "")
    back = _safe_next(request, reverse("console:computers"))
    if action == "delete":
        count = delete_computers(chosen, audit=_audit(request))
        messages.success(request, _("%(count)d computers deleted.") % {"count": count})
    elif action == "settings":
        name = request.POST.get("setting", "")
        value = None if request.POST.get("mode") == "inherit" else request.POST.get("setting_value", "")
        try:
            count = apply_settings(chosen, {name: value}, audit=_audit(request))
        except MassActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Setting saved on %(count)d computers.") % {"count": count})
    else:
        return _bad_request(request, "unknown action")
    return redirect(back)


# ---------------------------------------------------------------- the computer page


@console_view
def computer_page(request: HttpRequest, computer_id: int) -> HttpResponse:
    computer = computer_for(request.user, computer_id)
    detail = queries.computer_detail(computer)
    windows = is_windows(computer.os_name)
    return render(
        request,
        "console/computers/detail.html",
        {
            "detail": detail,
            "computer": computer,
            "operating_system": operating_system(computer.os_name, computer.os_version),
            "can_change": is_administrator(request.user),
            "filled": [present_section(table, windows=windows) for table in detail.sections if table.rows],
            "empty": [table for table in detail.sections if not table.rows],
        },
    )


@require_POST
@admin_view
def computer_account(request: HttpRequest, computer_id: int) -> HttpResponse:
    computer = computer_for(request.user, computer_id)
    values: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith("account_"):
            try:
                values[int(key.removeprefix("account_"))] = str(value)
            except ValueError:
                return _bad_request(request, "unknown account info field")
    try:
        changed = update_account_info(
            computer, tag=request.POST.get("tag"), values=values, audit=_audit(request)
        )
    except MassActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Account info saved.") if changed else _("Nothing changed."))
    return redirect(reverse("console:computer", args=[computer.pk]) + "#account")


@require_POST
@admin_view
def computer_settings(request: HttpRequest, computer_id: int) -> HttpResponse:
    computer = computer_for(request.user, computer_id)
    submitted = {
        name: str(request.POST.get(name, ""))
        for name in (*queries.COMPUTER_SETTINGS, queries.IPDISCOVER_OVERRIDE)
        if name in request.POST
    }
    try:
        changed = update_computer_settings(computer, submitted, audit=_audit(request))
    except MassActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Settings saved.") if changed else _("Nothing changed."))
    return redirect(reverse("console:computer", args=[computer.pk]) + "#settings")


@require_POST
@admin_view
def computer_delete(request: HttpRequest, computer_id: int) -> HttpResponse:
    computer = computer_for(request.user, computer_id)
    delete_computers(visible_computers(request.user).filter(pk=computer.pk), audit=_audit(request))
    messages.success(request, _("Computer deleted."))
    return redirect("console:computers")


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("computers/", computers, name="computers"),
    path("computers/columns/", save_columns, name="computer-columns"),
    path("computers/export.csv", export_csv, name="computer-export"),
    path("computers/mass/", mass_action, name="computer-mass"),
    path("computers/<int:computer_id>/", computer_page, name="computer"),
    path("computers/<int:computer_id>/account/", computer_account, name="computer-account"),
    path("computers/<int:computer_id>/settings/", computer_settings, name="computer-settings"),
    path("computers/<int:computer_id>/delete/", computer_delete, name="computer-delete"),
    path("search/", search_page, name="search"),
    path("tags/", tags, name="tags"),
]
