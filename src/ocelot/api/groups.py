"""Groups: static and dynamic, their members, settings, recompute and deployment statistics
(issue 7; issue 4's static groups), with the console's rules.

Administrators see and change every group. Other users see the *visible* groups (and, in
them, only the computers they may see) and may add computers they see to a visible static
group (seed 002), nothing else. Every change goes to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from ocelot.accounts import audit
from ocelot.accounts.roles import is_administrator, visible_computers
from ocelot.api.auth import administrators_only
from ocelot.api.errors import ApiError, not_found
from ocelot.api.requests import address_of, administrator, page, refuse_unknown_parameters
from ocelot.api.schemas import Error, Paging, SearchIn
from ocelot.deployment.groups import group_statistics
from ocelot.inventory import groups
from ocelot.inventory.models import Group
from ocelot.inventory.search import MAX_CRITERIA, MAX_VALUE_LENGTH, Criterion, SearchError, search

router = Router(tags=["groups"])


# ---------------------------------------------------------------- schemas


class CriterionSchema(Schema):
    field: str = Field(max_length=200, description="a search field, e.g. os, software, account:Room")
    operator: str = Field(
        "EQUAL", max_length=16, description="EQUAL, DIFFERENT, LESS, MORE, BETWEEN, OUTSIDE"
    )
    value: str = Field("", max_length=MAX_VALUE_LENGTH)
    value2: str = Field("", max_length=MAX_VALUE_LENGTH)


class GroupItem(Schema):
    id: int
    name: str
    description: str
    visible: bool
    dynamic: bool
    criteria: list[CriterionSchema] | None = Field(description="the saved search of a dynamic group")
    computed_at: datetime | None = Field(description="when the dynamic group's members were last computed")
    cache_age_seconds: int | None
    members: int = Field(description="computed + forced in (excluded ones do not count)")
    computed: int
    forced: int
    excluded: int


class GroupList(Schema):
    count: int
    items: list[GroupItem]


class GroupIn(Schema):
    name: str = Field(max_length=300)
    description: str = Field("", max_length=4096)
    visible: bool = False
    criteria: list[CriterionSchema] | None = Field(
        None, max_length=MAX_CRITERIA, description="a search makes the group dynamic; none: static"
    )


class GroupChange(Schema):
    name: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=4096)
    visible: bool | None = None
    criteria: list[CriterionSchema] | None = Field(None, max_length=MAX_CRITERIA)


class MemberItem(Schema):
    id: int
    name: str
    device_id: str
    kind: str = Field(description="dynamic (found by the search), static (forced in) or excluded")


class MemberPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MemberItem]


class MembersIn(Schema):
    action: Literal["add", "exclude", "release", "remove"] = Field(
        "add", description="add (force in), exclude, release (remove the mark), remove"
    )
    computers: list[int] = Field(default_factory=list, max_length=100_000)
    search: SearchIn | None = Field(None, description="every result of this search (the computers you see)")


class MembersOut(Schema):
    id: int
    action: str
    changed: int


class RecomputeOut(Schema):
    id: int
    joined: int
    left: int
    computed_at: datetime | None


class SettingsIn(Schema):
    values: dict[str, str] = Field(description='setting name -> value, "" to remove the group\'s value')


class SettingOut(Schema):
    name: str
    value: str | None = Field(description="the group's own value; null: not set")


class SettingsOut(Schema):
    changed: list[str]
    settings: list[SettingOut]


class PackageCounts(Schema):
    package: int = Field(description="the OCS package ID")
    name: str
    assigned_to_group: bool
    categories: dict[str, int]
    statuses: dict[str, int]


class Deleted(Schema):
    id: int
    deleted: bool


# ---------------------------------------------------------------- helpers


def _group(request: HttpRequest, group_id: int) -> Group:
    query = Group.objects.filter(pk=group_id)
    if not is_administrator(request.user):  # type: ignore[attr-defined]
        query = query.filter(visible=True)
    group = query.first()
    if group is None:
        raise not_found("group")
    return group


def _invalid(exc: Exception) -> ApiError:
    return ApiError(400, "invalid_group", str(exc))


def _criteria(given: list[CriterionSchema] | None) -> list[Criterion] | None:
    if given is None:
        return None
    return [
        Criterion(item.field.strip(), item.operator.strip().upper(), item.value, item.value2)
        for item in given
    ]


def _audit(request: HttpRequest, action: str, group: Group, **details: Any) -> None:
    audit.record(
        request.user,  # type: ignore[attr-defined]
        action,
        f"group {group.pk} {group.name}",
        address=address_of(request),
        **details,
    )


def _item(group: Group) -> dict[str, Any]:
    return groups.group_record(groups.summary(group))


def _settings(group: Group) -> list[dict[str, Any]]:
    return [{"name": entry.name, "value": entry.own} for entry in groups.group_settings(group)]


# ---------------------------------------------------------------- endpoints


@router.get(
    "/groups", response={200: GroupList}, summary="Every group you may see, with counts and cache age"
)
def list_groups(request: HttpRequest) -> dict[str, Any]:
    groups.recompute_stale()
    chosen = Group.objects.all()
    if not is_administrator(request.user):  # type: ignore[attr-defined]
        chosen = chosen.filter(visible=True)
    items = [groups.group_record(item) for item in groups.summaries(chosen)]
    return {"count": len(items), "items": items}


@router.post(
    "/groups",
    response={201: GroupItem, 400: Error, 403: Error},
    auth=administrators_only,
    summary="Create a static group, or a dynamic one with its search (administrators)",
)
def create_group(request: HttpRequest, body: GroupIn) -> Status[dict[str, Any]]:
    administrator(request)
    try:
        group = groups.create_group(
            body.name, description=body.description, visible=body.visible, criteria=_criteria(body.criteria)
        )
    except groups.GroupError as exc:
        raise _invalid(exc) from exc
    _audit(request, "group.create", group, dynamic=groups.is_dynamic(group))
    return Status(201, _item(group))


@router.get("/groups/{group_id}", response={200: GroupItem, 404: Error}, summary="One group")
def get_group(request: HttpRequest, group_id: int) -> dict[str, Any]:
    return _item(_group(request, group_id))


@router.patch(
    "/groups/{group_id}",
    response={200: GroupItem, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Change a group's name, description, visibility or search (administrators)",
)
def change_group(request: HttpRequest, group_id: int, body: GroupChange) -> dict[str, Any]:
    administrator(request)
    group = _group(request, group_id)
    try:
        groups.update_group(
            group,
            name=body.name,
            description=body.description,
            visible=body.visible,
            criteria=_criteria(body.criteria),
        )
    except groups.GroupError as exc:
        raise _invalid(exc) from exc
    _audit(request, "group.edit", group)
    return _item(group)


@router.delete(
    "/groups/{group_id}",
    response={200: Deleted, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Delete a group: its computers stay (administrators)",
)
def delete_group(request: HttpRequest, group_id: int) -> dict[str, Any]:
    administrator(request)
    group = _group(request, group_id)
    _audit(request, "group.delete", group)
    groups.delete_group(group)
    return {"id": group_id, "deleted": True}


@router.get(
    "/groups/{group_id}/members",
    response={200: MemberPage, 400: Error, 404: Error},
    summary="The group's computers you may see, with their membership kind",
)
def list_members(request: HttpRequest, group_id: int, paging: Query[Paging]) -> dict[str, Any]:
    refuse_unknown_parameters(request, ())
    group = _group(request, group_id)
    visible = visible_computers(request.user).values("pk")  # type: ignore[attr-defined]
    rows = groups.memberships(group).filter(computer__in=visible)

    def item(row: Any) -> dict[str, Any]:
        return {
            "id": row.computer_id,
            "name": row.computer.name,
            "device_id": row.computer.device_id,
            "kind": row.kind,
        }

    return page(rows, paging.limit, paging.offset, item)


@router.post(
    "/groups/{group_id}/members",
    response={200: MembersOut, 400: Error, 403: Error, 404: Error},
    summary="Add (force in), exclude, release or remove computers (users: add to visible static groups)",
)
def change_members(request: HttpRequest, group_id: int, body: MembersIn) -> dict[str, Any]:
    user = request.user  # type: ignore[attr-defined]
    admin = is_administrator(user)
    if body.action != "add" and not admin:
        administrator(request)
    group = _group(request, group_id)
    chosen = visible_computers(user)
    ids = set(chosen.filter(pk__in=body.computers).values_list("pk", flat=True))
    unseen = sorted(set(body.computers) - ids)
    if unseen:
        raise not_found(f"computer {unseen[0]}")
    if body.search is not None:
        criteria = body.search.criteria()
        try:
            ids.update(search(chosen, criteria).values_list("pk", flat=True))
        except SearchError as exc:
            raise ApiError(400, "invalid_search", str(exc)) from exc
    try:
        if body.action == "add":
            changed = groups.force_in(group, sorted(ids), administrator=admin)
        else:
            change = {"exclude": groups.exclude, "release": groups.release, "remove": groups.remove}[
                body.action
            ]
            changed = change(group, sorted(ids))
    except groups.GroupError as exc:
        if not admin:
            raise ApiError(403, "forbidden", str(exc)) from exc
        raise _invalid(exc) from exc
    _audit(request, f"group.{body.action}", group, computers=changed)
    return {"id": group.pk, "action": body.action, "changed": changed}


@router.post(
    "/groups/{group_id}/recompute",
    response={200: RecomputeOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Recompute a dynamic group's members from its search now (administrators)",
)
def recompute_group(request: HttpRequest, group_id: int) -> dict[str, Any]:
    administrator(request)
    group = _group(request, group_id)
    try:
        outcome = groups.recompute(group)
    except groups.GroupError as exc:
        raise _invalid(exc) from exc
    return {"id": group.pk, "joined": outcome.joined, "left": outcome.left, "computed_at": group.computed_at}


@router.get(
    "/groups/{group_id}/settings",
    response={200: list[SettingOut], 403: Error, 404: Error},
    auth=administrators_only,
    summary="The group's own settings (administrators)",
)
def get_settings(request: HttpRequest, group_id: int) -> list[dict[str, Any]]:
    administrator(request)
    return _settings(_group(request, group_id))


@router.put(
    "/groups/{group_id}/settings",
    response={200: SettingsOut, 400: Error, 403: Error, 404: Error},
    auth=administrators_only,
    summary="Set or remove the group's settings, all or nothing (administrators)",
)
def put_settings(request: HttpRequest, group_id: int, body: SettingsIn) -> dict[str, Any]:
    administrator(request)
    group = _group(request, group_id)
    try:
        changed = groups.update_group_settings(group, body.values)
    except groups.GroupError as exc:
        raise ApiError(400, "invalid_setting", str(exc)) from exc
    if changed:
        _audit(request, "group.settings", group, settings=",".join(changed))
    return {"changed": changed, "settings": _settings(group)}


@router.get(
    "/groups/{group_id}/statistics",
    response={200: list[PackageCounts], 404: Error},
    summary="Per package, how many of the members' assignments are in each status",
)
def get_statistics(request: HttpRequest, group_id: int) -> list[dict[str, Any]]:
    group = _group(request, group_id)
    user = request.user  # type: ignore[attr-defined]
    seen = None if is_administrator(user) else visible_computers(user)
    return [
        {
            "package": item.package.package_id,
            "name": item.package.name,
            "assigned_to_group": item.assigned_to_group,
            "categories": item.categories,
            "statuses": item.statuses,
        }
        for item in group_statistics(group, computers=seen)
    ]
