"""SQL injection (security.md T38): a payload list in every filter, search and paging
parameter changes nothing in the database and finds nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from ocelot.accounts.models import ApiToken
from ocelot.inventory.models import AccountInfo, Computer, Setting, Software, SoftwareInstallation
from ocelot.inventory.search import FIELDS
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "' OR 1=1 --",
    "1; DROP TABLE inventory_computer",
    '" OR ""="',
    "%' UNION SELECT username, password FROM auth_user --",
    "*' OR '1'='1",
    "1' AND SLEEP(5) AND '1'='1",
    "'; DELETE FROM inventory_software; --",
    "1) OR (1=1",
    "\\'; UPDATE auth_user SET is_superuser=1; --",
    "%%",
]
TEXT_FIELDS = sorted(key for key, field in FIELDS.items() if field.kind == "text")
NUMBER_FIELDS = sorted(key for key, field in FIELDS.items() if field.kind != "text")


def _counts() -> dict[str, int]:
    return {
        "computers": Computer.objects.count(),
        "software": Software.objects.count(),
        "installations": SoftwareInstallation.objects.count(),
        "tags": AccountInfo.objects.count(),
        "users": get_user_model().objects.count(),
        "administrators": get_user_model().objects.filter(is_superuser=True).count(),
        "settings": Setting.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


def _requests(payload: str) -> list[tuple[str, dict[str, Any]]]:
    searches = [("/api/v1/computers", {"field": key, "op": "EQUAL", "value": payload}) for key in TEXT_FIELDS]
    numbers = [
        ("/api/v1/computers", {"field": key, "op": "BETWEEN", "value": "1", "value2": payload})
        for key in NUMBER_FIELDS
    ]
    return [
        *searches,
        *numbers,
        ("/api/v1/computers", {"field": payload, "op": "EQUAL", "value": "x"}),
        ("/api/v1/computers", {"field": "name", "op": payload, "value": "x"}),
        ("/api/v1/computers", {"sort": payload}),
        ("/api/v1/computers", {"limit": payload}),
        ("/api/v1/computers", {"offset": payload}),
        ("/api/v1/software", {"name": payload}),
        ("/api/v1/software", {"publisher": payload}),
        ("/api/v1/software", {"category": payload}),
        ("/api/v1/software", {"sort": payload}),
        ("/api/v1/users", {"username": payload}),
        ("/api/v1/users", {"sort": payload}),
        ("/api/v1/settings", {"category": payload}),
        (f"/api/v1/settings/{payload}", {}),
        (f"/api/v1/computers/{payload}", {}),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_injection_payload_in_any_filter_changes_nothing_and_finds_nothing(
    admin: Caller, fleet: dict[str, Computer], payload: str
) -> None:
    before = _counts()
    for path, params in _requests(payload):
        response = admin.get(path, params)
        assert response.status_code in (200, 400, 404), (path, params, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        if response.status_code == 200 and "items" in body and path != "/api/v1/settings":
            assert body["items"] == [] and body["count"] == 0, (path, params)
    assert _counts() == before


def test_payloads_as_request_bodies_are_stored_as_plain_text(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    before = _counts()
    for payload in PAYLOADS:
        response = admin.put(f"/api/v1/computers/{fleet['lyon'].pk}/account-info", {"tag": payload})
        assert response.status_code == 200
        assert response.json()["tag"] == payload
        assert AccountInfo.objects.get(computer=fleet["lyon"]).tag == payload
        assert admin.put(f"/api/v1/settings/{payload.replace('/', '')}", {"value": 1}).status_code in (
            400,
            404,
        )
        assert admin.put("/api/v1/settings/LOCAL_SERVER", {"value": payload}).json()["value"] == payload
    assert {k: v for k, v in _counts().items() if k != "settings"} == {
        k: v for k, v in before.items() if k != "settings"
    }
    assert Setting.objects.count() == 1


def test_like_wildcards_in_filters_are_literal_characters(admin: Caller, fleet: dict[str, Computer]) -> None:
    assert admin.get("/api/v1/software", {"name": "%"}).json()["count"] == 0
    with_underscore = Software.objects.filter(name__contains="_").count()
    assert admin.get("/api/v1/software", {"name": "_"}).json()["count"] == with_underscore
    assert (
        admin.get("/api/v1/computers", {"field": "name", "op": "EQUAL", "value": "v_"}).json()["count"] == 0
    )
    assert (
        admin.get("/api/v1/computers", {"field": "name", "op": "EQUAL", "value": "v?"}).json()["count"] == 1
    )
