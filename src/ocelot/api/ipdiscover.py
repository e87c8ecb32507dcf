"""IP discovery: the network list, device lists, registering devices, device types,
subnet names, per-computer scanner choices and scans from the server (seeds 004).

Reading is open to every API user; changes and scans are for administrators. A user
restricted to some TAG values sees only the inventoried computers in scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ocelot.accounts import audit
from ocelot.accounts.roles import PermissionDeniedError, computer_for, visible_computers
from ocelot.api.auth import administrators_only
from ocelot.api.errors import ApiError
from ocelot.api.requests import address_of, administrator, page, refuse_unknown_parameters
from ocelot.api.schemas import Error, Paging
from ocelot.ipdiscover import choices, devices, scan, subnets
from ocelot.ipdiscover.errors import IpDiscoveryError, IpDiscoveryInputError, IpDiscoveryNotFoundError
from ocelot.ipdiscover.models import DeviceType, Subnet

router = Router(tags=["ipdiscover"])

# The scan door uses the real commands; tests put a fake runner here.
runner: scan.Runner = scan.run_command


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Map the domain's exception family once (design.md §8)."""
    try:
        yield
    except IpDiscoveryInputError as exc:
        raise ApiError(400, "invalid_ipdiscover", str(exc)) from None
    except IpDiscoveryNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except IpDiscoveryError as exc:
        raise ApiError(503, "scan_unavailable", str(exc)) from None


class NetworkOut(Schema):
    address: str
    netmask: str
    name: str
    identifier: str
    inventoried: int
    non_inventoried: int
    scanners: int
    identified: int


class DevicePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class SubnetIn(Schema):
    name: str = Field(max_length=255)
    identifier: str = Field("", max_length=64, description="the OCS subnet ID, free text")
    address: str = Field(max_length=15)
    netmask: str = Field(max_length=15)


class SubnetOut(Schema):
    id: int
    name: str
    identifier: str
    address: str
    netmask: str


class DeviceTypeIn(Schema):
    name: str = Field(max_length=255)


class DeviceTypeOut(Schema):
    id: int
    name: str


class RegisterIn(Schema):
    mac: str = Field(max_length=64)
    type_id: int | None = None
    description: str = Field("", max_length=1000)


class RegisteredOut(Schema):
    mac: str
    type_id: int | None
    description: str


class ChoiceIn(Schema):
    mode: str = Field(description="automatic, never or forced")
    subnet: str = Field("", max_length=15, description="network address, for forced")


class ChoiceOut(Schema):
    computer_id: int
    mode: str
    subnet: str


class ScanIn(Schema):
    target: str = Field(max_length=64, description="an IPv4 address or network of at most 256 addresses")


class ScannedOut(Schema):
    ip_address: str
    type: str = Field(description="Windows, Linux, Network or Phantom")
    dns_name: str
    netbios_name: str
    open_ports: list[int]


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}


@router.get("/ipdiscover/networks", response=list[NetworkOut], summary="Subnets with their counts")
def list_networks(request: HttpRequest) -> list[dict[str, Any]]:
    refuse_unknown_parameters(request, ())
    return [asdict(summary) for summary in subnets.network_list()]


@router.get(
    "/ipdiscover/networks/{address}/{which}",
    response={200: DevicePage, 400: Error},
    summary="The devices behind one count: inventoried, non-inventoried, scanners or identified",
)
def list_devices(request: HttpRequest, address: str, which: str, paging: Query[Paging]) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    with _domain_errors():
        rows = devices.device_list(address, which)
    if which in ("inventoried", "scanners"):
        rows = rows.filter(computer__in=visible_computers(request.user))  # type: ignore[attr-defined]
    result = page(rows, paging.limit, paging.offset, _item)
    if which == "identified":
        details = devices.identified_details([item["mac"] for item in result["items"]])
        for item in result["items"]:
            known = details.get(item["mac"], {})
            item["type"] = known.get("type__name") or ""
            item["description"] = known.get("description", "")
    return result


@router.get("/ipdiscover/subnets", response=list[SubnetOut], summary="Subnet names")
def list_subnets(request: HttpRequest) -> list[Subnet]:
    return list(Subnet.objects.order_by("address"))


@router.post(
    "/ipdiscover/subnets",
    response={201: SubnetOut, 400: Error, 403: Error},
    auth=administrators_only,
    summary="Name a subnet (administrators)",
)
def add_subnet(request: HttpRequest, body: SubnetIn) -> Status[Subnet]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        subnet = subnets.add_subnet(**body.dict())
        audit.record(user, "ipdiscover.subnet", subnet.address, address=address_of(request), name=subnet.name)
    return Status(201, subnet)


@router.delete(
    "/ipdiscover/subnets/{subnet_id}",
    response={204: None, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Remove a subnet name (administrators)",
)
def delete_subnet(request: HttpRequest, subnet_id: int) -> Status[None]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        subnets.delete_subnet(subnet_id)
        audit.record(user, "ipdiscover.subnet.delete", str(subnet_id), address=address_of(request))
    return Status(204, None)


@router.get("/ipdiscover/device-types", response=list[DeviceTypeOut], summary="Device types")
def list_device_types(request: HttpRequest) -> list[DeviceType]:
    return list(DeviceType.objects.order_by("name"))


@router.post(
    "/ipdiscover/device-types",
    response={201: DeviceTypeOut, 400: Error, 403: Error},
    auth=administrators_only,
    summary="Add a device type (administrators)",
)
def add_device_type(request: HttpRequest, body: DeviceTypeIn) -> Status[DeviceType]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        made = devices.add_device_type(body.name)
        audit.record(user, "ipdiscover.type", made.name, address=address_of(request))
    return Status(201, made)


@router.delete(
    "/ipdiscover/device-types/{type_id}",
    response={204: None, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Remove a device type (administrators)",
)
def delete_device_type(request: HttpRequest, type_id: int) -> Status[None]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        devices.delete_device_type(type_id)
        audit.record(user, "ipdiscover.type.delete", str(type_id), address=address_of(request))
    return Status(204, None)


@router.post(
    "/ipdiscover/devices",
    response={201: RegisteredOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Register a device as identified, with a type and a description (administrators)",
)
def register_device(request: HttpRequest, body: RegisterIn) -> Status[dict[str, Any]]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        device = devices.register_device(
            body.mac, type_id=body.type_id, description=body.description, registered_by=user.get_username()
        )
        audit.record(user, "ipdiscover.register", device.mac, address=address_of(request))
    return Status(201, {"mac": device.mac, "type_id": device.type_id, "description": device.description})


@router.delete(
    "/ipdiscover/devices/{mac}",
    response={204: None, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Forget a registered device (administrators)",
)
def unregister_device(request: HttpRequest, mac: str) -> Status[None]:
    user = administrator(request)
    with _domain_errors(), transaction.atomic():
        devices.unregister_device(mac)
        audit.record(user, "ipdiscover.unregister", mac[:40], address=address_of(request))
    return Status(204, None)


def _visible(request: HttpRequest, computer_id: int) -> int:
    try:
        return computer_for(request.user, computer_id).pk  # type: ignore[attr-defined]
    except PermissionDeniedError:
        raise ApiError(404, "not_found", "no such computer") from None


@router.get(
    "/ipdiscover/computers/{computer_id}/scanner",
    response={200: ChoiceOut, 404: Error},
    summary="A computer's scanner choice: automatic, never or forced on a subnet",
)
def get_choice(request: HttpRequest, computer_id: int) -> dict[str, Any]:
    pk = _visible(request, computer_id)
    mode, subnet = choices.current_choice(pk)
    return {"computer_id": pk, "mode": mode, "subnet": subnet}


@router.put(
    "/ipdiscover/computers/{computer_id}/scanner",
    response={200: ChoiceOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Set a computer's scanner choice (administrators); the election never undoes it",
)
def set_choice(request: HttpRequest, computer_id: int, body: ChoiceIn) -> dict[str, Any]:
    user = administrator(request)
    pk = _visible(request, computer_id)
    with _domain_errors(), transaction.atomic():
        mode, subnet = choices.set_choice(pk, body.mode, body.subnet)
        audit.record(
            user, "ipdiscover.scanner", str(pk), address=address_of(request), mode=mode, subnet=subnet
        )
    return {"computer_id": pk, "mode": mode, "subnet": subnet}


def _scan(
    request: HttpRequest, body: ScanIn, how: Callable[..., list[scan.ScannedHost]]
) -> list[dict[str, Any]]:
    user = administrator(request)
    with _domain_errors():
        hosts = how(body.target, runner=runner)
    audit.record(user, "ipdiscover.scan", body.target, address=address_of(request), hosts=len(hosts))
    return [asdict(host) for host in hosts]


@router.post(
    "/ipdiscover/scan",
    response={200: list[ScannedOut], 400: Error, 403: Error, 503: Error},
    auth=administrators_only,
    summary="Scan an IP address or a network of at most 256 addresses with nmap and nmblookup",
)
def scan_target(request: HttpRequest, body: ScanIn) -> list[dict[str, Any]]:
    return _scan(request, body, scan.scan)


@router.post(
    "/ipdiscover/analyse",
    response={200: list[ScannedOut], 400: Error, 403: Error, 503: Error},
    auth=administrators_only,
    summary="Analyse a network: scan it and report discovered devices that stay silent as Phantom",
)
def analyse_network(request: HttpRequest, body: ScanIn) -> list[dict[str, Any]]:
    return _scan(request, body, scan.analyse)
