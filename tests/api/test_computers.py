"""Computers: the list (paged, sorted from an allow-list) and one computer with every section."""

from __future__ import annotations

import pytest

from ocelot.inventory.account_info import set_value
from ocelot.inventory.models import AccountField, Computer
from ocelot.inventory.setting_values import set_override
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "id",
    "device_id",
    "name",
    "os",
    "ip",
    "memory",
    "tag",
    "last_inventory_at",
    "last_contact_at",
    "user_agent",
    "own_settings",
}


def test_the_list_gives_every_computer_with_its_summary(admin: Caller, fleet: dict[str, Computer]) -> None:
    response = admin.get("/api/v1/computers")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert (body["limit"], body["offset"]) == (50, 0)
    by_device = {item["device_id"]: item for item in body["items"]}
    assert set(by_device) == {computer.device_id for computer in fleet.values()}
    unix = by_device[fleet["unix"].device_id]
    assert set(unix) == LIST_FIELDS
    assert unix["id"] == fleet["unix"].pk
    assert unix["tag"] == "PARIS"
    assert unix["name"] == fleet["unix"].name
    assert unix["os"] == fleet["unix"].os_name
    assert unix["memory"] == fleet["unix"].memory
    assert unix["last_inventory_at"] is not None


def test_the_list_is_sorted_by_name_unless_asked_otherwise(admin: Caller, fleet: dict[str, Computer]) -> None:
    names = [item["name"] for item in admin.get("/api/v1/computers").json()["items"]]
    assert names == sorted(names)
    tags = [item["tag"] for item in admin.get("/api/v1/computers", {"sort": "-tag"}).json()["items"]]
    assert tags == ["PARIS", "PARIS", "LYON"]
    ids = [
        item["device_id"] for item in admin.get("/api/v1/computers", {"sort": "device_id"}).json()["items"]
    ]
    assert ids == sorted(ids)
    newest = admin.get("/api/v1/computers", {"sort": "-last_inventory_at"}).json()["items"]
    assert newest == admin.get("/api/v1/computers", {"sort": "-last_inventory"}).json()["items"]
    assert [item["last_inventory_at"] for item in newest] == sorted(
        (item["last_inventory_at"] for item in newest), reverse=True
    )


def test_pages_are_bounded(admin: Caller, fleet: dict[str, Computer]) -> None:
    first = admin.get("/api/v1/computers", {"limit": 2, "sort": "device_id"}).json()
    second = admin.get("/api/v1/computers", {"limit": 2, "offset": 2, "sort": "device_id"}).json()
    assert first["count"] == second["count"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert {item["id"] for item in first["items"]}.isdisjoint({item["id"] for item in second["items"]})
    for limit in (0, 501, -1, "many"):
        response = admin.get("/api/v1/computers", {"limit": limit})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
    assert admin.get("/api/v1/computers", {"offset": -1}).status_code == 400
    assert admin.get("/api/v1/computers", {"limit": 500}).status_code == 200


def test_the_list_costs_the_same_few_queries_for_any_number_of_computers(
    admin: Caller, fleet: dict[str, Computer], django_assert_max_num_queries: object
) -> None:
    # The token, its last use, the page's ids, the count, the page's computers.
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        assert admin.get("/api/v1/computers").status_code == 200


def test_one_computer_has_every_section_its_software_account_info_and_settings(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    unix = fleet["unix"]
    owner = AccountField.objects.create(name="owner", kind=AccountField.TEXT)
    set_value(unix, owner, "Ada")
    set_override("FREQUENCY", 7, computer=unix)

    response = admin.get(f"/api/v1/computers/{unix.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= LIST_FIELDS
    assert body["device_id"] == unix.device_id
    assert body["tag"] == "PARIS"
    assert body["hardware"]["os_name"] == unix.os_name
    assert "extra" in body["hardware"]
    assert body["sections"]["bios"][0]["system_manufacturer"] == unix.bios.system_manufacturer
    assert len(body["sections"]["networks"]) == unix.networks.count() > 0
    assert all("extra" in row and "computer_id" not in row for row in body["sections"]["cpus"])
    assert set(body["sections"]) >= {"bios", "cpus", "drives", "memory_modules", "networks", "storages"}
    assert len(body["software"]) == unix.software.count() > 100
    first = body["software"][0]
    assert {"name", "publisher", "version", "folder", "install_date", "extra"} <= set(first)
    assert body["account_info"] == {"tag": "PARIS", "fields": {"owner": "Ada"}}
    assert body["settings"]["overrides"] == {"FREQUENCY": 7}
    assert body["settings"]["effective"]["FREQUENCY"] == 7
    assert body["settings"]["effective"]["PROLOG_FREQ"] == 24
    assert body["own_settings"] is True
    listed = {item["id"]: item["own_settings"] for item in admin.get("/api/v1/computers").json()["items"]}
    assert listed == {unix.pk: True, fleet["paris"].pk: False, fleet["lyon"].pk: False}


def test_a_computer_page_costs_a_bounded_number_of_queries(
    admin: Caller, fleet: dict[str, Computer], django_assert_max_num_queries: object
) -> None:
    # One query per section model, whatever the number of rows (no N+1).
    with django_assert_max_num_queries(40):  # type: ignore[operator]
        assert admin.get(f"/api/v1/computers/{fleet['unix'].pk}").status_code == 200


def test_an_unknown_computer_is_a_json_404(admin: Caller, fleet: dict[str, Computer]) -> None:
    response = admin.get("/api/v1/computers/999999")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "no such computer"}
    assert admin.get("/api/v1/computers/not-a-number").status_code == 400
