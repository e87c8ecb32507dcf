"""Settings: everyone reads the general options; administrators change them and each
computer's own values, validated by the catalogue and audited."""

from __future__ import annotations

import pytest

from ocelot.accounts.models import AuditEntry
from ocelot.inventory.models import Computer, SettingOverride
from ocelot.inventory.setting_catalogue import CATALOGUE
from ocelot.inventory.setting_values import global_value, resolve
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


def test_the_settings_list_every_option_with_value_default_help_and_unit(reader: Caller) -> None:
    body = reader.get("/api/v1/settings", {"limit": 500}).json()
    assert body["count"] == len(CATALOGUE)
    rows = {row["name"]: row for row in body["items"]}
    frequency = rows["FREQUENCY"]
    assert (frequency["value"], frequency["default"], frequency["unit"]) == (0, 0, "days")
    assert frequency["category"] == "inventory"
    assert "inventory" in frequency["help"].lower()
    assert frequency["scopes"] == ["global", "group", "computer"]


def test_the_settings_filter_by_category_from_an_allow_list(reader: Caller) -> None:
    deployment = reader.get("/api/v1/settings", {"category": "deployment", "limit": 500}).json()["items"]
    assert deployment and {row["category"] for row in deployment} == {"deployment"}
    response = reader.get("/api/v1/settings", {"category": "secrets"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_category"
    assert reader.get("/api/v1/settings", {"sort": "name"}).json()["code"] == "unknown_parameter"


def test_an_administrator_changes_an_option_and_it_is_audited(admin: Caller) -> None:
    response = admin.put("/api/v1/settings/prolog_freq", {"value": "6"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["value"]) == ("PROLOG_FREQ", 6)
    assert global_value("PROLOG_FREQ") == 6
    assert admin.get("/api/v1/settings/PROLOG_FREQ").json()["value"] == 6
    entry = AuditEntry.objects.get(action="setting.set")
    assert (entry.username, entry.target, entry.details, entry.address) == (
        "root",
        "PROLOG_FREQ",
        {"value": 6},
        "127.0.0.1",
    )

    assert admin.delete("/api/v1/settings/PROLOG_FREQ").json()["value"] == 24
    assert global_value("PROLOG_FREQ") == 24
    assert AuditEntry.objects.filter(action="setting.reset", target="PROLOG_FREQ").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROLOG_FREQ", "often"),
        ("FREQUENCY", -5),
        ("FREQUENCY", 99999),
        ("DOWNLOAD", "maybe"),
        ("NO_SUCH_OPTION", 1),
        ("DOWNLOAD_SWITCH", 1),
    ],
)
def test_an_invalid_value_is_a_400_and_changes_nothing(admin: Caller, name: str, value: object) -> None:
    response = admin.put(f"/api/v1/settings/{name}", {"value": value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_setting"
    assert not AuditEntry.objects.filter(action="setting.set").exists()


def test_a_malformed_body_is_a_400(admin: Caller) -> None:
    assert admin.put("/api/v1/settings/FREQUENCY", {"val": 3}).status_code == 400
    assert admin.put("/api/v1/settings/FREQUENCY", {"value": [1, 2]}).json()["code"] == "invalid"
    assert admin.get("/api/v1/settings/NO_SUCH_OPTION").status_code == 404


def test_an_administrator_sets_and_clears_a_computers_own_setting(
    admin: Caller, fleet: dict[str, Computer]
) -> None:
    lyon = fleet["lyon"]
    response = admin.put(f"/api/v1/computers/{lyon.pk}/settings/download_switch", {"value": "off"})
    assert response.status_code == 200
    assert response.json() == {"name": "DOWNLOAD_SWITCH", "value": 0}
    assert resolve(lyon.pk)["DOWNLOAD_SWITCH"] == 0
    assert admin.get(f"/api/v1/computers/{lyon.pk}").json()["settings"]["overrides"] == {"DOWNLOAD_SWITCH": 0}
    entry = AuditEntry.objects.get(action="computer.setting")
    assert entry.details == {"computer": lyon.pk, "name": "DOWNLOAD_SWITCH", "value": 0}

    assert admin.delete(f"/api/v1/computers/{lyon.pk}/settings/DOWNLOAD_SWITCH").status_code == 204
    assert not SettingOverride.objects.exists()
    assert AuditEntry.objects.filter(action="computer.setting.clear").count() == 1


def test_a_computers_setting_is_validated_and_scoped(admin: Caller, fleet: dict[str, Computer]) -> None:
    lyon = fleet["lyon"].pk
    for name, value in (("FREQUENCY", "weekly"), ("AUTO_DUPLICATE_LVL", 3), ("NO_SUCH", 1)):
        response = admin.put(f"/api/v1/computers/{lyon}/settings/{name}", {"value": value})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_setting"
    assert admin.put("/api/v1/computers/999999/settings/FREQUENCY", {"value": 1}).status_code == 404
    assert not SettingOverride.objects.exists()
