"""Console pages for configuration: general options, account info fields, label, registry
queries, duplicates, local import, software dictionary, agent files.

The seed's "Administration d'OCS Inventory NG" (``004_*.txt``), one page per section, for
administrators only (403 for everyone else, even by direct URL). Every change is a POST
with a CSRF token and goes to the audit log. The rules live in the domain modules; these
views parse the form, call one of them and render what it returns.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from ocelot.accounts.audit import record
from ocelot.console.requests import address_of, admin_view
from ocelot.deployment import agent_files
from ocelot.inventory import duplicate_report, duplicates, registry_queries
from ocelot.inventory import software_dictionary as dictionary
from ocelot.inventory.account_fields import AccountFieldError, account_fields, create_field, delete_field
from ocelot.inventory.local_import import IngestError, ProtocolError, import_inventory
from ocelot.inventory.models import AccountField
from ocelot.inventory.setting_catalogue import CATALOGUE, SettingDefinition, SettingError, definition
from ocelot.inventory.setting_values import global_values, reset_global, set_global
from ocelot.protocol.limits import DEFAULT_LIMITS

CATEGORIES = (
    ("inventory", gettext_lazy("Inventory")),
    ("deployment", gettext_lazy("Deployment")),
    ("ipdiscover", gettext_lazy("IP discovery")),
    ("registry", gettext_lazy("Registry")),
    ("server", gettext_lazy("Server")),
)
UNITS = {
    "days": gettext_lazy("days"),
    "hours": gettext_lazy("hours"),
    "minutes": gettext_lazy("minutes"),
    "seconds": gettext_lazy("seconds"),
    "milliseconds": gettext_lazy("milliseconds"),
    "cycles": gettext_lazy("cycles"),
}
KIND_LABELS = {
    AccountField.TEXT: gettext_lazy("Text"),
    AccountField.INTEGER: gettext_lazy("Integer"),
    AccountField.REAL: gettext_lazy("Real"),
    AccountField.DATE: gettext_lazy("Date"),
}
# The seed's names of the comparison methods ("Gérer les ordinateurs dupliqués").
METHOD_LABELS = {
    "hostname-serial": gettext_lazy("Hostname + Serial number"),
    "hostname-mac": gettext_lazy("Hostname + MAC address"),
    "mac-serial": gettext_lazy("MAC address + Serial number"),
    "hostname": gettext_lazy("Hostname only"),
    "serial": gettext_lazy("Serial number only"),
    "mac": gettext_lazy("MAC address only"),
}
CRITERION_LABELS = {
    duplicates.HOSTNAME: gettext_lazy("hostname"),
    duplicates.SERIAL: gettext_lazy("serial number"),
    duplicates.MAC: gettext_lazy("MAC address"),
    duplicates.MODEL: gettext_lazy("model"),
    duplicates.UUID: gettext_lazy("UUID"),
    duplicates.ASSET_TAG: gettext_lazy("asset tag"),
}
BITS_OPTIONS = {"AUTO_DUPLICATE_LVL": CRITERION_LABELS}
SOFTWARE_PER_PAGE = 50
# Local import: each file as large as an agent may send (protocol.limits), a few at once.
MAX_IMPORT_REQUEST = 4 * DEFAULT_LIMITS.max_body
MAX_AGENT_FILE_REQUEST = agent_files.MAX_AGENT_FILE_SIZE + 64 * 1024
_GROUP_FIELD = re.compile(r"group-(\d{1,4})")


def _global_definitions() -> list[SettingDefinition]:
    return [item for item in CATALOGUE if "global" in item.scopes]


def _on(name: str) -> bool:
    return bool(global_values()[name])


# -- home


@admin_view
def configuration(request: HttpRequest) -> HttpResponse:
    values = global_values()
    return render(
        request,
        "console/configuration/home.html",
        {"section": "home", "deploy_on": bool(values["DEPLOY"]), "registry_on": bool(values["REGISTRY"])},
    )


# -- general options


def _option_rows(
    values: dict[str, Any], submitted: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for item in _global_definitions():
        value = (submitted or {}).get(item.name, values[item.name])
        row: dict[str, Any] = {
            "definition": item,
            "help": _(item.help),
            "value": value,
            "default": item.default,
            "modified": str(values[item.name]) != str(item.default),
            "unit": UNITS.get(item.unit, item.unit),
            "error": (errors or {}).get(item.name, ""),
        }
        if item.name in BITS_OPTIONS:
            number = int(value) if str(value).lstrip("-").isdigit() else 0
            labels = BITS_OPTIONS[item.name]
            row["bits"] = [(bit, label, bool(number & bit)) for bit, label in labels.items()]
            row["default"] = ", ".join(str(label) for bit, label in labels.items() if int(item.default) & bit)
        rows.append(row)
    return rows


def _grouped(rows: list[dict[str, Any]]) -> list[tuple[str, Any, list[dict[str, Any]]]]:
    return [
        (slug, label, [row for row in rows if row["definition"].category == slug])
        for slug, label in CATEGORIES
    ]


def _submitted_options(request: HttpRequest) -> dict[str, str]:
    """The raw value of every option the form sent (a missing option stays unchanged)."""
    submitted: dict[str, str] = {}
    for item in _global_definitions():
        if item.name in BITS_OPTIONS:
            if f"{item.name}-present" not in request.POST:
                continue
            bits = request.POST.getlist(item.name)
            if not all(bit.isdigit() and int(bit) in BITS_OPTIONS[item.name] for bit in bits):
                submitted[item.name] = "invalid"
            else:
                submitted[item.name] = str(sum({int(bit) for bit in bits}))
        elif item.name in request.POST:
            submitted[item.name] = request.POST[item.name]
    return submitted


@admin_view
def options(request: HttpRequest) -> HttpResponse:
    values = global_values()
    if request.method != "POST":
        return render(
            request,
            "console/configuration/options.html",
            {"section": "options", "categories": _grouped(_option_rows(values))},
        )
    submitted = _submitted_options(request)
    parsed: dict[str, int | str] = {}
    errors: dict[str, str] = {}
    for name, raw in submitted.items():
        try:
            parsed[name] = definition(name).parse(raw)
        except SettingError as exc:
            errors[name] = str(exc)
    if errors:
        messages.error(request, _("Nothing was saved: correct the options marked below."))
        return render(
            request,
            "console/configuration/options.html",
            {"section": "options", "categories": _grouped(_option_rows(values, submitted, errors))},
            status=400,
        )
    changed = 0
    for name, value in parsed.items():
        if str(value) == str(values[name]):
            continue
        try:
            set_global(name, value)
        except SettingError as exc:  # pragma: no cover - parse() above checked the value
            messages.error(request, str(exc))
            continue
        changed += 1
        record(
            request.user, "setting.set", name, address=address_of(request), value=value, previous=values[name]
        )
    if changed:
        messages.success(
            request,
            ngettext("%(count)d option saved.", "%(count)d options saved.", changed) % {"count": changed},
        )
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("console:configuration-options")


@require_POST
@admin_view
def option_reset(request: HttpRequest, name: str) -> HttpResponse:
    try:
        item = definition(name)
    except SettingError:
        raise Http404("no such option") from None
    if "global" not in item.scopes:
        raise Http404("no such option")
    previous = global_values()[item.name]
    reset_global(item.name)
    record(
        request.user,
        "setting.reset",
        item.name,
        address=address_of(request),
        value=item.default,
        previous=previous,
    )
    messages.success(
        request, _("%(name)s is back to its default, %(value)s.") % {"name": item.name, "value": item.default}
    )
    return redirect(f"{reverse('console:configuration-options')}#option-{item.name}")


# -- account info fields


@admin_view
def account_field_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (summary, KIND_LABELS.get(summary.field.kind, summary.field.kind)) for summary in account_fields()
    ]
    return render(
        request,
        "console/configuration/account_fields.html",
        {"section": "account-fields", "rows": rows, "kinds": list(KIND_LABELS.items())},
    )


@require_POST
@admin_view
def account_field_create(request: HttpRequest) -> HttpResponse:
    try:
        field = create_field(request.POST.get("name", "")[:200], request.POST.get("kind", ""))
    except AccountFieldError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "account_field.create", field.name, address=address_of(request), kind=field.kind)
        messages.success(request, _("Field %(name)s added.") % {"name": field.name})
    return redirect("console:configuration-account-fields")


@require_POST
@admin_view
def account_field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    try:
        name, values = delete_field(field_id)
    except AccountFieldError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "account_field.delete", name, address=address_of(request), values=values)
        messages.success(
            request,
            ngettext(
                "Field %(name)s deleted with its %(count)d value.",
                "Field %(name)s deleted with its %(count)d values.",
                values,
            )
            % {"name": name, "count": values},
        )
    return redirect("console:configuration-account-fields")


# -- label


@admin_view
def label(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        text = request.POST.get("label", "")
        try:
            stored = agent_files.save_label(text)
        except agent_files.AgentFileError as exc:
            messages.error(request, str(exc))
            return render(
                request,
                "console/configuration/label.html",
                {"section": "label", "label": text[: agent_files.MAX_LABEL], "deploy_on": _on("DEPLOY")},
                status=400,
            )
        if stored:
            record(request.user, "label.set", "label", address=address_of(request), length=len(text.strip()))
            messages.success(request, _("Label saved."))
        else:
            record(request.user, "label.remove", "label", address=address_of(request))
            messages.success(request, _("Label removed: agents will no longer ask for a TAG."))
        return redirect("console:configuration-label")
    return render(
        request,
        "console/configuration/label.html",
        {
            "section": "label",
            "label": agent_files.read_label(),
            "deploy_on": _on("DEPLOY"),
            "max_label": agent_files.MAX_LABEL,
        },
    )


# -- registry queries


def _query_fields(request: HttpRequest) -> tuple[str, str, str, str]:
    return (
        request.POST.get("name", "")[:2000],
        request.POST.get("hive", ""),
        request.POST.get("key", "")[:4000],
        request.POST.get("value_name", "")[:2000],
    )


@admin_view
def registry(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/configuration/registry.html",
        {
            "section": "registry",
            "queries": registry_queries.registry_queries(),
            "hives": sorted(registry_queries.HIVES.items()),
            "registry_on": _on("REGISTRY"),
            "limits": registry_queries,
        },
    )


@require_POST
@admin_view
def registry_create(request: HttpRequest) -> HttpResponse:
    try:
        query = registry_queries.create_query(*_query_fields(request))
    except registry_queries.RegistryQueryError as exc:
        messages.error(request, str(exc))
    else:
        record(
            request.user,
            "registry_query.create",
            query.name,
            address=address_of(request),
            hive=query.get_hive_display(),
            key=query.key,
            value_name=query.value_name,
        )
        messages.success(request, _("Registry query %(name)s added.") % {"name": query.name})
    return redirect("console:configuration-registry")


@require_POST
@admin_view
def registry_update(request: HttpRequest, query_id: int) -> HttpResponse:
    try:
        query = registry_queries.update_query(query_id, *_query_fields(request))
    except registry_queries.RegistryQueryError as exc:
        messages.error(request, str(exc))
    else:
        record(
            request.user,
            "registry_query.update",
            query.name,
            address=address_of(request),
            hive=query.get_hive_display(),
            key=query.key,
            value_name=query.value_name,
        )
        messages.success(request, _("Registry query %(name)s saved.") % {"name": query.name})
    return redirect("console:configuration-registry")


@require_POST
@admin_view
def registry_delete(request: HttpRequest, query_id: int) -> HttpResponse:
    try:
        name = registry_queries.delete_query(query_id)
    except registry_queries.RegistryQueryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "registry_query.delete", name, address=address_of(request))
        messages.success(request, _("Registry query %(name)s deleted.") % {"name": name})
    return redirect("console:configuration-registry")


# -- duplicates


def _methods() -> list[tuple[str, Any]]:
    return [(item.slug, METHOD_LABELS[item.slug]) for item in duplicate_report.METHODS]


@admin_view
def duplicate_summary(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("method", "")
    if chosen:
        if chosen not in duplicate_report.METHODS_BY_SLUG:
            return HttpResponseBadRequest(_("Unknown comparison method."))
        return redirect("console:configuration-duplicates-method", slug=chosen)
    rows = [(item.slug, METHOD_LABELS[item.slug], count) for item, count in duplicate_report.summary()]
    return render(
        request,
        "console/configuration/duplicates.html",
        {"section": "duplicates", "methods": _methods(), "summary": rows, "current": ""},
    )


@admin_view
def duplicate_method(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        chosen = duplicate_report.method(slug)
    except duplicate_report.DuplicateReportError:
        raise Http404("no such comparison method") from None
    page, groups = duplicate_report.groups(chosen, request.GET.get("page"))
    return render(
        request,
        "console/configuration/duplicates.html",
        {
            "section": "duplicates",
            "methods": _methods(),
            "current": slug,
            "current_label": METHOD_LABELS[slug],
            "page": page,
            "groups": groups,
            "query_prefix": "",
        },
    )


@require_POST
@admin_view
def duplicate_merge(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in duplicate_report.METHODS_BY_SLUG:
        raise Http404("no such comparison method")
    selections: list[list[int]] = []
    groups = sorted((int(m.group(1)), key) for key in request.POST if (m := _GROUP_FIELD.fullmatch(key)))
    for _number, key in groups:
        ids = [
            int(value) for value in request.POST.getlist(key)[:1000] if value.isdigit() and len(value) < 19
        ]
        if ids:
            selections.append(ids)
    if not selections:
        messages.error(request, _("Tick at least two computers of a group to merge them."))
    for outcome in duplicate_report.merge_selections(selections[: duplicate_report.GROUPS_PER_PAGE]):
        if outcome.error:
            messages.error(request, _("Not merged: %(reason)s.") % {"reason": outcome.error})
            continue
        record(
            request.user,
            "computers.merge",
            outcome.kept_name or str(outcome.kept_id),
            address=address_of(request),
            kept=outcome.kept_id,
            merged=", ".join(outcome.merged_names),
            computers=", ".join(str(i) for i in outcome.selection),
            method=slug,
        )
        messages.success(
            request,
            _("Merged %(count)d computers: kept %(name)s (#%(id)d), the one with the newest inventory.")
            % {"count": len(outcome.selection), "name": outcome.kept_name, "id": outcome.kept_id},
        )
    return redirect("console:configuration-duplicates-method", slug=slug)


# -- local import


class BoundedUploadHandler(FileUploadHandler):
    """Refuses every uploaded file over ``limit`` bytes before it is stored anywhere; the
    names of the refused files are kept to report them."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)  # type: ignore[arg-type]
        self.limit = limit
        self.refused: list[str] = []
        self._size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._size += len(raw_data)
        if self._size > self.limit:
            self.refused.append(str(self.file_name))
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large(request: HttpRequest, limit: int) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return True


def _bounded(request: HttpRequest, limit: int) -> BoundedUploadHandler:
    handler = BoundedUploadHandler(request, limit)
    request.upload_handlers.insert(0, handler)
    return handler


@csrf_exempt  # the upload handler must be in place before the CSRF check reads the body
@admin_view
def local_import(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"section": "import", "max_mib": DEFAULT_LIMITS.max_body // (1024 * 1024)}
    if request.method != "POST":
        return render(request, "console/configuration/import.html", context)
    if _too_large(request, MAX_IMPORT_REQUEST):
        messages.error(request, _("Too much at once: upload fewer files."))
        return render(request, "console/configuration/import.html", context, status=413)
    return _import_files(request, _bounded(request, DEFAULT_LIMITS.max_body), context)


@csrf_protect
def _import_files(
    request: HttpRequest, handler: BoundedUploadHandler, context: dict[str, Any]
) -> HttpResponse:
    lines: list[tuple[bool, str, str]] = []
    address = address_of(request)
    for upload in request.FILES.getlist("files"):
        name = str(upload.name or "")
        try:
            device_id = import_inventory(upload.read(DEFAULT_LIMITS.max_body + 1))
        except (ProtocolError, IngestError) as exc:
            lines.append((False, name, str(exc)))
        else:
            lines.append((True, name, ""))
            record(request.user, "inventory.import", device_id, address=address, file=name)
    for name in handler.refused:
        lines.append((False, name, _("the file is larger than %(size)d MiB") % {"size": context["max_mib"]}))
    if not lines:
        messages.error(request, _("Choose one or more .ocs or .xml files."))
    context.update(
        {
            "report": lines,
            "ok": sum(1 for ok, _name, _reason in lines if ok),
            "errors": sum(1 for ok, _name, _reason in lines if not ok),
        }
    )
    return render(request, "console/configuration/import.html", context)


# -- software dictionary


def _category_filter(raw: str | None) -> str | None:
    """The category of the address (NEW for the new software), None for every category."""
    if raw is None or raw == "":
        return None
    return dictionary.category_name(raw)


def _dictionary_state(request: HttpRequest) -> tuple[str | None, str, str]:
    """The category, software search and category search of the page; DictionaryError."""
    return (
        _category_filter(request.GET.get("category")),
        dictionary.search_text(request.GET.get("q", "")),
        dictionary.search_text(request.GET.get("cq", "")),
    )


def _category_key(name: str | None) -> str:
    if name is None:
        return ""
    return name or "NEW"


@admin_view
def software(request: HttpRequest) -> HttpResponse:
    try:
        category, search, category_search = _dictionary_state(request)
    except dictionary.DictionaryError as exc:
        return HttpResponseBadRequest(str(exc))
    context: dict[str, Any] = {
        "section": "software",
        "categories": dictionary.categories(category_search),
        "all_categories": dictionary.categories(),
        "category": _category_key(category),
        "category_name": category,
        "q": search,
        "cq": category_search,
    }
    if category is not None or search:
        page = Paginator(dictionary.software(category=category, search=search), SOFTWARE_PER_PAGE).get_page(
            request.GET.get("page")
        )
        counts = dictionary.installation_counts(item.pk for item in page.object_list)
        context.update(
            {
                "page": page,
                "rows": [(item, counts.get(item.pk, 0)) for item in page.object_list],
                "query_prefix": urlencode(
                    {
                        key: value
                        for key, value in (("category", _category_key(category)), ("q", search))
                        if value
                    }
                )
                + "&",
            }
        )
    return render(request, "console/configuration/software.html", context)


@require_POST
@admin_view
def software_move(request: HttpRequest) -> HttpResponse:
    state = {key: request.POST.get(key, "")[:300] for key in ("category", "q")}
    back = f"{reverse('console:configuration-software')}?{urlencode({k: v for k, v in state.items() if v})}"
    target = request.POST.get("new_category", "").strip() or request.POST.get("to", "")
    try:
        if request.POST.get("scope") == "all":
            category = _category_filter(state["category"])
            search = dictionary.search_text(state["q"])
            moved, stored = dictionary.move_all(target[:300], category=category, search=search)
        else:
            ids = [int(value) for value in request.POST.getlist("software")[:5000] if value.isdigit()]
            moved, stored = dictionary.move(ids, target[:300])
    except dictionary.DictionaryError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    shown = stored or _("NEW")
    record(
        request.user,
        "software.categorise",
        shown,
        address=address_of(request),
        moved=moved,
        scope="all" if request.POST.get("scope") == "all" else "selected",
        search=state["q"],
        source=state["category"],
    )
    messages.success(
        request, _("%(count)d software moved to %(category)s.") % {"count": moved, "category": shown}
    )
    return redirect(back)


# -- agent files


@admin_view
def agent_file_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/configuration/agent_files.html",
        {
            "section": "agent-files",
            "files": agent_files.agent_files(),
            "deploy_on": _on("DEPLOY"),
            "max_mib": agent_files.MAX_AGENT_FILE_SIZE // (1024 * 1024),
        },
    )


@csrf_exempt  # the upload handler must be in place before the CSRF check reads the body
@require_POST
@admin_view
def agent_file_upload(request: HttpRequest) -> HttpResponse:
    if _too_large(request, MAX_AGENT_FILE_REQUEST):
        messages.error(
            request,
            _("An agent file is at most %(size)d MiB.")
            % {"size": agent_files.MAX_AGENT_FILE_SIZE // (1024 * 1024)},
        )
        return redirect("console:configuration-agent-files")
    return _store_agent_file(request, _bounded(request, agent_files.MAX_AGENT_FILE_SIZE))


@csrf_protect
def _store_agent_file(request: HttpRequest, handler: BoundedUploadHandler) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        if handler.refused:
            messages.error(
                request,
                _("An agent file is at most %(size)d MiB.")
                % {"size": agent_files.MAX_AGENT_FILE_SIZE // (1024 * 1024)},
            )
        else:
            messages.error(request, _("Choose a file to upload."))
        return redirect("console:configuration-agent-files")
    raw_name = request.POST.get("name", "").strip()[:300] or str(upload.name or "")
    try:
        name = agent_files.upload_agent_file(raw_name, upload.read(agent_files.MAX_AGENT_FILE_SIZE + 1))
    except agent_files.AgentFileError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "agent_file.upload", name, address=address_of(request), size=upload.size)
        messages.success(request, _("%(name)s uploaded.") % {"name": name})
    return redirect("console:configuration-agent-files")


@require_POST
@admin_view
def agent_file_delete(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "")[:300]
    if name == agent_files.LABEL or not agent_files.delete_agent_file(name):
        messages.error(request, _("No such agent file."))
    else:
        record(request.user, "agent_file.delete", name, address=address_of(request))
        messages.success(request, _("%(name)s deleted.") % {"name": name})
    return redirect("console:configuration-agent-files")


urlpatterns = [
    path("configuration/", configuration, name="configuration"),
    path("configuration/options/", options, name="configuration-options"),
    path("configuration/options/<str:name>/reset/", option_reset, name="configuration-option-reset"),
    path("configuration/account-fields/", account_field_list, name="configuration-account-fields"),
    path(
        "configuration/account-fields/new/", account_field_create, name="configuration-account-field-create"
    ),
    path(
        "configuration/account-fields/<int:field_id>/delete/",
        account_field_delete,
        name="configuration-account-field-delete",
    ),
    path("configuration/label/", label, name="configuration-label"),
    path("configuration/registry/", registry, name="configuration-registry"),
    path("configuration/registry/new/", registry_create, name="configuration-registry-create"),
    path("configuration/registry/<int:query_id>/", registry_update, name="configuration-registry-update"),
    path(
        "configuration/registry/<int:query_id>/delete/", registry_delete, name="configuration-registry-delete"
    ),
    path("configuration/duplicates/", duplicate_summary, name="configuration-duplicates"),
    path("configuration/duplicates/<slug:slug>/", duplicate_method, name="configuration-duplicates-method"),
    path(
        "configuration/duplicates/<slug:slug>/merge/", duplicate_merge, name="configuration-duplicates-merge"
    ),
    path("configuration/import/", local_import, name="configuration-import"),
    path("configuration/software/", software, name="configuration-software"),
    path("configuration/software/move/", software_move, name="configuration-software-move"),
    path("configuration/agent-files/", agent_file_list, name="configuration-agent-files"),
    path("configuration/agent-files/upload/", agent_file_upload, name="configuration-agent-file-upload"),
    path("configuration/agent-files/delete/", agent_file_delete, name="configuration-agent-file-delete"),
]
