"""The software catalogue: searched by part of a name, with installation counts, in pages."""

from __future__ import annotations

import pytest

from ocelot.inventory.models import Computer, Software
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


def test_the_catalogue_finds_software_by_part_of_its_name_with_counts(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    body = admin.get("/api/v1/software", {"name": "FIREFOX"}).json()
    assert body["count"] == 1
    assert body["items"] == [
        {
            "id": Software.objects.get(name="Firefox").pk,
            "name": "Firefox",
            "publisher": "Mozilla",
            "version": "128.0",
            "category": "",
            "installations": 2,
        }
    ]
    assert admin.get("/api/v1/software", {"publisher": "tdf"}).json()["items"][0]["name"] == "LibreOffice"
    assert admin.get("/api/v1/software", {"name": "bash"}).json()["items"][0]["installations"] == 1


def test_the_catalogue_is_paged_and_sorted_from_an_allow_list(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    total = Software.objects.count()
    first = admin.get("/api/v1/software", {"limit": 500}).json()
    assert first["count"] == total > 500
    assert len(first["items"]) == 500
    rest = admin.get("/api/v1/software", {"limit": 500, "offset": 500}).json()
    assert len(rest["items"]) == total - 500
    names = [item["name"] for item in first["items"]]
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    reverse = admin.get("/api/v1/software", {"sort": "-name", "limit": 1}).json()["items"][0]["name"]
    assert reverse == max(Software.objects.values_list("name", flat=True))
    assert admin.get("/api/v1/software", {"limit": 501}).status_code == 400
    assert admin.get("/api/v1/software", {"sort": "installations; --"}).json()["code"] == "invalid_sort"
    assert admin.get("/api/v1/software", {"search": "x"}).json()["code"] == "unknown_parameter"


def test_the_catalogue_costs_a_fixed_number_of_queries(
    admin: Caller, fleet: dict[str, Computer], django_assert_max_num_queries: object
) -> None:
    # The token, its last use, one page, one count, one grouped count of installations.
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        assert len(admin.get("/api/v1/software", {"limit": 500}).json()["items"]) == 500
