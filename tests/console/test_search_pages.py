"""The search page, CSV export and the mass-processing bar (seed 004, issue 3)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from ocelot.accounts.models import AuditEntry
from ocelot.inventory.models import Computer, SettingOverride
from tests.inventory.computer_factory import make_computer
from tests.inventory.test_search import SQL_INJECTIONS

pytestmark = pytest.mark.django_db


def criteria(*rows: tuple[str, str, str] | tuple[str, str, str, str]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {"field": [], "op": [], "value": [], "value2": []}
    for row in rows:
        field, op, value, value2 = (*row, "") if len(row) == 3 else row
        query["field"].append(field)
        query["op"].append(op)
        query["value"].append(value)
        query["value2"].append(value2)
    return query


@pytest.fixture
def fleet() -> dict[str, Computer]:
    return {
        "paris-01": make_computer(
            "paris-01", tag="PARIS", memory=8192, installed=["Mozilla Firefox", "LibreOffice"]
        ),
        "paris-02": make_computer("paris-02", tag="PARIS", memory=2048, installed=["Mozilla Firefox"]),
        "lyon-01": make_computer(
            "lyon-01", tag="LYON", memory=4096, installed=["Mozilla Firefox", "LibreOffice"]
        ),
    }


def found(page: str) -> list[str]:
    body = page.split('<table class="data computers">')[1] if '<table class="data computers">' in page else ""
    return sorted(name for name in ("paris-01", "paris-02", "lyon-01") if f">{name}</a>" in body)


def test_the_search_page_offers_every_criterion_of_the_seed(admin_console: Client) -> None:
    page = admin_console.get("/search/", secure=True).content.decode()
    for key in (
        "bios_manufacturer",
        "bios_version",
        "name",
        "ip",
        "mac",
        "gateway",
        "network",
        "os",
        "memory",
        "cpu_speed",
        "free_disk",
        "domain",
        "description",
        "software",
        "tag",
        "user",
        "agent",
        "last_inventory",
        "monitor_description",
        "monitor_manufacturer",
        "monitor_serial",
        "registry",
    ):
        assert f'<option value="{key}"' in page, key
    for operator in ("EQUAL", "DIFFERENT", "LESS", "MORE", "BETWEEN", "OUTSIDE"):
        assert f'<option value="{operator}"' in page


def test_two_software_and_a_memory_range_find_the_right_computers(admin_console: Client, fleet: Any) -> None:
    query = criteria(
        ("software", "EQUAL", "*firefox*"),
        ("software", "EQUAL", "libreoffice"),
        ("memory", "BETWEEN", "4096", "16384"),
    )
    response = admin_console.get("/search/", query, secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert found(page) == ["lyon-01", "paris-01"]
    # The criteria stay in the form, and the results keep them in sort links and the export.
    assert 'value="libreoffice"' in page
    assert "export.csv?field=software" in page


def test_a_read_only_user_searches_only_their_computers(reader_console: Client, fleet: Any) -> None:
    page = reader_console.get("/search/", criteria(("software", "EQUAL", "*firefox*")), secure=True)
    assert found(page.content.decode()) == ["paris-01", "paris-02"]


@pytest.mark.parametrize(
    "query",
    [
        criteria(("password", "EQUAL", "x")),
        criteria(("name", "LIKE", "x")),
        criteria(("memory", "MORE", "lots")),
        {"field": ["name", "os"], "op": ["EQUAL"], "value": ["a", "b"]},
    ],
)
def test_fields_operators_and_values_outside_the_allow_lists_are_a_400(
    admin_console: Client, query: Any
) -> None:
    assert admin_console.get("/search/", query, secure=True).status_code == 400
    assert admin_console.get("/computers/", query, secure=True).status_code == 400
    assert admin_console.get("/computers/export.csv", query, secure=True).status_code == 400


@pytest.mark.parametrize("payload", SQL_INJECTIONS)
def test_sql_injection_in_search_values_finds_nothing_and_changes_nothing(
    admin_console: Client, fleet: Any, payload: str
) -> None:
    for field in ("name", "software", "tag", "ip", "registry", "bios_version"):
        response = admin_console.get("/search/", criteria((field, "EQUAL", payload)), secure=True)
        assert response.status_code == 200
        assert found(response.content.decode()) == []
    assert (
        admin_console.get("/search/", criteria(("memory", "EQUAL", payload)), secure=True).status_code == 400
    )
    assert Computer.objects.count() == 3


# ---------------------------------------------------------------- CSV export


def read_csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_export_has_every_result_with_the_users_columns(admin_console: Client, fleet: Any) -> None:
    response = admin_console.get("/computers/export.csv", criteria(("tag", "EQUAL", "PARIS")), secure=True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="computers.csv"'
    rows = read_csv(response)
    assert rows[0][:2] == ["Name", "TAG"]
    assert [row[0] for row in rows[1:]] == ["paris-01", "paris-02"]


def test_csv_cells_that_look_like_formulas_are_made_inert(admin_console: Client) -> None:
    for name in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain"):
        make_computer(name, os_name="=cmd|' /C calc'!A0", device_id=f"dev-{len(name)}-{name[:2]}")
    rows = read_csv(admin_console.get("/computers/export.csv", secure=True))
    for row in rows[1:]:
        name, os_name = row[0], row[2]
        assert name == "plain" or name.startswith("'"), name
        assert os_name == "'=cmd|' /C calc'!A0"


def test_a_reader_exports_only_their_computers(reader_console: Client, fleet: Any) -> None:
    rows = read_csv(reader_console.get("/computers/export.csv", secure=True))
    assert [row[0] for row in rows[1:]] == ["paris-01", "paris-02"]


# ---------------------------------------------------------------- mass processing


def test_mass_delete_acts_on_the_ticked_results_only(admin_console: Client, fleet: Any) -> None:
    data = {
        **criteria(("software", "EQUAL", "*firefox*")),
        "scope": "selected",
        "ids": [fleet["paris-02"].pk],
        "action": "delete",
        "next": "/search/?field=software",
    }
    response = admin_console.post("/computers/mass/", data, secure=True)
    assert response.status_code == 302 and response["Location"] == "/search/?field=software"
    assert sorted(Computer.objects.values_list("name", flat=True)) == ["lyon-01", "paris-01"]
    entry = AuditEntry.objects.get(action="computers.delete")
    assert entry.details["count"] == 1 and entry.username == "admin-pages"


def test_ticked_ids_outside_the_results_are_ignored(admin_console: Client, fleet: Any) -> None:
    data = {
        **criteria(("tag", "EQUAL", "PARIS")),
        "scope": "selected",
        "ids": [fleet["lyon-01"].pk],
        "action": "delete",
    }
    admin_console.post("/computers/mass/", data, secure=True)
    assert Computer.objects.count() == 3


def test_mass_settings_act_on_all_results(admin_console: Client, fleet: Any) -> None:
    data = {
        **criteria(("tag", "EQUAL", "PARIS")),
        "scope": "all",
        "action": "settings",
        "setting": "FREQUENCY",
        "mode": "set",
        "setting_value": "5",
    }
    admin_console.post("/computers/mass/", data, secure=True)
    assert sorted(SettingOverride.objects.values_list("computer__name", "value")) == [
        ("paris-01", "5"),
        ("paris-02", "5"),
    ]
    data.update(mode="inherit", setting_value="")
    admin_console.post("/computers/mass/", data, secure=True)
    assert not SettingOverride.objects.exists()
    assert AuditEntry.objects.filter(action="computers.settings").count() == 2


def test_mass_settings_refuse_unknown_settings_and_bad_values(admin_console: Client, fleet: Any) -> None:
    base = {"scope": "all", "action": "settings", "mode": "set"}
    admin_console.post(
        "/computers/mass/", {**base, "setting": "LOCAL_PORT", "setting_value": "80"}, secure=True
    )
    admin_console.post(
        "/computers/mass/", {**base, "setting": "FREQUENCY", "setting_value": "x"}, secure=True
    )
    assert not SettingOverride.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "everything", "action": "delete"},
        {"scope": "all", "action": "explode"},
        {"scope": "selected", "ids": ["1 OR 1=1"], "action": "delete"},
    ],
)
def test_unknown_scopes_actions_and_ids_are_a_400(admin_console: Client, fleet: Any, data: Any) -> None:
    assert admin_console.post("/computers/mass/", data, secure=True).status_code == 400
    assert Computer.objects.count() == 3


def test_read_only_users_cannot_use_the_mass_bar_even_by_direct_post(
    reader_console: Client, fleet: Any
) -> None:
    response = reader_console.post("/computers/mass/", {"scope": "all", "action": "delete"}, secure=True)
    assert response.status_code == 403
    assert Computer.objects.count() == 3


def test_mass_actions_need_a_csrf_token(administrator: Any, fleet: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    assert (
        client.post("/computers/mass/", {"scope": "all", "action": "delete"}, secure=True).status_code == 403
    )
    assert client.get("/computers/mass/", secure=True).status_code == 405
    assert Computer.objects.count() == 3
