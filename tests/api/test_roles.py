"""Roles and TAG scope: a read-only user restricted to PARIS sees only PARIS computers, as if
the others did not exist, and every write it tries is a JSON 403 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ocelot.accounts.models import AuditEntry
from ocelot.inventory.models import AccountInfo, Computer, Setting, SettingOverride, Software
from tests.api.conftest import Caller, caller_for

pytestmark = pytest.mark.django_db


def test_a_tag_restricted_user_lists_only_the_computers_of_its_tags(
    reader: Caller, fleet: dict[str, Computer]
) -> None:
    body = reader.get("/api/v1/computers").json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {fleet["unix"].pk, fleet["paris"].pk}
    assert {item["tag"] for item in body["items"]} == {"PARIS"}


def test_a_tag_restricted_user_opens_its_computers_and_gets_404_for_the_others(
    reader: Caller, fleet: dict[str, Computer]
) -> None:
    assert reader.get(f"/api/v1/computers/{fleet['paris'].pk}").status_code == 200
    hidden = reader.get(f"/api/v1/computers/{fleet['lyon'].pk}")
    missing = reader.get("/api/v1/computers/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"code": "not_found", "message": "no such computer"}


def test_a_tag_restricted_user_sees_only_the_software_of_its_computers(
    reader: Caller, admin: Caller, fleet: dict[str, Computer]
) -> None:
    Software.objects.create(key="x" * 64, name="Only in LYON")
    seen = reader.get("/api/v1/software", {"name": "Only in LYON"}).json()
    assert seen["count"] == 0
    firefox = reader.get("/api/v1/software", {"name": "Firefox"}).json()["items"]
    assert [item["installations"] for item in firefox] == [1]
    assert [
        item["installations"] for item in admin.get("/api/v1/software", {"name": "Firefox"}).json()["items"]
    ] == [2]


def test_a_user_without_restriction_sees_every_computer(fleet: dict[str, Computer]) -> None:
    everyone = caller_for("auditor", administrator=False)
    assert everyone.get("/api/v1/computers").json()["count"] == 3
    assert everyone.get(f"/api/v1/computers/{fleet['lyon'].pk}").status_code == 200


def _writes(fleet: dict[str, Computer], user_id: int) -> list[tuple[str, str, Any]]:
    mine, other = fleet["paris"].pk, fleet["lyon"].pk
    return [
        ("put", "/api/v1/settings/FREQUENCY", {"value": 3}),
        ("delete", "/api/v1/settings/FREQUENCY", None),
        ("put", f"/api/v1/computers/{mine}/settings/FREQUENCY", {"value": 3}),
        ("put", f"/api/v1/computers/{other}/settings/FREQUENCY", {"value": 3}),
        ("delete", f"/api/v1/computers/{mine}/settings/FREQUENCY", None),
        ("put", f"/api/v1/computers/{mine}/account-info", {"tag": "LYON"}),
        ("put", f"/api/v1/computers/{other}/account-info", {"tag": "PARIS"}),
        ("put", f"/api/v1/computers/{mine}/account-info", {"tag": 12, "fields": "not even valid"}),
        ("post", "/api/v1/users", {"username": "mallory", "administrator": True}),
        ("patch", f"/api/v1/users/{user_id}", {"administrator": True, "allowed_tags": []}),
        ("post", f"/api/v1/users/{user_id}/password", None),
        ("delete", f"/api/v1/users/{user_id}", None),
    ]


def test_every_write_by_a_read_only_user_is_a_json_403_that_changes_nothing(
    reader: Caller, admin: Caller, fleet: dict[str, Computer]
) -> None:
    reader_id = admin.get("/api/v1/users", {"username": "paris-reader"}).json()["items"][0]["id"]
    audit_before = AuditEntry.objects.count()
    for method, path, body in _writes(fleet, reader_id):
        response = getattr(reader, method)(path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json() == {"code": "forbidden", "message": "administrators only"}
    assert not Setting.objects.exists()
    assert not SettingOverride.objects.exists()
    assert sorted(AccountInfo.objects.values_list("tag", flat=True)) == ["LYON", "PARIS", "PARIS"]
    assert reader.get("/api/v1/me").json() == {"username": "paris-reader", "administrator": False}
    assert AuditEntry.objects.count() == audit_before


def test_user_administration_is_for_administrators_only_even_to_read(reader: Caller) -> None:
    assert reader.get("/api/v1/users").status_code == 403
    assert reader.get("/api/v1/users/1").status_code == 403


def test_everyone_may_read_the_settings(reader: Caller) -> None:
    response = reader.get("/api/v1/settings/FREQUENCY")
    assert response.status_code == 200
    assert response.json()["value"] == 0
