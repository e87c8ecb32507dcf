"""/api/v1/groups: the console's group rules over the REST API (issue 7, issue 4's static groups)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocelot.inventory import groups
from ocelot.inventory.models import Computer, Group, GroupMember, SettingOverride
from ocelot.inventory.search import Criterion
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

DEBIAN = {"field": "os", "operator": "EQUAL", "value": "*debian*", "value2": ""}


def body(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content[:300]
    return json.loads(response.content)


def kinds(group: Group) -> dict[str, str]:
    rows = GroupMember.objects.filter(group=group).select_related("computer")
    return {row.computer.device_id.split("-")[0]: row.kind for row in rows}


def test_an_administrator_creates_a_dynamic_group_and_reads_its_members(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    created = body(admin.post("/api/v1/groups", {"name": "Debian", "criteria": [DEBIAN]}), 201)
    assert created["dynamic"] and created["members"] == 1 and created["criteria"] == [DEBIAN]
    assert created["cache_age_seconds"] is not None
    members = body(admin.get(f"/api/v1/groups/{created['id']}/members"))
    assert members["count"] == 1 and members["items"][0]["kind"] == "dynamic"
    assert members["items"][0]["id"] == fleet["unix"].pk
    listed = body(admin.get("/api/v1/groups"))
    assert [item["name"] for item in listed["items"]] == ["Debian"]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "x", "criteria": []},
        {"name": "x", "criteria": [{"field": "nope", "operator": "EQUAL", "value": "1"}]},
        {"name": "x", "criteria": [{"field": "memory", "operator": "EQUAL", "value": "lots"}]},
    ],
)
def test_bad_groups_are_400_and_create_nothing(admin: Caller, payload: dict[str, Any]) -> None:
    error = body(admin.post("/api/v1/groups", payload), 400)
    assert error["code"] == "invalid_group"
    assert not Group.objects.exists()


def test_members_add_exclude_release_and_remove_by_ids_or_search(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    group = body(admin.post("/api/v1/groups", {"name": "Debian", "criteria": [DEBIAN]}), 201)
    url = f"/api/v1/groups/{group['id']}/members"
    search = {"field": ["tag"], "op": ["EQUAL"], "value": ["PARIS"]}
    assert body(admin.post(url, {"action": "add", "search": search}))["changed"] == 2
    stored = Group.objects.get()
    assert kinds(stored) == {"vm": "static", "paris": "static"}
    body(admin.post(url, {"action": "release", "computers": [fleet["unix"].pk, fleet["paris"].pk]}))
    assert kinds(stored) == {"vm": "dynamic"}
    body(admin.post(url, {"action": "remove", "computers": [fleet["unix"].pk]}))
    assert kinds(stored) == {"vm": "excluded"}
    assert body(admin.post(url, {"action": "add", "computers": [999999]}), 404)["code"] == "not_found"
    assert body(admin.post(url, {"action": "nuke", "computers": []}), 400)["code"] == "invalid"


def test_settings_are_set_checked_and_removed(admin: Caller) -> None:
    group = groups.create_group("Lab")
    url = f"/api/v1/groups/{group.pk}/settings"
    result = body(admin.put(url, {"values": {"FREQUENCY": "3", "DOWNLOAD_FRAG_LATENCY": "20"}}))
    assert sorted(result["changed"]) == ["DOWNLOAD_FRAG_LATENCY", "FREQUENCY"]
    assert {"name": "FREQUENCY", "value": "3"} in result["settings"]
    assert (
        body(admin.put(url, {"values": {"FREQUENCY": "-5", "PROLOG_FREQ": "2"}}), 400)["code"]
        == "invalid_setting"
    )
    assert body(admin.put(url, {"values": {"OCS_SERVER_ADDRESS": "x"}}), 400)["code"] == "invalid_setting"
    body(admin.put(url, {"values": {"FREQUENCY": ""}}))
    assert dict(SettingOverride.objects.values_list("name", "value")) == {"DOWNLOAD_FRAG_LATENCY": "20"}


def test_recompute_patch_and_delete(admin: Caller, fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Lab")
    changed = body(admin.patch(f"/api/v1/groups/{group.pk}", {"criteria": [DEBIAN], "visible": True}))
    assert changed["dynamic"] and changed["visible"] and changed["members"] == 1
    Computer.objects.filter(pk=fleet["paris"].pk).update(os_name="Debian 13")
    assert body(admin.post(f"/api/v1/groups/{group.pk}/recompute"))["joined"] == 1
    assert body(admin.delete(f"/api/v1/groups/{group.pk}")) == {"id": group.pk, "deleted": True}
    assert Computer.objects.count() == 3
    assert body(admin.get(f"/api/v1/groups/{group.pk}"), 404)["code"] == "not_found"


def test_statistics_list_packages_assigned_to_members(admin: Caller, fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Lab")
    assert body(admin.get(f"/api/v1/groups/{group.pk}/statistics")) == []


def test_a_user_sees_visible_groups_and_adds_only_what_they_see_to_visible_static_groups(
    reader: Caller, fleet: dict[str, Computer]
) -> None:
    hidden = groups.create_group("Hidden")
    visible = groups.create_group("Firefox for all", visible=True)
    dynamic = groups.create_group("Debian", visible=True, criteria=[Criterion("os", "EQUAL", "*")])
    assert [item["name"] for item in body(reader.get("/api/v1/groups"))["items"]] == [
        "Debian",
        "Firefox for all",
    ]
    assert body(reader.get(f"/api/v1/groups/{hidden.pk}"), 404)["code"] == "not_found"
    # Members: only the PARIS computers this user may see.
    assert body(reader.get(f"/api/v1/groups/{dynamic.pk}/members"))["count"] == 2

    everything = {"field": ["os"], "op": ["EQUAL"], "value": ["*"]}
    assert body(reader.post(f"/api/v1/groups/{visible.pk}/members", {"search": everything}))["changed"] == 2
    assert kinds(visible) == {"vm": "static", "paris": "static"}
    lyon = fleet["lyon"].pk
    assert reader.post(f"/api/v1/groups/{visible.pk}/members", {"computers": [lyon]}).status_code == 404
    assert reader.post(f"/api/v1/groups/{dynamic.pk}/members", {"search": everything}).status_code == 403
    assert reader.post(f"/api/v1/groups/{hidden.pk}/members", {"search": everything}).status_code == 404
    assert (
        reader.post(f"/api/v1/groups/{visible.pk}/members", {"action": "remove", "computers": []}).status_code
        == 403
    )
    for method, path in (
        ("post", "/api/v1/groups"),
        ("patch", f"/api/v1/groups/{visible.pk}"),
        ("delete", f"/api/v1/groups/{visible.pk}"),
        ("post", f"/api/v1/groups/{visible.pk}/recompute"),
        ("put", f"/api/v1/groups/{visible.pk}/settings"),
    ):
        assert getattr(reader, method)(path, {"name": "x", "values": {}}).status_code == 403
    assert Group.objects.count() == 3
