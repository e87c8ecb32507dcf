"""Configuration pages: administrators only, POST with CSRF, audited; general options,
account info fields, label and registry queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ocelot.accounts.models import AuditEntry
from ocelot.deployment.agent_files import read_label, save_agent_file
from ocelot.inventory.models import AccountField, AccountValue, RegistryQuery, Setting
from ocelot.inventory.setting_catalogue import CATALOGUE
from ocelot.inventory.setting_values import global_value, set_global

pytestmark = pytest.mark.django_db

PAGES = [
    "/configuration/",
    "/configuration/options/",
    "/configuration/account-fields/",
    "/configuration/label/",
    "/configuration/registry/",
    "/configuration/duplicates/",
    "/configuration/duplicates/hostname-serial/",
    "/configuration/import/",
    "/configuration/software/",
    "/configuration/software/?category=NEW",
    "/configuration/agent-files/",
]
CHANGES = [
    ("/configuration/options/", {"FREQUENCY": "3"}),
    ("/configuration/options/FREQUENCY/reset/", {}),
    ("/configuration/account-fields/new/", {"name": "OWNER", "kind": "text"}),
    ("/configuration/account-fields/1/delete/", {}),
    ("/configuration/label/", {"label": "Your office?"}),
    ("/configuration/registry/new/", {"name": "Q", "hive": "2", "key": "K", "value_name": "V"}),
    ("/configuration/registry/1/", {"name": "Q", "hive": "2", "key": "K", "value_name": "V"}),
    ("/configuration/registry/1/delete/", {}),
    ("/configuration/duplicates/hostname/merge/", {"group-1": ["1", "2"]}),
    ("/configuration/import/", {}),
    ("/configuration/software/move/", {"scope": "all", "q": "a", "to": "IGNORED"}),
    ("/configuration/agent-files/upload/", {}),
    ("/configuration/agent-files/delete/", {"name": "ocsagent.exe"}),
]


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.parametrize("url", PAGES)
def test_every_page_opens_for_an_administrator(admin_console: Client, url: str) -> None:
    response = admin_console.get(url, secure=True)
    assert response.status_code == 200
    assert b"<script>" not in response.content


@pytest.mark.parametrize("url", PAGES)
def test_read_only_users_get_403_on_every_page_even_by_direct_url(reader_console: Client, url: str) -> None:
    assert reader_console.get(url, secure=True).status_code == 403


@pytest.mark.parametrize(("url", "data"), CHANGES)
def test_read_only_users_get_403_on_every_change_and_nothing_changes(
    reader_console: Client, url: str, data: dict[str, Any]
) -> None:
    assert reader_console.post(url, data, secure=True).status_code == 403
    assert not Setting.objects.exists()
    assert not AccountField.objects.exists()
    assert not RegistryQuery.objects.exists()
    assert read_label() == ""
    assert not AuditEntry.objects.exclude(action__startswith="login").exists()


@pytest.mark.parametrize("url", PAGES[:3])
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url, secure=True)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("url", "data"), [change for change in CHANGES if change[0] != "/configuration/options/"]
)
def test_changes_need_post(admin_console: Client, url: str, data: dict[str, Any]) -> None:
    if url in ("/configuration/label/", "/configuration/import/"):
        return  # these pages answer GET with their form
    assert admin_console.get(url, secure=True).status_code == 405


@pytest.mark.parametrize(
    "url",
    [
        "/configuration/options/",
        "/configuration/label/",
        "/configuration/registry/new/",
        "/configuration/import/",
        "/configuration/agent-files/upload/",
    ],
)
def test_a_post_without_a_csrf_token_is_refused(administrator: Any, url: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator)
    data = {"FREQUENCY": "5", "label": "x", "name": "Q", "hive": "2", "key": "K", "value_name": "V"}
    assert browser.post(url, data, secure=True).status_code == 403
    assert not Setting.objects.exists()
    assert read_label() == ""
    assert not RegistryQuery.objects.exists()


def test_a_post_with_the_csrf_token_is_accepted(administrator: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator)
    browser.get("/configuration/label/", secure=True)
    token = browser.cookies["csrftoken"].value
    referer = "https://testserver/configuration/label/"
    response = browser.post(
        "/configuration/label/",
        {"label": "Office?", "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER=referer,
    )
    assert response.status_code == 302
    assert read_label() == "Office?"
    # The upload pages check the token themselves, after their size-bounding upload handler.
    response = browser.post(
        "/configuration/import/", {"csrfmiddlewaretoken": token}, secure=True, HTTP_REFERER=referer
    )
    assert response.status_code == 200


def test_the_home_page_links_every_configuration_page(admin_console: Client) -> None:
    content = admin_console.get("/configuration/", secure=True).content.decode()
    for url in PAGES[1:6] + PAGES[7:9] + PAGES[10:]:
        assert f'href="{url}"' in content


# -- general options


def test_every_global_option_is_shown_grouped_with_help_and_default(admin_console: Client) -> None:
    content = admin_console.get("/configuration/options/", secure=True).content.decode()
    for item in CATALOGUE:
        if "global" in item.scopes:
            assert f'id="option-{item.name}"' in content
            assert item.help.split(".")[0].replace('"', "&quot;") in content.replace("&#x27;", "'")
        else:
            assert f'id="option-{item.name}"' not in content  # DOWNLOAD_SWITCH: per computer or group
    positions = [
        content.index(f'id="category-{slug}"')
        for slug in ("inventory", "deployment", "ipdiscover", "registry", "server")
    ]
    assert positions == sorted(positions)
    assert content.index('id="option-FREQUENCY"') < content.index('id="category-deployment"')
    assert content.index('id="option-REGISTRY"') > content.index('id="category-registry"')


def test_saving_options_stores_changed_values_and_audits_each(
    admin_console: Client, administrator: Any
) -> None:
    response = admin_console.post(
        "/configuration/options/",
        {"FREQUENCY": "7", "DOWNLOAD": "1", "PROLOG_FREQ": "24", "LOCAL_SERVER": "ocs.example.org"},
        secure=True,
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 302
    assert global_value("FREQUENCY") == 7
    assert global_value("DOWNLOAD") == 1
    assert global_value("LOCAL_SERVER") == "ocs.example.org"
    assert not Setting.objects.filter(name="PROLOG_FREQ").exists()  # unchanged: still the default
    entries = _audit("setting.set")
    assert sorted(e.target for e in entries) == ["DOWNLOAD", "FREQUENCY", "LOCAL_SERVER"]
    frequency = next(e for e in entries if e.target == "FREQUENCY")
    assert (frequency.user, frequency.address, frequency.details) == (
        administrator,
        "192.0.2.7",
        {"value": 7, "previous": 0},
    )


def test_an_invalid_value_is_shown_next_to_its_field_and_nothing_is_saved(admin_console: Client) -> None:
    response = admin_console.post(
        "/configuration/options/", {"FREQUENCY": "5", "PROLOG_FREQ": "0", "LOCAL_PORT": "http"}, secure=True
    )
    assert response.status_code == 400
    content = response.content.decode()
    start = content.index('id="option-PROLOG_FREQ"')
    block = content[start : content.index('id="option-', start + 1)]  # this option's block only
    assert "PROLOG_FREQ: must be at least 1" in block
    assert 'class="option invalid"' in content
    assert "LOCAL_PORT: expected an integer" in content
    assert 'value="http"' in content  # the submitted value stays in the form
    assert not Setting.objects.exists()
    assert not _audit("setting.set")


def test_duplicate_detection_criteria_are_ticked_and_summed(admin_console: Client) -> None:
    content = admin_console.get("/configuration/options/", secure=True).content.decode()
    assert 'name="AUTO_DUPLICATE_LVL" value="1" checked' in content  # the default, 7
    assert 'name="AUTO_DUPLICATE_LVL" value="8" >' in content
    admin_console.post(
        "/configuration/options/",
        {"AUTO_DUPLICATE_LVL-present": "1", "AUTO_DUPLICATE_LVL": ["2", "4", "16"]},
        secure=True,
    )
    assert global_value("AUTO_DUPLICATE_LVL") == 22
    admin_console.post("/configuration/options/", {"AUTO_DUPLICATE_LVL-present": "1"}, secure=True)
    assert global_value("AUTO_DUPLICATE_LVL") == 0  # nothing ticked: detection off


def test_an_unknown_duplicate_criterion_is_refused(admin_console: Client) -> None:
    response = admin_console.post(
        "/configuration/options/",
        {"AUTO_DUPLICATE_LVL-present": "1", "AUTO_DUPLICATE_LVL": ["64"]},
        secure=True,
    )
    assert response.status_code == 400
    assert global_value("AUTO_DUPLICATE_LVL") == 7


def test_reset_to_default_removes_the_stored_value(admin_console: Client) -> None:
    set_global("FREQUENCY", 9)
    content = admin_console.get("/configuration/options/", secure=True).content.decode()
    assert 'formaction="/configuration/options/FREQUENCY/reset/"' in content
    response = admin_console.post("/configuration/options/FREQUENCY/reset/", secure=True)
    assert response["Location"] == "/configuration/options/#option-FREQUENCY"
    assert not Setting.objects.filter(name="FREQUENCY").exists()
    (entry,) = _audit("setting.reset")
    assert (entry.target, entry.details) == ("FREQUENCY", {"value": 0, "previous": 9})


@pytest.mark.parametrize("name", ["NOPE", "DOWNLOAD_SWITCH"])
def test_resetting_an_unknown_or_per_computer_option_is_404(admin_console: Client, name: str) -> None:
    assert admin_console.post(f"/configuration/options/{name}/reset/", secure=True).status_code == 404


# -- account info fields


def test_an_administrator_adds_and_deletes_account_info_fields(admin_console: Client) -> None:
    admin_console.post(
        "/configuration/account-fields/new/", {"name": "PURCHASE_DATE", "kind": "date"}, secure=True
    )
    field = AccountField.objects.get()
    assert (field.name, field.kind) == ("PURCHASE_DATE", "date")
    content = admin_console.get("/configuration/account-fields/", secure=True).content.decode()
    assert "PURCHASE_DATE" in content
    assert "data-confirm=" in content

    admin_console.post(f"/configuration/account-fields/{field.pk}/delete/", secure=True)
    assert not AccountField.objects.exists()
    assert [e.target for e in _audit("account_field.create")] == ["PURCHASE_DATE"]
    assert [e.details for e in _audit("account_field.delete")] == [{"values": 0}]


def test_a_field_name_with_spaces_is_refused_with_a_message(admin_console: Client) -> None:
    response = admin_console.post(
        "/configuration/account-fields/new/",
        {"name": "date d'achat", "kind": "date"},
        secure=True,
        follow=True,
    )
    assert "no spaces or special characters" in response.content.decode()
    assert not AccountField.objects.exists()
    assert not _audit("account_field.create")


def test_deleting_a_field_deletes_its_values(admin_console: Client) -> None:
    from ocelot.inventory.models import Computer

    computer = Computer.objects.create(device_id="pc-2025-01-01-00-00-00", name="pc")
    field = AccountField.objects.create(name="OWNER")
    AccountValue.objects.create(computer=computer, field=field, text="Alice")
    admin_console.post(f"/configuration/account-fields/{field.pk}/delete/", secure=True)
    assert not AccountValue.objects.exists()
    assert _audit("account_field.delete")[0].details == {"values": 1}


# -- label


def test_the_label_is_edited_and_served_to_agents_while_deploy_is_on(
    admin_console: Client, client: Client
) -> None:
    admin_console.post("/configuration/label/", {"label": "Numéro d'inventaire ?"}, secure=True)
    assert client.get("/ocsinventory/deploy/label").content == "Numéro d'inventaire ?".encode()
    page = admin_console.get("/configuration/label/", secure=True).content.decode()
    assert "Numéro d&#x27;inventaire ?</textarea>" in page
    assert "DEPLOY on" in page
    assert [e.action for e in AuditEntry.objects.all()] == ["label.set"]


def test_an_empty_label_removes_it(admin_console: Client, client: Client) -> None:
    save_agent_file("label", b"Office?")
    admin_console.post("/configuration/label/", {"label": "   "}, secure=True)
    assert client.get("/ocsinventory/deploy/label").status_code == 404
    assert _audit("label.remove")


def test_the_label_page_says_when_deploy_is_off(admin_console: Client) -> None:
    set_global("DEPLOY", 0)
    assert "DEPLOY off" in admin_console.get("/configuration/label/", secure=True).content.decode()


def test_an_oversized_label_is_refused(admin_console: Client) -> None:
    response = admin_console.post("/configuration/label/", {"label": "x" * 5000}, secure=True)
    assert response.status_code == 400
    assert read_label() == ""


# -- registry queries


def test_registry_queries_are_added_edited_and_deleted(admin_console: Client) -> None:
    key = r"SOFTWARE\Microsoft\Office\10.0\Registration"
    admin_console.post(
        "/configuration/registry/new/",
        {"name": "MS Office XP", "hive": "2", "key": key, "value_name": "ProductID"},
        secure=True,
    )
    query = RegistryQuery.objects.get()
    content = admin_console.get("/configuration/registry/", secure=True).content.decode()
    assert "HKEY_LOCAL_MACHINE" in content and "MS Office XP" in content
    assert "REGISTRY off" in content

    admin_console.post(
        f"/configuration/registry/{query.pk}/",
        {"name": "Run", "hive": "1", "key": key, "value_name": "*"},
        secure=True,
    )
    query.refresh_from_db()
    assert (query.name, query.hive, query.value_name) == ("Run", 1, "*")
    admin_console.post(f"/configuration/registry/{query.pk}/delete/", secure=True)
    assert not RegistryQuery.objects.exists()
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "registry_query.create",
        "registry_query.update",
        "registry_query.delete",
    ]
    assert _audit("registry_query.create")[0].details["hive"] == "HKEY_LOCAL_MACHINE"


def test_an_invalid_registry_query_shows_why(admin_console: Client) -> None:
    response = admin_console.post(
        "/configuration/registry/new/",
        {"name": "Q", "hive": "9", "key": "K", "value_name": "V"},
        secure=True,
        follow=True,
    )
    assert "Choose a registry hive." in response.content.decode()
    assert not RegistryQuery.objects.exists()


def test_the_registry_page_shows_when_registry_is_on(admin_console: Client) -> None:
    set_global("REGISTRY", 1)
    assert "REGISTRY on" in admin_console.get("/configuration/registry/", secure=True).content.decode()


HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "{{7*7}}"]


@pytest.mark.parametrize("text", HOSTILE)
def test_administrator_entered_text_is_shown_as_text(admin_console: Client, text: str) -> None:
    RegistryQuery.objects.create(name=text, hive=2, key=text, value_name=text)
    save_agent_file("label", text.encode())
    for url in ("/configuration/registry/", "/configuration/label/"):
        content = admin_console.get(url, secure=True).content.decode()
        assert "<script>alert" not in content
        assert "<img src=x" not in content
        if text == "{{7*7}}":
            assert "{{7*7}}" in content  # templates never evaluate inventory or administrator text
