"""Users (administrators only): list, create with a generated password shown once, change
role, TAGs and activity, reset a password, delete; every change audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from ocelot.accounts.models import AuditEntry
from ocelot.inventory.models import Computer
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


def test_an_administrator_lists_users_with_their_role_and_tags(admin: Caller, reader: Caller) -> None:
    body = admin.get("/api/v1/users").json()
    assert body["count"] == 2
    rows = {row["username"]: row for row in body["items"]}
    assert rows["root"]["administrator"] is True
    assert rows["paris-reader"]["allowed_tags"] == ["PARIS"]
    assert rows["paris-reader"]["active"] is True
    assert [row["username"] for row in admin.get("/api/v1/users", {"sort": "-username"}).json()["items"]] == [
        "root",
        "paris-reader",
    ]
    assert admin.get("/api/v1/users", {"username": "PARIS"}).json()["count"] == 1
    assert admin.get("/api/v1/users", {"sort": "password"}).json()["code"] == "invalid_sort"


def test_a_created_user_gets_a_password_shown_once_and_a_tag_scope(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    response = admin.post("/api/v1/users", {"username": "lyon-reader", "allowed_tags": ["LYON"]})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "lyon-reader"
    assert body["user"]["administrator"] is False
    assert body["user"]["allowed_tags"] == ["LYON"]
    user = get_user_model().objects.get(username="lyon-reader")
    assert user.check_password(body["password"])
    assert len(body["password"]) >= 16
    assert body["password"] not in admin.get(f"/api/v1/users/{user.pk}").content.decode()
    entry = AuditEntry.objects.get(action="user.create", target="lyon-reader")
    assert (entry.username, entry.address) == ("root", "127.0.0.1")


def test_a_duplicate_or_invalid_user_name_is_a_400(admin: Caller, reader: Caller) -> None:
    for name in ("paris-reader", "PARIS-READER", "two words"):
        response = admin.post("/api/v1/users", {"username": name})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_user"
    assert admin.post("/api/v1/users", {"username": ""}).json()["code"] == "invalid"
    assert (
        admin.post("/api/v1/users", {"username": "x", "allowed_tags": ["T" * 256]}).json()["code"]
        == "invalid"
    )
    assert admin.post("/api/v1/users", {"username": "x", "allowed_tags": "PARIS"}).json()["code"] == "invalid"


def test_an_administrator_changes_role_tags_and_activity(
    admin: Caller, reader: Caller, fleet: dict[str, Computer]
) -> None:
    user = get_user_model().objects.get(username="paris-reader")
    response = admin.patch(f"/api/v1/users/{user.pk}", {"allowed_tags": ["LYON", "PARIS"]})
    assert response.status_code == 200
    assert response.json()["allowed_tags"] == ["LYON", "PARIS"]
    assert reader.get("/api/v1/computers").json()["count"] == 3

    admin.patch(f"/api/v1/users/{user.pk}", {"administrator": True})
    assert reader.get("/api/v1/me").json()["administrator"] is True

    assert admin.patch(f"/api/v1/users/{user.pk}", {"active": False}).json()["active"] is False
    assert reader.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(action="user.update", target="paris-reader").count() == 3


def test_an_administrator_cannot_demote_or_delete_itself(admin: Caller) -> None:
    me = get_user_model().objects.get(username="root")
    assert admin.patch(f"/api/v1/users/{me.pk}", {"administrator": False}).json()["code"] == "invalid_user"
    assert admin.delete(f"/api/v1/users/{me.pk}").json()["code"] == "invalid_user"
    assert admin.get("/api/v1/me").json()["administrator"] is True


def test_a_password_reset_and_a_deletion(admin: Caller, reader: Caller) -> None:
    user = get_user_model().objects.get(username="paris-reader")
    password = admin.post(f"/api/v1/users/{user.pk}/password").json()["password"]
    user.refresh_from_db()
    assert user.check_password(password)
    assert admin.delete(f"/api/v1/users/{user.pk}").status_code == 204
    assert not get_user_model().objects.filter(username="paris-reader").exists()
    assert reader.get("/api/v1/me").status_code == 401
    assert [entry.action for entry in AuditEntry.objects.filter(target="paris-reader").order_by("id")][
        -2:
    ] == [
        "user.reset_password",
        "user.delete",
    ]
    assert admin.delete(f"/api/v1/users/{user.pk}").status_code == 404
