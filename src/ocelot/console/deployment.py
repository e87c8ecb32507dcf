"""Console pages for package deployment (seeds 002 "Deployment", issue 4).

The package list (with the Not notified, Success and Errors columns of each activation),
the build form (its fragment count and per-priority waiting time, live with
``packages.js`` and on request without it; the upload streamed to disk with a progress
bar), a package's page (activate with the file check and the seeds' warnings, deactivate,
delete, assign to a group), the statistics of a package or one activation (a chart of the
statuses that refreshes itself while the deployment runs, the computers behind each number,
Validate success / Unassign not notified / Validate all), and the assignment door used by
the computer page's Deploy box and the search results' mass-action bar.

Each view parses its form and calls the deployment function the CLI's verb calls
(``ocelot package build|activate|assign|stats ...``). Reading is for every user (statistics
count only the computers a user may see); changing is for administrators and is audited.
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from ocelot.accounts.audit import record
from ocelot.accounts.roles import is_administrator, visible_computers
from ocelot.console.charts import Bar, bar_chart
from ocelot.console.requests import address_of, admin_view, console_view
from ocelot.deployment import activation as activations
from ocelot.deployment import assignment
from ocelot.deployment.build import OPERATING_SYSTEMS, PackageRequest, build_package
from ocelot.deployment.catalogue import delete_package, packages
from ocelot.deployment.download_estimate import Latencies, current_latencies, estimates_by_priority
from ocelot.deployment.errors import ActivationCheckError, PackageError, PackageInputError
from ocelot.deployment.fragments import DEFAULT_FRAGMENT_SIZE, parse_fragment_size
from ocelot.deployment.groups import find_group
from ocelot.deployment.models import Activation, Package
from ocelot.deployment.uploads import check_upload, stream_uploads_to_disk
from ocelot.inventory.models import Computer
from ocelot.inventory.search import SearchError, criteria_from_params, search
from ocelot.inventory.setting_values import global_values
from ocelot.protocol.info_file import ACTIONS, MAX_FRAGMENTS

# Statistics pages reload themselves this often while assignments wait or are notified.
REFRESH_SECONDS = 10
COMPUTERS_PER_PAGE = 100
OS_LABELS = {"windows": "Windows", "linux": "Linux", "macos": "macOS"}
CATEGORY_LABELS = {
    assignment.WAITING: gettext_lazy("Not notified"),
    assignment.NOTIFIED: gettext_lazy("Notified"),
    assignment.SUCCESS: gettext_lazy("Success"),
    assignment.ERROR: gettext_lazy("Errors"),
    assignment.OTHER: gettext_lazy("Other"),
}
POST_COMMAND_CHOICES = ("", "REBOOT", "SHUTDOWN", "command")


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _audit(request: HttpRequest, action: str, package: Package, **details: Any) -> None:
    record(
        request.user, action, package.name, address=address_of(request), package=package.package_id, **details
    )


def _package(package_id: int) -> Package:
    package = Package.objects.filter(package_id=package_id).first()
    if package is None:
        raise Http404("no such package")
    return package


def _scope(request: HttpRequest) -> QuerySet[Computer] | None:
    """The computers a user's statistics count: None (all) for administrators."""
    return None if is_administrator(request.user) else visible_computers(request.user)


def duration(seconds: int | None) -> str:
    """``1h02m03s`` / ``2m05s`` / never (a priority above the period length)."""
    if seconds is None:
        return _("never (priority above the period length)")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def estimate_rows(fragments: int, latencies: Latencies) -> list[tuple[int, int | None, str]]:
    """(priority, seconds, shown) for priorities 0 to 10."""
    return [
        (priority, seconds, duration(seconds))
        for priority, seconds in estimates_by_priority(fragments, latencies).items()
    ]


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or default
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=True
    ):
        return default
    return target


# ---------------------------------------------------------------- list


def activation_rows(scope: QuerySet[Computer] | None, package: Package | None = None) -> list[dict[str, Any]]:
    """Each activation with its Not notified / Success / Errors counts (seeds 002 "Activated packages")."""
    counts = assignment.category_counts_by_activation(package, computers=scope)
    empty = dict.fromkeys(assignment.CATEGORIES, 0)
    return [
        {"activation": activation, "categories": counts.get(activation.pk, empty)}
        for activation in activations.activations(package)
    ]


@console_view
def package_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    return render(
        request,
        "console/packages/list.html",
        {
            "packages": packages(),
            "activations": activation_rows(scope),
            "can_change": is_administrator(request.user),
            "os_labels": OS_LABELS,
            "deployment_on": deployment_switched_on(),
        },
    )


# ---------------------------------------------------------------- build


def _int(values: QueryDict, name: str, label: str) -> int | None:
    text = str(values.get(name, "")).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise PackageInputError(_("%(label)s must be a whole number.") % {"label": label}) from None


def _fragment_choice(values: QueryDict) -> tuple[int | None, int | None]:
    """(count, size) from the form: one of them, as the administrator chose."""
    if values.get("fragment_mode") == "size":
        text = str(values.get("fragment_size", "")).strip()
        return None, parse_fragment_size(text) if text else None
    return _int(values, "fragments", _("The fragment count")), None


def package_request(values: QueryDict, archive_name: str) -> PackageRequest:
    """The build form as a PackageRequest (every rule is checked by build_package)."""
    action = str(values.get("action", "")).upper()
    notify = values.get("notify_user") == "on"
    done = values.get("need_done_action") == "on"
    count, size = _fragment_choice(values)
    priority = _int(values, "priority", _("The priority"))
    return PackageRequest(
        name=str(values.get("name", "")).strip(),
        os=str(values.get("os", "")),
        action=action,
        command=str(values.get("command", "")).strip() if action != "STORE" else "",
        path=str(values.get("path", "")).strip() if action == "STORE" else "",
        priority=5 if priority is None else priority,
        protocol=str(values.get("protocol", "HTTP")).upper(),
        description=str(values.get("description", "")),
        notify_user=notify,
        notify_text=str(values.get("notify_text", "")) if notify else "",
        notify_countdown=_int(values, "notify_countdown", _("The countdown")) if notify else None,
        notify_can_abort=notify and values.get("notify_can_abort") == "on",
        notify_can_delay=notify and values.get("notify_can_delay") == "on",
        need_done_action=done,
        need_done_action_text=str(values.get("need_done_action_text", "")) if done else "",
        fragment_count=count,
        fragment_size=size,
        archive_name=archive_name,
    )


def _build_context(values: QueryDict, error: str = "") -> dict[str, Any]:
    latencies = current_latencies()
    try:
        count = _int(values, "fragments", "") or 1
    except PackageInputError:
        count = 1
    count = min(max(count, 1), MAX_FRAGMENTS)
    return {
        "values": values,
        "error": error,
        "operating_systems": [(name, OS_LABELS.get(name, name)) for name in OPERATING_SYSTEMS],
        "actions": ACTIONS,
        "priorities": range(11),
        "latencies": latencies,
        "estimate_fragments": count,
        "estimates": estimate_rows(count, latencies),
        "default_fragment_size": DEFAULT_FRAGMENT_SIZE,
        "max_fragments": MAX_FRAGMENTS,
    }


@admin_view
def package_build_form(request: HttpRequest) -> HttpResponse:
    return render(request, "console/packages/build.html", _build_context(request.GET))


@csrf_exempt  # the upload handler must be in place before the CSRF check reads the body
@require_POST
@admin_view
def package_build(request: HttpRequest) -> HttpResponse:
    stream_uploads_to_disk(request)
    return _build(request)


@csrf_protect
def _build(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        check_upload(request)
        build = package_request(request.POST, str(upload.name or "") if upload is not None else "")
        # A file on disk in staging/ (StagingUploadHandler): read, seek and tell as a file.
        package = build_package(build, cast(BinaryIO, upload) if upload is not None else None)
    except PackageError as exc:
        return render(
            request, "console/packages/build.html", _build_context(request.POST, str(exc)), status=400
        )
    _audit(request, "package.build", package)
    messages.success(
        request,
        _("Package %(name)s built: %(count)d fragments.")
        % {"name": package.name, "count": package.fragment_count},
    )
    target = reverse("console:package", args=[package.package_id])
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # packages.js uploaded it: it opens the page itself (a redirect followed inside the
        # request would show, and so use up, the message before the browser gets there).
        return JsonResponse({"location": target})
    return redirect(target)


# ---------------------------------------------------------------- one package


def deployment_switched_on() -> bool:
    """DOWNLOAD and DOWNLOAD_SWITCH (off by default, as in OCS): without both, contacts
    announce no package (protocol.md §4.4), whatever is assigned."""
    values = global_values()
    return bool(int(values["DOWNLOAD"])) and bool(int(values["DOWNLOAD_SWITCH"]))


def _package_context(request: HttpRequest, package: Package) -> dict[str, Any]:
    default_info, default_fragments = activations.default_locations(package.protocol)
    return {
        "deployment_on": deployment_switched_on(),
        "package": package,
        "os_label": OS_LABELS.get(package.os, package.os),
        "activations": activation_rows(_scope(request), package),
        "estimates": estimate_rows(package.fragment_count, current_latencies()),
        "default_info": default_info,
        "default_fragments": default_fragments,
        "can_change": is_administrator(request.user),
        "post_commands": POST_COMMAND_CHOICES,
        "group_assignments": package.group_assignments.select_related("group").order_by("group__name"),
    }


@console_view
def package_page(request: HttpRequest, package_id: int) -> HttpResponse:
    package = _package(package_id)
    return render(request, "console/packages/detail.html", _package_context(request, package))


@require_POST
@admin_view
def package_activate(request: HttpRequest, package_id: int) -> HttpResponse:
    package = _package(package_id)
    info = str(request.POST.get("info_location", "")).strip() or None
    fragments = str(request.POST.get("fragment_location", "")).strip() or None
    check = request.POST.get("check", "on") == "on"
    try:
        result = activations.activate(package, info, fragments, check=check)
    except ActivationCheckError as exc:
        context = _package_context(request, package)
        context.update({"check_failures": exc.failures, "activate_values": request.POST})
        return render(request, "console/packages/detail.html", context, status=400)
    except PackageError as exc:
        context = _package_context(request, package)
        context.update({"activate_error": str(exc), "activate_values": request.POST})
        return render(request, "console/packages/detail.html", context, status=400)
    _audit(request, "package.activate", package, activation=result.activation.pk)
    for warning in result.warnings:
        messages.warning(request, warning)
    messages.success(request, _("Package activated (activation %(id)d).") % {"id": result.activation.pk})
    return redirect("console:package", package_id=package.package_id)


def _activation(package: Package, activation_id: int) -> Activation:
    found = Activation.objects.filter(package=package, pk=activation_id).select_related("package").first()
    if found is None:
        raise Http404("no such activation")
    return found


@admin_view
def package_deactivate(request: HttpRequest, package_id: int, activation_id: int) -> HttpResponse:
    """GET: the confirmation page (works without script); POST: deactivate."""
    package = _package(package_id)
    chosen = _activation(package, activation_id)
    if request.method != "POST":
        stats = assignment.statistics(package, chosen)
        return render(
            request,
            "console/packages/confirm.html",
            {"package": package, "activation": chosen, "what": "deactivate", "assigned": stats.total},
        )
    removed = activations.deactivate(chosen)
    _audit(request, "package.deactivate", package, activation=activation_id, removed=removed)
    messages.success(
        request,
        _("Activation %(id)d removed: %(count)d assignments cancelled; the files are kept.")
        % {"id": activation_id, "count": removed},
    )
    return redirect("console:package", package_id=package.package_id)


@admin_view
def package_delete(request: HttpRequest, package_id: int) -> HttpResponse:
    """GET: the confirmation page; POST: delete the package and its files."""
    package = _package(package_id)
    if request.method != "POST":
        stats = assignment.statistics(package)
        return render(
            request,
            "console/packages/confirm.html",
            {"package": package, "what": "delete", "assigned": stats.total},
        )
    try:
        delete_package(package)
    except PackageError as exc:
        messages.error(request, str(exc))
        return redirect("console:package", package_id=package.package_id)
    _audit(request, "package.delete", package)
    messages.success(request, _("Package %(name)s deleted.") % {"name": package.name})
    return redirect("console:packages")


# ---------------------------------------------------------------- assignments


def _options(values: QueryDict) -> assignment.AssignmentOptions:
    choice = str(values.get("post_command", ""))
    if choice not in POST_COMMAND_CHOICES:
        raise PackageInputError(_("Choose a post-command from the list."))
    command = str(values.get("post_command_text", "")).strip() if choice == "command" else choice
    if choice == "command" and not command:
        raise PackageInputError(_("Type the command to run afterwards."))
    return assignment.AssignmentOptions(
        force=values.get("force") == "on",
        schedule=str(values.get("schedule", "")).strip(),
        post_command=command,
    )


def _chosen_activation(values: QueryDict) -> Activation:
    text = str(values.get("activation", "")).strip()
    found = (
        Activation.objects.select_related("package").filter(pk=int(text)).first() if text.isdigit() else None
    )
    if found is None:
        raise PackageInputError(_("Choose an activated package."))
    return found


def _computers_of_request(request: HttpRequest) -> list[int]:
    """The ticked computers, or every result of the search (not only the page shown), or one."""
    visible = visible_computers(request.user)
    if "computer" in request.POST:
        text = str(request.POST["computer"])
        if not text.isdigit() or not visible.filter(pk=int(text)).exists():
            raise PackageInputError(_("No such computer."))
        return [int(text)]
    params = QueryDict(mutable=True)
    for key in ("field", "op", "value", "value2"):
        params.setlist(key, request.POST.getlist(key))
    found = search(visible, criteria_from_params(params))
    scope = request.POST.get("scope", "selected")
    if scope == "selected":
        try:
            ids = [int(item) for item in request.POST.getlist("ids")]
        except ValueError:
            raise PackageInputError(_("ids must be computer ids")) from None
        if not ids:
            raise PackageInputError(_("Tick at least one computer, or choose all results."))
        found = found.filter(pk__in=ids)
    elif scope != "all":
        raise PackageInputError("scope must be 'selected' or 'all'")
    return list(found.order_by("pk").values_list("pk", flat=True))


@require_POST
@admin_view
def assign(request: HttpRequest) -> HttpResponse:
    """The Deploy box of a computer and the Deploy action of the search results' bar."""
    back = _safe_next(request, reverse("console:computers"))
    try:
        chosen = _chosen_activation(request.POST)
        options = _options(request.POST)
        ids = _computers_of_request(request)
        outcome = assignment.assign(chosen, ids, options)
    except (PackageError, SearchError) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    package = chosen.package
    _audit(request, "package.assign", package, activation=chosen.pk, computers=len(ids))
    messages.success(
        request,
        _("%(name)s assigned to %(count)d computers (%(new)d new, %(again)d started over).")
        % {"name": package.name, "count": outcome.total, "new": outcome.created, "again": outcome.restarted},
    )
    return redirect(back)


@require_POST
@admin_view
def assign_group(request: HttpRequest, package_id: int) -> HttpResponse:
    """Assign to a static group's members now and to its later members at their next contact."""
    package = _package(package_id)
    try:
        chosen = _chosen_activation(request.POST)
        if chosen.package_id != package.pk:
            raise PackageInputError(_("Choose an activation of this package."))
        group = find_group(str(request.POST.get("group", "")))
        outcome = assignment.assign_to_group(chosen, group, _options(request.POST))
    except PackageError as exc:
        messages.error(request, str(exc))
        return redirect("console:package", package_id=package.package_id)
    _audit(request, "package.assign.group", package, activation=chosen.pk, group=group.name)
    messages.success(
        request,
        _(
            "%(name)s assigned to group %(group)s: %(count)d computers now, "
            "later members at their next contact."
        )
        % {"name": package.name, "group": group.name, "count": outcome.total},
    )
    return redirect("console:package", package_id=package.package_id)


@require_POST
@admin_view
def unassign_group(request: HttpRequest, package_id: int) -> HttpResponse:
    package = _package(package_id)
    try:
        group = find_group(str(request.POST.get("group", "")))
    except PackageError as exc:
        messages.error(request, str(exc))
    else:
        assignment.unassign_group(package, group)
        _audit(request, "package.unassign.group", package, group=group.name)
        messages.success(
            request, _("Group %(group)s: later members will not get it.") % {"group": group.name}
        )
    return redirect("console:package", package_id=package.package_id)


# ---------------------------------------------------------------- statistics


@console_view
def statistics_page(request: HttpRequest, package_id: int) -> HttpResponse:
    package = _package(package_id)
    chosen = None
    activation_text = request.GET.get("activation", "")
    if activation_text:
        if not activation_text.isdigit():
            return _bad_request("activation must be an activation id")
        chosen = _activation(package, int(activation_text))
    scope = _scope(request)
    stats = assignment.statistics(package, chosen, computers=scope)
    base = reverse("console:package-statistics", args=[package.package_id])
    prefix = f"{base}?activation={chosen.pk}&" if chosen is not None else f"{base}?"
    bars = [
        Bar(status, count, f"{prefix}{urlencode({'status': status})}#computers")
        for status, count in stats.statuses.items()
    ]
    rows = package.assignments.select_related("computer", "activation").order_by(
        "computer__name", "computer_id"
    )
    if chosen is not None:
        rows = rows.filter(activation=chosen)
    if scope is not None:
        rows = rows.filter(computer__in=scope.values("pk"))
    status = request.GET.get("status", "")
    if status:
        wanted = assignment.computers_with_status(package, status)
        rows = rows.filter(computer_id__in=wanted)
    page = Paginator(rows, COMPUTERS_PER_PAGE).get_page(request.GET.get("page"))
    running = stats.categories[assignment.WAITING] + stats.categories[assignment.NOTIFIED] > 0
    return render(
        request,
        "console/packages/statistics.html",
        {
            "package": package,
            "activation": chosen,
            "stats": stats,
            "categories": [(key, CATEGORY_LABELS[key], value) for key, value in stats.categories.items()],
            "chart": bar_chart(bars, title=_("Deployment statuses")),
            "page": page,
            "rows": [
                (row, assignment.status_label(row.status), assignment.classify(row.status)) for row in page
            ],
            "status": status,
            "status_shown": CATEGORY_LABELS.get(status, status),
            "refresh": REFRESH_SECONDS if running else None,
            "can_change": is_administrator(request.user),
            "query_prefix": prefix.split("?", 1)[1] + (f"{urlencode({'status': status})}&" if status else ""),
        },
    )


@require_POST
@admin_view
def validate(request: HttpRequest, package_id: int) -> HttpResponse:
    """Validate success / Unassign not notified / Validate all (seeds 002 "Stats")."""
    package = _package(package_id)
    which = request.POST.get("which", "")
    actions = {
        "success": assignment.validate_success,
        "not_notified": assignment.unassign_not_notified,
        "all": assignment.validate_all,
    }
    if which not in actions:
        return _bad_request("which must be success, not_notified or all")
    removed = actions[which](package)
    _audit(request, f"package.validate.{which}", package, removed=removed)
    messages.success(request, _("%(count)d assignments cleared.") % {"count": removed})
    return redirect(_safe_next(request, reverse("console:package-statistics", args=[package.package_id])))


urlpatterns = [
    path("packages/", package_list, name="packages"),
    path("packages/new/", package_build_form, name="package-new"),
    path("packages/build/", package_build, name="package-build"),
    path("packages/assign/", assign, name="package-assign"),
    path("packages/<int:package_id>/", package_page, name="package"),
    path("packages/<int:package_id>/activate/", package_activate, name="package-activate"),
    path(
        "packages/<int:package_id>/activations/<int:activation_id>/deactivate/",
        package_deactivate,
        name="package-deactivate",
    ),
    path("packages/<int:package_id>/delete/", package_delete, name="package-delete"),
    path("packages/<int:package_id>/assign-group/", assign_group, name="package-assign-group"),
    path("packages/<int:package_id>/unassign-group/", unassign_group, name="package-unassign-group"),
    path("packages/<int:package_id>/statistics/", statistics_page, name="package-statistics"),
    path("packages/<int:package_id>/validate/", validate, name="package-validate"),
]
