"""Packages: build (a multipart upload streamed to disk), list, show, delete; activations;
assignments to computers, to every result of a search or to a group; statistics and the
seeds' validation actions (issue 4 "API": "the same rules as the console").

Each endpoint parses its input and calls the one deployment function the CLI's verb calls
(``ocelot package build|activate|assign|stats ...``). Reading is for every user; every
change is for administrators (403 before the body is read) and goes to the audit log. The
statistics of a user restricted to some TAGs count and list only the computers it may see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO, Literal, cast

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from ocelot.accounts import audit
from ocelot.accounts.roles import is_administrator, visible_computers
from ocelot.api.auth import AdministratorAuth, administrators_only
from ocelot.api.errors import ApiError, not_found
from ocelot.api.requests import address_of, administrator, page, refuse_unknown_parameters
from ocelot.api.schemas import Error, Page, Paging, SearchIn
from ocelot.deployment import activation as activations
from ocelot.deployment import assignment
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.catalogue import delete_package
from ocelot.deployment.download_estimate import current_latencies, estimates_by_priority
from ocelot.deployment.fragments import parse_fragment_size
from ocelot.deployment.groups import find_group
from ocelot.deployment.models import Activation, Package
from ocelot.deployment.uploads import check_upload, stream_uploads_to_disk
from ocelot.inventory.search import search

router = Router(tags=["packages"])


class UploadingAdministratorAuth(AdministratorAuth):
    """An administrator's token; then the upload is streamed to disk, never held in memory.

    Authentication runs before django-ninja reads the body, so this is the one place where
    the upload handler can be chosen for an endpoint that declares its form and file.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = super().authenticate(request, token)
        if user is not None:
            stream_uploads_to_disk(request)
        return user


# ---------------------------------------------------------------- schemas


class ActivationOut(Schema):
    id: int
    info_location: str = Field(description="host[:port]/path; agents fetch https://<this>/<ID>/info")
    fragment_location: str = Field(
        description="host[:port]/path; agents fetch <protocol>://<this>/<ID>/<ID>-<n>"
    )
    activated_at: datetime


class PackageItem(Schema):
    id: int = Field(description="the OCS package ID (the build time, made unique)")
    name: str
    description: str
    os: str
    protocol: str
    priority: int
    action: str
    command: str
    path: str
    size: int
    fragment_count: int
    created_at: datetime


class PackageDetail(PackageItem):
    notify_user: bool
    notify_text: str
    notify_countdown: int | None
    notify_can_abort: bool
    notify_can_delay: bool
    need_done_action: bool
    need_done_action_text: str
    archive_name: str
    archive_format: str
    md5: str
    sha256: str
    key_id: str
    download_estimates: dict[str, int | None] = Field(
        description="seconds agents wait before running it, per priority 0-10, with the current "
        "latencies (null: never served)"
    )
    activations: list[ActivationOut]


class PackageForm(Schema):
    """The build options, as multipart form fields beside the ``file``."""

    name: str = Field(max_length=255)
    os: Literal["windows", "linux", "macos"]
    action: Literal["LAUNCH", "EXECUTE", "STORE"]
    command: str = Field("", description="LAUNCH: the archive's file to run and its arguments; EXECUTE")
    path: str = Field("", description="STORE: the directory the files are stored in")
    priority: int = Field(5, description="0 (first, exclusive) to 10 (last)")
    protocol: Literal["HTTP", "HTTPS"] = "HTTP"
    description: str = ""
    fragments: int | None = Field(None, description="number of fragments (or fragment_size)")
    fragment_size: str | None = Field(None, description="e.g. 512K, 2M (or fragments); default 1M")
    notify_text: str | None = Field(None, description="warn the user with this text first")
    notify_countdown: int | None = Field(None, description="seconds before it starts anyway")
    notify_can_abort: bool = False
    notify_can_delay: bool = False
    done_action_text: str | None = Field(None, description="the installation needs this user action")


class ActivateIn(Schema):
    info_location: str = Field("", max_length=300, description="host[:port]/path (default: this server)")
    fragment_location: str = Field("", max_length=300, description="host[:port]/path (default: this server)")
    check: bool = Field(True, description="fetch the info file and every fragment there first")


class ActivatedOut(ActivationOut):
    checked: bool
    warnings: list[str] = Field(description="localhost, non-standard ports (seeds 002)")


class DeactivatedOut(Schema):
    id: int
    assignments_removed: int


class AssignIn(Schema):
    """Whom to assign to: computer ids, every result of a search, and/or a group."""

    activation: int | None = Field(None, description="which activation (needed when there are several)")
    computers: list[int] = Field(default_factory=list, max_length=1_000_000)
    search: SearchIn | None = Field(None, description="every computer of this search (all of its pages)")
    group: str | None = Field(None, max_length=255, description="a static group's id or name")
    force: bool = Field(False, description="reinstall even if the computer has it in its history")
    schedule: str = Field("", max_length=32, description="YYYY-MM-DDTHH:MM, the agent's local time")
    post_command: str = Field("", max_length=1100, description="REBOOT, SHUTDOWN or a command")


class AssignedOut(Schema):
    package: int
    activation: int
    created: int
    restarted: int
    computers: int = Field(description="computers assigned now (group members included)")


class UnassignIn(Schema):
    computers: list[int] = Field(default_factory=list, max_length=1_000_000)
    group: str | None = Field(None, max_length=255, description="stop assigning to this group")
    all: bool = Field(False, description="every assignment of the package")


class RemovedOut(Schema):
    package: int
    removed: int


class ValidateIn(Schema):
    which: Literal["success", "not_notified", "all"] = Field(
        description="Validate success, Unassign not notified, Validate all (seeds 002)"
    )


class ComputerStatus(Schema):
    id: int
    device_id: str
    name: str
    status: str = Field(description="WAITING NOTIFICATION, NOTIFIED or the code the agent reported")
    category: str = Field(description="waiting, notified, success, error or other")
    activation: int


class StatisticsOut(Schema):
    package: int
    name: str
    activation: int | None
    total: int
    categories: dict[str, int] = Field(description="waiting, notified, success, error, other")
    statuses: dict[str, int] = Field(description="per exact status")
    computers: list[ComputerStatus]


# ---------------------------------------------------------------- helpers


def _package(package_id: int) -> Package:
    package = Package.objects.filter(package_id=package_id).first()
    if package is None:
        raise not_found("package")
    return package


def _activation_item(activation: Activation) -> dict[str, Any]:
    return {
        "id": activation.pk,
        "info_location": activation.info_location,
        "fragment_location": activation.fragment_location,
        "activated_at": activation.activated_at,
    }


def package_item(package: Package) -> dict[str, Any]:
    return {
        "id": package.package_id,
        **{name: getattr(package, name) for name in PackageItem.model_fields if name != "id"},
    }


def package_detail(package: Package) -> dict[str, Any]:
    estimates = estimates_by_priority(package.fragment_count, current_latencies())
    return {
        **package_item(package),
        **{
            name: getattr(package, name)
            for name in PackageDetail.model_fields
            if name not in PackageItem.model_fields and name not in ("download_estimates", "activations")
        },
        "download_estimates": {str(priority): seconds for priority, seconds in estimates.items()},
        "activations": [_activation_item(a) for a in activations.activations(package)],
    }


def _audit(request: HttpRequest, action: str, package: Package, **details: Any) -> None:
    audit.record(
        request.user,  # type: ignore[attr-defined]
        action,
        package.name,
        address=address_of(request),
        package=package.package_id,
        **details,
    )


def _activation_of(package: Package, activation_id: int | None) -> Activation:
    return activations.find_activation(package, activation_id)


# ---------------------------------------------------------------- packages


class PackagePage(Page):
    items: list[PackageItem]


@router.get("/packages", response={200: PackagePage, 400: Error}, summary="Every package, newest first")
def list_packages(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    return page(Package.objects.order_by("-package_id"), paging.limit, paging.offset, package_item)


@router.get(
    "/packages/{package_id}",
    response={200: PackageDetail, 404: Error},
    summary="One package, its activations and the download time per priority",
)
def get_package(request: HttpRequest, package_id: int) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    return package_detail(_package(package_id))


@router.post(
    "/packages",
    response={201: PackageDetail, 400: Error, 403: Error, 507: Error},
    auth=UploadingAdministratorAuth(),
    summary="Build a package from a zip or tar.gz (multipart; streamed to disk) (administrators)",
)
def create_package(
    request: HttpRequest, form: Form[PackageForm], file: File[UploadedFile | None] = None
) -> Status[dict[str, Any]]:
    user = administrator(request)
    check_upload(request)
    build = PackageRequest.from_options(
        name=form.name,
        os=form.os,
        action=form.action,
        command=form.command,
        path=form.path,
        priority=form.priority,
        protocol=form.protocol,
        description=form.description,
        notify_text=form.notify_text,
        notify_countdown=form.notify_countdown,
        notify_can_abort=form.notify_can_abort,
        notify_can_delay=form.notify_can_delay,
        done_action_text=form.done_action_text,
        fragment_count=form.fragments,
        fragment_size=parse_fragment_size(form.fragment_size) if form.fragment_size else None,
        archive_name=str(file.name or "") if file is not None else "",
    )
    # A file on disk in staging/ (UploadingAdministratorAuth): read, seek and tell as a file.
    package = build_package(build, cast(BinaryIO, file) if file is not None else None)
    audit.record(user, "package.build", package.name, address=address_of(request), package=package.package_id)
    return Status(201, package_detail(package))


@router.delete(
    "/packages/{package_id}",
    response={204: None, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Delete a package: its record, activations, assignments and files (administrators)",
)
def remove_package(request: HttpRequest, package_id: int) -> Status[None]:
    administrator(request)
    package = _package(package_id)
    delete_package(package)
    _audit(request, "package.delete", package)
    return Status(204, None)


# ---------------------------------------------------------------- activations


@router.post(
    "/packages/{package_id}/activations",
    response={201: ActivatedOut, 400: Error, 403: Error, 404: Error, 422: Error},
    auth=administrators_only,
    summary="Activate: where agents fetch it, after checking every file answers there (administrators)",
)
def activate_package(request: HttpRequest, package_id: int, body: ActivateIn) -> Status[dict[str, Any]]:
    administrator(request)
    package = _package(package_id)
    result = activations.activate(
        package, body.info_location or None, body.fragment_location or None, check=body.check
    )
    _audit(request, "package.activate", package, activation=result.activation.pk)
    return Status(
        201, {**_activation_item(result.activation), "checked": body.check, "warnings": result.warnings}
    )


@router.delete(
    "/packages/{package_id}/activations/{activation_id}",
    response={200: DeactivatedOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Deactivate: the files stay, its assignments go (administrators)",
)
def deactivate_package(request: HttpRequest, package_id: int, activation_id: int) -> dict[str, Any]:
    administrator(request)
    package = _package(package_id)
    chosen = Activation.objects.filter(package=package, pk=activation_id).first()
    if chosen is None:
        raise not_found("activation")
    removed = activations.deactivate(chosen)
    _audit(request, "package.deactivate", package, activation=activation_id, removed=removed)
    return {"id": activation_id, "assignments_removed": removed}


# ---------------------------------------------------------------- assignments


def _search_ids(request: HttpRequest, given: SearchIn) -> list[int]:
    found = search(visible_computers(request.user), given.criteria())  # type: ignore[attr-defined]
    return list(found.order_by("pk").values_list("pk", flat=True))


@router.post(
    "/packages/{package_id}/assignments",
    response={200: AssignedOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Assign to computers, to every result of a search, and/or to a group (administrators)",
)
def assign_package(request: HttpRequest, package_id: int, body: AssignIn) -> dict[str, Any]:
    administrator(request)
    package = _package(package_id)
    chosen = _activation_of(package, body.activation)
    options = assignment.AssignmentOptions(body.force, body.schedule, body.post_command)
    if not body.computers and body.search is None and body.group is None:
        raise ApiError(400, "invalid_assignment", "say which computers: computers, search or group")
    ids = list(body.computers)
    if body.search is not None:
        ids += _search_ids(request, body.search)  # a search matching nothing assigns nothing
    group = find_group(body.group) if body.group is not None else None
    outcome = assignment.assign(chosen, ids, options) if ids else assignment.AssignOutcome(0, 0)
    if group is not None:
        grouped = assignment.assign_to_group(chosen, group, options)
        ids += assignment.group_computer_ids(group)
        outcome = assignment.AssignOutcome(
            outcome.created + grouped.created, outcome.restarted + grouped.restarted
        )
    _audit(request, "package.assign", package, activation=chosen.pk, computers=len(set(ids)))
    return {
        "package": package.package_id,
        "activation": chosen.pk,
        "created": outcome.created,
        "restarted": outcome.restarted,
        "computers": len(set(ids)),
    }


@router.post(
    "/packages/{package_id}/unassign",
    response={200: RemovedOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Remove assignments: of computers, of a group, or all (administrators)",
)
def unassign_package(request: HttpRequest, package_id: int, body: UnassignIn) -> dict[str, Any]:
    administrator(request)
    package = _package(package_id)
    ids = list(body.computers)
    if body.group is not None:
        group = find_group(body.group)
        assignment.unassign_group(package, group)
        ids += assignment.group_computer_ids(group)
    elif not ids and not body.all:
        raise ApiError(400, "invalid_assignment", "say which computers: computers, group or all")
    removed = assignment.unassign(package, None if body.all else ids)
    _audit(request, "package.unassign", package, removed=removed)
    return {"package": package.package_id, "removed": removed}


@router.post(
    "/packages/{package_id}/validate",
    response={200: RemovedOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Validate success, unassign not notified, or both (administrators)",
)
def validate_package(request: HttpRequest, package_id: int, body: ValidateIn) -> dict[str, Any]:
    administrator(request)
    package = _package(package_id)
    if body.which == "success":
        removed = assignment.validate_success(package)
    elif body.which == "not_notified":
        removed = assignment.unassign_not_notified(package)
    else:
        removed = assignment.validate_all(package)
    _audit(request, f"package.validate.{body.which}", package, removed=removed)
    return {"package": package.package_id, "removed": removed}


# ---------------------------------------------------------------- statistics


class StatisticsQuery(Schema):
    activation: int | None = Field(None, description="only this activation's assignments")


@router.get(
    "/packages/{package_id}/statistics",
    response={200: StatisticsOut, 400: Error, 404: Error},
    summary="Counts per status (as `ocelot package stats`) and the computers behind them",
)
def package_statistics(
    request: HttpRequest, package_id: int, query: Query[StatisticsQuery]
) -> dict[str, Any]:
    refuse_unknown_parameters(request, {"activation"})
    package = _package(package_id)
    chosen = None
    if query.activation is not None:
        chosen = Activation.objects.filter(package=package, pk=query.activation).first()
        if chosen is None:
            raise not_found("activation")
    user = request.user  # type: ignore[attr-defined]
    scope = None if is_administrator(user) else visible_computers(user)
    stats = assignment.statistics(package, chosen, computers=scope)
    rows = package.assignments.all()
    if scope is not None:
        rows = rows.filter(computer__in=scope.values("pk"))
    if chosen is not None:
        rows = rows.filter(activation=chosen)
    return {
        "package": package.package_id,
        "name": package.name,
        "activation": chosen.pk if chosen is not None else None,
        "total": stats.total,
        "categories": stats.categories,
        "statuses": stats.statuses,
        "computers": [
            {
                "id": pk,
                "device_id": device_id,
                "name": name,
                "status": assignment.status_label(status),
                "category": assignment.classify(status),
                "activation": activation_id,
            }
            for pk, device_id, name, status, activation_id in rows.order_by("computer_id").values_list(
                "computer_id", "computer__device_id", "computer__name", "status", "activation_id"
            )
        ],
    }
