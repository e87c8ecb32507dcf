"""Account info: administrators change a computer's TAG and fields, validated by the fields'
kinds, in one audited transaction."""

from __future__ import annotations

import pytest

from ocelot.accounts.models import AuditEntry
from ocelot.inventory.account_info import server_pairs
from ocelot.inventory.models import AccountField, AccountValue, Computer
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(db: None) -> list[AccountField]:
    return [
        AccountField.objects.create(name="owner", kind=AccountField.TEXT),
        AccountField.objects.create(name="floor", kind=AccountField.INTEGER),
        AccountField.objects.create(name="bought", kind=AccountField.DATE),
    ]


def test_an_administrator_changes_the_tag_and_fields(
    admin: Caller, fleet: dict[str, Computer], fields: list[AccountField]
) -> None:
    lyon = fleet["lyon"]
    response = admin.put(
        f"/api/v1/computers/{lyon.pk}/account-info",
        {"tag": "NANTES", "fields": {"owner": "Ada", "floor": "3", "bought": "2024-05-01"}},
    )
    assert response.status_code == 200
    assert response.json() == {
        "tag": "NANTES",
        "fields": {"owner": "Ada", "floor": "3", "bought": "2024-05-01"},
    }
    assert server_pairs(lyon) == [
        ("TAG", "NANTES"),
        ("owner", "Ada"),
        ("floor", "3"),
        ("bought", "2024-05-01"),
    ]
    assert AccountValue.objects.get(computer=lyon, field__name="floor").integer == 3
    entry = AuditEntry.objects.get(action="computer.account_info")
    assert (entry.username, entry.details["tag"], entry.details["fields"]) == (
        "root",
        "NANTES",
        "bought,floor,owner",
    )


def test_absent_parts_stay_as_they_were(
    admin: Caller, fleet: dict[str, Computer], fields: list[AccountField]
) -> None:
    path = f"/api/v1/computers/{fleet['lyon'].pk}/account-info"
    admin.put(path, {"fields": {"owner": "Ada"}})
    assert admin.put(path, {"fields": {"floor": "2"}}).json() == {
        "tag": "LYON",
        "fields": {"owner": "Ada", "floor": "2", "bought": ""},
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"tag": "NANTES", "fields": {"floor": "third"}}, "invalid_account_value"),
        ({"tag": "NANTES", "fields": {"owner": "Ada", "bought": "yesterday"}}, "invalid_account_value"),
        ({"tag": "NANTES", "fields": {"password": "x"}}, "unknown_field"),
        ({"tag": "N" * 256}, "invalid"),
        ({"tag": "NANTES", "fields": {"floor": 3}}, "invalid"),
        ({"tag": "NANTES", "fields": ["owner"]}, "invalid"),
    ],
)
def test_an_invalid_change_is_a_400_and_changes_nothing(
    admin: Caller, fleet: dict[str, Computer], fields: list[AccountField], body: dict[str, object], code: str
) -> None:
    lyon = fleet["lyon"]
    response = admin.put(f"/api/v1/computers/{lyon.pk}/account-info", body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert server_pairs(lyon) == [("TAG", "LYON"), ("owner", ""), ("floor", ""), ("bought", "")]
    assert not AuditEntry.objects.filter(action="computer.account_info").exists()


def test_an_unknown_computer_is_a_404(admin: Caller, fleet: dict[str, Computer]) -> None:
    response = admin.put("/api/v1/computers/999999/account-info", {"tag": "X"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
