"""Console pages for IP discovery (seeds 004, "Travailler avec les résultats").

The network list with its four counts, each a link to its list; the non-inventoried list
with "register" (type and description); the identified list; device types; subnet names;
a computer's scanner choice; scanning an address or analysing a network. Reading is for
every console user, changes and scans for administrators. Names from scans and agents
are shown as text (Django's escaping), never as markup.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ocelot.accounts.audit import record
from ocelot.accounts.roles import computer_for, is_administrator, visible_computers
from ocelot.console.requests import address_of, admin_view, console_view
from ocelot.ipdiscover import choices, devices, scan, subnets
from ocelot.ipdiscover.errors import IpDiscoveryError
from ocelot.ipdiscover.models import DeviceType, Subnet
from ocelot.ipdiscover.networks import ipv4

PER_PAGE = 100
LIST_TITLES = {
    "inventoried": gettext_lazy("Inventoried"),
    "non-inventoried": gettext_lazy("Non-inventoried"),
    "scanners": gettext_lazy("IP discovery scanners"),
    "identified": gettext_lazy("Identified"),
}
# The scan door uses the real commands; tests put a fake runner here.
runner: scan.Runner = scan.run_command


@console_view
def network_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/ipdiscover/networks.html",
        {"section": "networks", "networks": subnets.network_list()},
    )


@console_view
def device_list(request: HttpRequest, address: str, which: str) -> HttpResponse:
    if which not in LIST_TITLES:
        raise Http404
    try:
        rows = devices.device_list(address, which)
    except IpDiscoveryError:
        raise Http404 from None
    if which in ("inventoried", "scanners"):
        rows = rows.filter(computer__in=visible_computers(request.user))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    items: list[dict[str, Any]] = list(page.object_list)
    if which == "identified":
        details = devices.identified_details([item["mac"] for item in items])
        for item in items:
            item["identified"] = details.get(item["mac"], {})
    return render(
        request,
        "console/ipdiscover/devices.html",
        {
            "section": "networks",
            "address": address,
            "which": which,
            "title": LIST_TITLES[which],
            "page": page,
            "items": items,
            "types": DeviceType.objects.order_by("name"),
            "can_change": is_administrator(request.user),
            "analyse_target": subnets.analysable_target(address) if which == "non-inventoried" else None,
        },
    )


@require_POST
@admin_view
def register(request: HttpRequest) -> HttpResponse:
    raw_type = request.POST.get("type", "")
    try:
        device = devices.register_device(
            request.POST.get("mac", "")[:64],
            type_id=int(raw_type) if raw_type.isdigit() else None,
            description=request.POST.get("description", "")[:2000],
            registered_by=request.user.get_username(),
        )
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.register", device.mac, address=address_of(request))
        messages.success(request, _("%(mac)s is now an identified device.") % {"mac": device.mac})
    back = request.POST.get("subnet", "")
    if ipv4(back) is not None:
        return redirect("console:ipdiscover-devices", address=back, which="non-inventoried")
    return redirect("console:ipdiscover")


@require_POST
@admin_view
def unregister(request: HttpRequest) -> HttpResponse:
    mac = request.POST.get("mac", "")[:64]
    try:
        devices.unregister_device(mac)
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.unregister", mac, address=address_of(request))
        messages.success(request, _("%(mac)s is no longer an identified device.") % {"mac": mac})
    back = request.POST.get("subnet", "")
    if ipv4(back) is not None:
        return redirect("console:ipdiscover-devices", address=back, which="identified")
    return redirect("console:ipdiscover")


@console_view
def device_types(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/ipdiscover/types.html",
        {
            "section": "types",
            "types": DeviceType.objects.order_by("name"),
            "can_change": is_administrator(request.user),
        },
    )


@require_POST
@admin_view
def device_type_create(request: HttpRequest) -> HttpResponse:
    try:
        made = devices.add_device_type(request.POST.get("name", "")[:300])
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.type", made.name, address=address_of(request))
        messages.success(request, _("Device type %(name)s added.") % {"name": made.name})
    return redirect("console:ipdiscover-types")


@require_POST
@admin_view
def device_type_delete(request: HttpRequest, type_id: int) -> HttpResponse:
    try:
        devices.delete_device_type(type_id)
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.type.delete", str(type_id), address=address_of(request))
    return redirect("console:ipdiscover-types")


@console_view
def subnet_names(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/ipdiscover/subnets.html",
        {
            "section": "subnets",
            "subnets": Subnet.objects.order_by("address"),
            "can_change": is_administrator(request.user),
        },
    )


@require_POST
@admin_view
def subnet_create(request: HttpRequest) -> HttpResponse:
    try:
        made = subnets.add_subnet(
            name=request.POST.get("name", "")[:300],
            identifier=request.POST.get("identifier", "")[:100],
            address=request.POST.get("address", "")[:40],
            netmask=request.POST.get("netmask", "")[:40],
        )
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.subnet", made.address, address=address_of(request), name=made.name)
        messages.success(request, _("Subnet %(name)s added.") % {"name": made.name})
    return redirect("console:ipdiscover-subnets")


@require_POST
@admin_view
def subnet_delete(request: HttpRequest, subnet_id: int) -> HttpResponse:
    try:
        subnets.delete_subnet(subnet_id)
    except IpDiscoveryError as exc:
        messages.error(request, str(exc))
    else:
        record(request.user, "ipdiscover.subnet.delete", str(subnet_id), address=address_of(request))
    return redirect("console:ipdiscover-subnets")


@console_view
def scanner_choice(request: HttpRequest, computer_id: int) -> HttpResponse:
    computer = computer_for(request.user, computer_id)
    if request.method == "POST":
        if not is_administrator(request.user):
            raise Http404
        try:
            mode, subnet = choices.set_choice(
                computer.pk, request.POST.get("mode", ""), request.POST.get("subnet", "")[:40]
            )
        except IpDiscoveryError as exc:
            messages.error(request, str(exc))
        else:
            record(
                request.user,
                "ipdiscover.scanner",
                computer.name or computer.device_id,
                address=address_of(request),
                mode=mode,
                subnet=subnet,
            )
            messages.success(request, _("Scanner choice saved."))
        return redirect("console:ipdiscover-scanner", computer_id=computer.pk)
    mode, subnet = choices.current_choice(computer.pk)
    return render(
        request,
        "console/ipdiscover/scanner.html",
        {
            "section": "networks",
            "computer": computer,
            "mode": mode,
            "subnet": subnet,
            "modes": choices.MODES,
            "can_change": is_administrator(request.user),
        },
    )


@admin_view
def scan_page(request: HttpRequest) -> HttpResponse:
    hosts: list[scan.ScannedHost] | None = None
    target = ""
    if request.method == "POST":
        target = request.POST.get("target", "")[:100]
        how = scan.analyse if request.POST.get("mode") == "analyse" else scan.scan
        try:
            hosts = how(target, runner=runner)
        except IpDiscoveryError as exc:
            messages.error(request, str(exc))
        else:
            record(request.user, "ipdiscover.scan", target, address=address_of(request), hosts=len(hosts))
    return render(
        request,
        "console/ipdiscover/scan.html",
        {"section": "scan", "hosts": hosts, "target": target, "tools": scan.tools_available()},
    )


urlpatterns = [
    path("ipdiscover/", network_list, name="ipdiscover"),
    path("ipdiscover/register/", register, name="ipdiscover-register"),
    path("ipdiscover/unregister/", unregister, name="ipdiscover-unregister"),
    path("ipdiscover/types/", device_types, name="ipdiscover-types"),
    path("ipdiscover/types/new/", device_type_create, name="ipdiscover-types-create"),
    path("ipdiscover/types/<int:type_id>/delete/", device_type_delete, name="ipdiscover-types-delete"),
    path("ipdiscover/subnets/", subnet_names, name="ipdiscover-subnets"),
    path("ipdiscover/subnets/new/", subnet_create, name="ipdiscover-subnets-create"),
    path("ipdiscover/subnets/<int:subnet_id>/delete/", subnet_delete, name="ipdiscover-subnets-delete"),
    path("ipdiscover/scan/", scan_page, name="ipdiscover-scan"),
    path("ipdiscover/computers/<int:computer_id>/", scanner_choice, name="ipdiscover-scanner"),
    path("ipdiscover/networks/<str:address>/<slug:which>/", device_list, name="ipdiscover-devices"),
]
