"""The computer list takes the multi-criteria search of the console, in the same query-string
format (``field`` / ``op`` / ``value`` / ``value2``); anything outside the allow-lists is a 400."""

from __future__ import annotations

import pytest

from ocelot.inventory.models import Computer
from ocelot.inventory.search import BETWEEN, Criterion, criteria_to_params
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


def _found(caller: Caller, params: list[tuple[str, str]] | dict[str, str]) -> set[str]:
    query = params if isinstance(params, dict) else _multi(params)
    response = caller.get("/api/v1/computers", query)
    assert response.status_code == 200, response.content
    return {item["device_id"].split("-")[0] for item in response.json()["items"]}


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _criteria(*criteria: Criterion) -> list[tuple[str, str]]:
    return criteria_to_params(criteria)


def test_two_software_criteria_find_computers_having_both(admin: Caller, fleet: dict[str, Computer]) -> None:
    assert _found(
        admin, _criteria(Criterion("software", "EQUAL", "bash"), Criterion("software", "EQUAL", "openssl"))
    ) == {"vm"}
    assert _found(
        admin,
        _criteria(Criterion("software", "EQUAL", "firefox"), Criterion("software", "EQUAL", "*office*")),
    ) == {"paris", "lyon"}
    assert (
        _found(
            admin,
            _criteria(Criterion("software", "EQUAL", "firefox"), Criterion("software", "EQUAL", "bash")),
        )
        == set()
    )


def test_a_between_on_memory_and_wildcards_on_names(admin: Caller, fleet: dict[str, Computer]) -> None:
    Computer.objects.filter(pk=fleet["paris"].pk).update(memory=4096)
    Computer.objects.filter(pk=fleet["lyon"].pk).update(memory=16384)
    assert _found(admin, _criteria(Criterion("memory", BETWEEN, "2048", "8192"))) == {"paris"}
    assert _found(admin, _criteria(Criterion("memory", "OUTSIDE", "2048", "8192"))) == {"lyon", "vm"}
    assert _found(admin, _criteria(Criterion("memory", "MORE", "20000"))) == {"vm"}
    assert _found(admin, _criteria(Criterion("name", "EQUAL", "p?r*"))) == {"paris"}
    assert _found(admin, _criteria(Criterion("tag", "DIFFERENT", "PARIS"))) == {"lyon"}


def test_the_search_stays_inside_the_users_tags(reader: Caller, fleet: dict[str, Computer]) -> None:
    both = _criteria(Criterion("software", "EQUAL", "firefox"), Criterion("software", "EQUAL", "libreoffice"))
    assert _found(reader, both) == {"paris"}
    assert _found(reader, _criteria(Criterion("tag", "EQUAL", "LYON"))) == set()
    assert reader.get("/api/v1/computers", _multi(both)).json()["count"] == 1


def test_criteria_may_leave_value2_out_altogether(admin: Caller, fleet: dict[str, Computer]) -> None:
    assert _found(admin, {"field": "name", "op": "EQUAL", "value": "lyon"}) == {"lyon"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"field": "password", "op": "EQUAL", "value": "x"}, "invalid_search"),
        ({"field": "name", "op": "LIKE", "value": "x"}, "invalid_search"),
        ({"field": "name", "op": "LESS", "value": "x"}, "invalid_search"),
        ({"field": "memory", "op": "MORE", "value": "lots"}, "invalid_search"),
        ({"field": "memory", "op": "BETWEEN", "value": "1"}, "invalid_search"),
        ({"field": "name", "value": "x"}, "invalid_search"),
        ({"field": "name", "op": "EQUAL", "value": "x" * 256}, "invalid_search"),
        ({"field": "inventory_computer.name", "op": "EQUAL", "value": "x"}, "invalid_search"),
        ({"sort": "password"}, "invalid_sort"),
        ({"sort": "name; DROP TABLE inventory_computer"}, "invalid_sort"),
        ({"sort": "--name"}, "invalid_sort"),
        ({"columns": "name"}, "unknown_parameter"),
        ({"order_by": "name"}, "unknown_parameter"),
        ({"name": "vm"}, "unknown_parameter"),
    ],
)
def test_parameters_outside_the_allow_lists_are_a_400(
    admin: Caller, fleet: dict[str, Computer], params: dict[str, str], code: str
) -> None:
    response = admin.get("/api/v1/computers", params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message"}


def test_a_repeated_name_field_is_refused(admin: Caller, fleet: dict[str, Computer]) -> None:
    twice = _criteria(Criterion("name", "EQUAL", "vm"), Criterion("name", "EQUAL", "lyon"))
    assert admin.get("/api/v1/computers", _multi(twice)).json()["code"] == "invalid_search"
    assert admin.get("/api/v1/computers", {"sort": ["name", "id"]}).json()["code"] == "repeated_parameter"
