"""Console pages for groups (issue 7, seeds 001 and 002 "Groupes"): the list, a group's page
(members with their forced / excluded marks, settings, deployment statistics, recompute),
creating static groups, saving a search as a dynamic group, and adding search results to
a static group from the mass-processing bar.

Rules live in ``ocelot.inventory.groups``; administrators change groups, and a user may
only add the computers they see to a *visible* static group (seed 002).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ocelot.accounts.audit import record
from ocelot.accounts.roles import PermissionDeniedError, is_administrator, visible_computers
from ocelot.console.requests import address_of, admin_view, console_view
from ocelot.deployment.groups import group_statistics
from ocelot.inventory import groups
from ocelot.inventory.models import Group, GroupMember
from ocelot.inventory.search import (
    FIELDS,
    OPERATOR_LABELS,
    Criterion,
    SearchError,
    criteria_from_params,
    criteria_to_params,
    search,
)

MEMBERS_PER_PAGE = 100


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _audit(request: HttpRequest, action: str, group: Group, **details: Any) -> None:
    record(request.user, action, f"group {group.pk} {group.name}", address=address_of(request), **details)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or default
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=True
    ):
        return default
    return target


def _group_for(request: HttpRequest, group_id: int) -> Group:
    """A group the user may see: every group for administrators, visible ones for users."""
    query = Group.objects.filter(pk=group_id)
    if not is_administrator(request.user):
        query = query.filter(visible=True)
    group = query.first()
    if group is None:
        raise PermissionDeniedError("no such group")
    return group


def describe(criterion: Criterion) -> str:
    """A criterion in words, as the computer list's chips show it."""
    field = FIELDS.get(criterion.field)
    label = str(field.label) if field else criterion.field.split(":", 1)[-1]
    operator = str(OPERATOR_LABELS.get(criterion.operator, criterion.operator))
    value = (
        f"{criterion.value} .. {criterion.value2}"
        if criterion.operator in ("BETWEEN", "OUTSIDE")
        else criterion.value or "∅"
    )
    return f"{label} {operator} {value}"


def _criteria_url(criteria: list[Criterion]) -> str:
    from urllib.parse import urlencode

    return reverse("console:search") + "?" + urlencode(criteria_to_params(criteria))


# ---------------------------------------------------------------- list and create


@console_view
def group_list(request: HttpRequest) -> HttpResponse:
    groups.recompute_stale()
    administrator = is_administrator(request.user)
    chosen = Group.objects.all() if administrator else Group.objects.filter(visible=True)
    rows = [(item, groups.cache_age(item.group)) for item in groups.summaries(chosen)]
    return render(request, "console/groups/list.html", {"rows": rows, "can_change": administrator})


@require_POST
@admin_view
def group_create(request: HttpRequest) -> HttpResponse:
    """A static group (name, description, visible), or a dynamic one when the form carries
    the search's ``field`` / ``op`` / ``value`` / ``value2`` (the search page's "save as group")."""
    params = QueryDict(mutable=True)
    for key in ("field", "op", "value", "value2"):
        params.setlist(key, request.POST.getlist(key))
    try:
        criteria = criteria_from_params(params) if request.POST.get("dynamic") else None
        group = groups.create_group(
            str(request.POST.get("name", "")),
            description=str(request.POST.get("description", "")),
            visible=bool(request.POST.get("visible")),
            criteria=criteria,
        )
    except (groups.GroupError, SearchError) as exc:
        messages.error(request, str(exc))
        return redirect(_safe_next(request, reverse("console:groups")))
    _audit(request, "group.create", group, dynamic=groups.is_dynamic(group))
    messages.success(request, _("Group %(name)s created.") % {"name": group.name})
    return redirect("console:group", group.pk)


# ---------------------------------------------------------------- the group page


@console_view
def group_page(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group_for(request, group_id)
    if groups.is_dynamic(group) and group in groups.stale_groups():
        groups.recompute_all([group])
    administrator = is_administrator(request.user)
    rows = groups.memberships(group).filter(computer__in=visible_computers(request.user).values("pk"))
    page = Paginator(rows, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    criteria = groups.criteria_of(group)
    context = {
        "group": group,
        "summary": groups.summary(group),
        "cache_age": groups.cache_age(group),
        "criteria": [describe(item) for item in criteria],
        "search_url": _criteria_url(criteria) if criteria else "",
        "page": page,
        "query_prefix": "",
        "kinds": {
            "dynamic": GroupMember.DYNAMIC,
            "static": GroupMember.STATIC,
            "excluded": GroupMember.EXCLUDED,
        },
        "settings": groups.group_settings(group) if administrator else [],
        "statistics": group_statistics(group),
        "can_change": administrator,
    }
    return render(request, "console/groups/detail.html", context)


@require_POST
@admin_view
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group_for(request, group_id)
    try:
        groups.update_group(
            group,
            name=str(request.POST.get("name", group.name)),
            description=str(request.POST.get("description", "")),
            visible=bool(request.POST.get("visible")),
        )
    except groups.GroupError as exc:
        messages.error(request, str(exc))
    else:
        _audit(request, "group.edit", group)
        messages.success(request, _("Group saved."))
    return redirect("console:group", group_id)


@require_POST
@admin_view
def group_members(request: HttpRequest, group_id: int) -> HttpResponse:
    """Remove, exclude or release (let the search decide again) the ticked members."""
    group = _group_for(request, group_id)
    try:
        ids = [int(item) for item in request.POST.getlist("ids")]
    except ValueError:
        return _bad_request("ids must be computer ids")
    action = request.POST.get("action", "")
    changes = {
        "remove": groups.remove,
        "exclude": groups.exclude,
        "release": groups.release,
        "add": groups.force_in,
    }
    if action not in changes:
        return _bad_request("unknown action")
    if not ids:
        messages.warning(request, _("Tick at least one computer."))
        return redirect("console:group", group_id)
    visible = set(visible_computers(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    try:
        count = changes[action](group, sorted(visible))
    except groups.GroupError as exc:
        messages.error(request, str(exc))
    else:
        _audit(request, f"group.{action}", group, computers=count)
        messages.success(request, _("%(count)d computers changed.") % {"count": count})
    return redirect("console:group", group_id)


@require_POST
@admin_view
def group_settings(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group_for(request, group_id)
    submitted = {
        name: str(request.POST.get(name, ""))
        for name in [entry.name for entry in groups.group_settings(group)]
        if name in request.POST
    }
    try:
        changed = groups.update_group_settings(group, submitted)
    except groups.GroupError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            _audit(request, "group.settings", group, settings=",".join(changed))
        messages.success(request, _("Settings saved.") if changed else _("Nothing changed."))
    return redirect(reverse("console:group", args=[group_id]) + "#settings")


@require_POST
@admin_view
def group_recompute(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group_for(request, group_id)
    try:
        outcome = groups.recompute(group)
    except groups.GroupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Recomputed: %(joined)d joined, %(left)d left.")
            % {"joined": outcome.joined, "left": outcome.left},
        )
    return redirect("console:group", group_id)


@require_POST
@admin_view
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group_for(request, group_id)
    _audit(request, "group.delete", group)
    groups.delete_group(group)
    messages.success(request, _("Group deleted."))
    return redirect("console:groups")


# ---------------------------------------------------------------- from the search results


@require_POST
@console_view
def add_from_search(request: HttpRequest) -> HttpResponse:
    """The mass-processing bar's "Add to group": the ticked computers or every result of
    the search, among those the user sees; users only into visible static groups."""
    back = _safe_next(request, reverse("console:computers"))
    params = QueryDict(mutable=True)
    for key in ("field", "op", "value", "value2"):
        params.setlist(key, request.POST.getlist(key))
    try:
        chosen = search(visible_computers(request.user), criteria_from_params(params))
        group_id = int(request.POST.get("group", ""))
    except SearchError as exc:
        return _bad_request(str(exc))
    except ValueError:
        messages.warning(request, _("Choose a group."))
        return redirect(back)
    scope = request.POST.get("scope", "selected")
    if scope == "selected":
        try:
            ids = [int(item) for item in request.POST.getlist("ids")]
        except ValueError:
            return _bad_request("ids must be computer ids")
        if not ids:
            messages.warning(request, _("Tick at least one computer, or choose all results."))
            return redirect(back)
        chosen = chosen.filter(pk__in=ids)
    elif scope != "all":
        return _bad_request("scope must be 'selected' or 'all'")
    group = _group_for(request, group_id)
    try:
        count = groups.force_in(
            group, chosen.values_list("pk", flat=True), administrator=is_administrator(request.user)
        )
    except groups.GroupError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    _audit(request, "group.add", group, computers=count)
    messages.success(
        request, _("%(count)d computers added to %(name)s.") % {"count": count, "name": group.name}
    )
    return redirect(back)


urlpatterns = [
    path("groups/", group_list, name="groups"),
    path("groups/create/", group_create, name="group-create"),
    path("groups/add/", add_from_search, name="group-add"),
    path("groups/<int:group_id>/", group_page, name="group"),
    path("groups/<int:group_id>/edit/", group_edit, name="group-edit"),
    path("groups/<int:group_id>/members/", group_members, name="group-members"),
    path("groups/<int:group_id>/settings/", group_settings, name="group-settings"),
    path("groups/<int:group_id>/recompute/", group_recompute, name="group-recompute"),
    path("groups/<int:group_id>/delete/", group_delete, name="group-delete"),
]
