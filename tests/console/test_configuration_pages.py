"""Configuration pages: duplicates, local import, software dictionary and agent files."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ocelot.accounts.models import AuditEntry
from ocelot.deployment import agent_files
from ocelot.deployment.models import AgentFile
from ocelot.inventory import software_dictionary as dictionary
from ocelot.inventory.ingest import software_key, store_inventory
from ocelot.inventory.models import AccountInfo, Computer, Software
from ocelot.inventory.setting_values import set_global
from ocelot.protocol.limits import DEFAULT_LIMITS
from tests.inventory.payloads import DATA, UNIX_SAMPLE, small_inventory

pytestmark = pytest.mark.django_db

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "{{7*7}}"]


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _inert(content: str) -> None:
    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert ">49<" not in content


# -- duplicates


def _machine(
    prefix: str, *, name: str, serial: str = "SN-1", mac: str = "02:00:00:00:00:01", tag: str = ""
) -> int:
    body = (
        f"<BIOS><SSN>{serial}</SSN></BIOS><NETWORKS><MACADDR>{mac}</MACADDR></NETWORKS>"
        f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>"
    )
    inventory = small_inventory(f"{prefix}-01-01-00-00-00", body)
    inventory.sections["hardware"][0]["name"] = name
    store_inventory(inventory)
    return Computer.objects.get(device_id=f"{prefix}-01-01-00-00-00").pk


@pytest.fixture
def twins() -> tuple[int, int]:
    set_global("AUTO_DUPLICATE_LVL", 0)  # keep them apart as they arrive
    return _machine("pc-2024", name="pc", tag="OLD"), _machine("pc-2025", name="pc", tag="NEW")


def test_the_summary_gives_the_redundant_computers_of_each_method(admin_console: Client, twins: Any) -> None:
    content = admin_console.get("/configuration/duplicates/", secure=True).content.decode()
    for label in (
        "Hostname + Serial number",
        "Hostname + MAC address",
        "MAC address + Serial number",
        "Hostname only",
        "Serial number only",
        "MAC address only",
    ):
        assert label in content
    assert content.count('<td class="num">2</td>') == 6


def test_a_method_lists_each_group_with_its_computers(admin_console: Client, twins: tuple[int, int]) -> None:
    content = admin_console.get("/configuration/duplicates/hostname-serial/", secure=True).content.decode()
    assert "<code>PC</code> + <code>SN-1</code>" in content
    for computer_id in twins:
        assert f'name="group-1" value="{computer_id}"' in content
    assert "02:00:00:00:00:01" in content
    assert "OLD" in content and "NEW" in content


def test_merging_the_selected_keeps_the_newest_with_the_oldest_tag(
    admin_console: Client, twins: tuple[int, int]
) -> None:
    old, new = twins
    response = admin_console.post(
        "/configuration/duplicates/hostname-serial/merge/",
        {"group-1": [str(old), str(new)]},
        secure=True,
        follow=True,
    )
    assert f"kept pc (#{new})" in response.content.decode()
    assert list(Computer.objects.values_list("pk", flat=True)) == [new]
    assert AccountInfo.objects.get().tag == "OLD"
    (entry,) = _audit("computers.merge")
    assert entry.target == "pc"
    assert entry.details["kept"] == new
    assert entry.details["method"] == "hostname-serial"


def test_one_ticked_computer_is_not_merged(admin_console: Client, twins: tuple[int, int]) -> None:
    response = admin_console.post(
        "/configuration/duplicates/hostname/merge/", {"group-1": [str(twins[0])]}, secure=True, follow=True
    )
    assert "Not merged" in response.content.decode()
    assert Computer.objects.count() == 2
    assert not _audit("computers.merge")


def test_nothing_ticked_says_so(admin_console: Client, twins: Any) -> None:
    response = admin_console.post("/configuration/duplicates/hostname/merge/", {}, secure=True, follow=True)
    assert "Tick at least two computers" in response.content.decode()


def test_an_unknown_method_is_404(admin_console: Client) -> None:
    assert admin_console.get("/configuration/duplicates/uuid/", secure=True).status_code == 404
    assert admin_console.post("/configuration/duplicates/uuid/merge/", secure=True).status_code == 404


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inventory_values_on_the_duplicates_page_are_text(admin_console: Client, text: str) -> None:
    set_global("AUTO_DUPLICATE_LVL", 0)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    _machine("a-2024", name=escaped, serial=escaped, tag=escaped)
    _machine("b-2025", name=escaped, serial=escaped, tag=escaped)
    for slug in ("hostname", "serial", "hostname-serial"):
        _inert(admin_console.get(f"/configuration/duplicates/{slug}/", secure=True).content.decode())


def test_the_duplicates_page_runs_a_fixed_number_of_queries(
    admin_console: Client, django_assert_max_num_queries: Any
) -> None:
    set_global("AUTO_DUPLICATE_LVL", 0)
    for number in range(6):
        _machine(f"a{number}-2024", name=f"host{number}", serial=f"SN{number}")
        _machine(f"b{number}-2025", name=f"host{number}", serial=f"SN{number}")
    with django_assert_max_num_queries(12):
        admin_console.get("/configuration/duplicates/hostname-serial/", secure=True)


# -- local import


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_imported_files_get_the_cli_report(admin_console: Client) -> None:
    files = [
        _upload("unix.ocs", UNIX_SAMPLE),
        _upload("windows.ocs", zlib.compress((DATA / "windows-agent-2.11-inventory.xml").read_bytes())),
        _upload(
            "notes.xml", b"<REQUEST><QUERY>PROLOG</QUERY><DEVICEID>x-2025-01-01-00-00-00</DEVICEID></REQUEST>"
        ),
        _upload("garbage.ocs", b"\x00\x01 not an inventory"),
    ]
    response = admin_console.post("/configuration/import/", {"files": files}, secure=True)
    assert response.status_code == 200
    report = response.content.decode()
    assert "OK for unix.ocs\nOK for windows.ocs\nERROR for notes.xml: " in report
    assert "ERROR for garbage.ocs: " in report
    assert "-----\nSuccessfully inventoried : 2\nErrors : 2</pre>" in report
    assert Computer.objects.count() == 2
    assert len(_audit("inventory.import")) == 2
    assert {e.details["file"] for e in _audit("inventory.import")} == {"unix.ocs", "windows.ocs"}


def test_an_imported_computer_is_marked_imported(admin_console: Client) -> None:
    admin_console.post("/configuration/import/", {"files": [_upload("unix.ocs", UNIX_SAMPLE)]}, secure=True)
    assert Computer.objects.get().imported


@pytest.mark.parametrize("text", HOSTILE)
def test_file_names_are_shown_escaped(admin_console: Client, text: str) -> None:
    response = admin_console.post(
        "/configuration/import/", {"files": [_upload(f"{text}.ocs", b"junk")]}, secure=True
    )
    content = response.content.decode()
    _inert(content)
    assert "ERROR for " in content


def test_a_file_over_the_protocol_limit_is_refused_before_it_is_read(admin_console: Client) -> None:
    big = _upload("big.ocs", b" " * (DEFAULT_LIMITS.max_body + 1))
    response = admin_console.post(
        "/configuration/import/", {"files": [big, _upload("unix.ocs", UNIX_SAMPLE)]}, secure=True
    )
    report = response.content.decode()
    assert "OK for unix.ocs" in report
    assert "ERROR for big.ocs: the file is larger than 16 MiB" in report  # from the upload handler
    assert "Successfully inventoried : 1\nErrors : 1" in report


def test_a_request_too_large_altogether_is_refused_unread(admin_console: Client) -> None:
    response = admin_console.post(
        "/configuration/import/",
        {"files": [_upload("unix.ocs", UNIX_SAMPLE)]},
        secure=True,
        CONTENT_LENGTH=str(2**40),
    )
    assert response.status_code == 413
    assert not Computer.objects.exists()


def test_an_import_without_files_asks_for_some(admin_console: Client) -> None:
    response = admin_console.post("/configuration/import/", {}, secure=True)
    assert "Choose one or more .ocs or .xml files." in response.content.decode()


# -- software dictionary


def _software(name: str, category: str = "", version: str = "1") -> Software:
    return Software.objects.create(
        key=software_key(name, "", version), name=name, version=version, category=category
    )


def test_the_dictionary_shows_the_categories_with_their_counts(admin_console: Client) -> None:
    _software("vim")
    _software("KB1", category="IGNORED")
    _software("Word", category="Microsoft Office")
    content = admin_console.get("/configuration/software/", secure=True).content.decode()
    for name in ("NEW", "IGNORED", "UNCHANGED", "Microsoft Office"):
        assert name in content
    assert 'href="?category=NEW"' in content
    assert 'href="?category=Microsoft%20Office"' in content


def test_software_is_searched_everywhere_and_categories_by_name(admin_console: Client) -> None:
    _software("Mozilla Firefox", category="IGNORED")
    _software("firefox-esr")
    _software("Thunderbird", category="Mail")
    content = admin_console.get("/configuration/software/", {"q": "firefox"}, secure=True).content.decode()
    assert "Mozilla Firefox" in content and "firefox-esr" in content and "Thunderbird" not in content
    content = admin_console.get("/configuration/software/", {"cq": "mai"}, secure=True).content.decode()
    assert "?category=Mail" in content and "?category=IGNORED" not in content


def test_a_category_lists_its_software_page_by_page(admin_console: Client) -> None:
    for number in range(60):
        _software(f"app{number:02d}")
    first = admin_console.get("/configuration/software/", {"category": "NEW"}, secure=True).content.decode()
    assert "app00" in first and "app50" not in first
    assert "category=NEW&amp;page=2" in first
    second = admin_console.get("/configuration/software/", {"category": "NEW", "page": "2"}, secure=True)
    assert "app59" in second.content.decode()


def test_ticked_software_moves_to_a_new_category(admin_console: Client) -> None:
    office_97, office_xp, editor = _software("MS Office 97"), _software("MS Office XP"), _software("vim")
    response = admin_console.post(
        "/configuration/software/move/",
        {
            "software": [office_97.pk, office_xp.pk],
            "new_category": "Microsoft Office",
            "to": "NEW",
            "category": "NEW",
        },
        secure=True,
    )
    assert response["Location"] == "/configuration/software/?category=NEW"
    assert set(dictionary.software(category="Microsoft Office")) == {office_97, office_xp}
    editor.refresh_from_db()
    assert editor.category == ""
    (entry,) = _audit("software.categorise")
    assert (entry.target, entry.details["moved"], entry.details["scope"]) == (
        "Microsoft Office",
        2,
        "selected",
    )


def test_ticked_software_moves_to_an_existing_category(admin_console: Client) -> None:
    thing = _software("thing")
    admin_console.post(
        "/configuration/software/move/", {"software": [thing.pk], "to": "IGNORED"}, secure=True
    )
    thing.refresh_from_db()
    assert thing.category == "IGNORED"


def test_move_all_moves_every_match_not_only_the_page(admin_console: Client) -> None:
    for number in range(70):
        _software(f"KB{number:04d} update")
    _software("vim")
    response = admin_console.post(
        "/configuration/software/move/",
        {"scope": "all", "category": "NEW", "q": "update", "to": "IGNORED"},
        secure=True,
    )
    assert response["Location"] == "/configuration/software/?category=NEW&q=update"
    assert Software.objects.filter(category="IGNORED").count() == 70
    assert _audit("software.categorise")[0].details["moved"] == 70


def test_a_move_without_a_target_or_selection_explains_why(admin_console: Client) -> None:
    thing = _software("thing")
    response = admin_console.post(
        "/configuration/software/move/",
        {"software": [thing.pk], "to": "", "new_category": ""},
        secure=True,
        follow=True,
    )
    assert "A category name is required." in response.content.decode()
    response = admin_console.post(
        "/configuration/software/move/", {"to": "IGNORED"}, secure=True, follow=True
    )
    assert "Tick the software to move." in response.content.decode()
    assert not _audit("software.categorise")


def test_an_oversized_search_is_a_bad_request(admin_console: Client) -> None:
    assert admin_console.get("/configuration/software/", {"q": "x" * 300}, secure=True).status_code == 400


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_software_and_category_names_are_text(admin_console: Client, text: str) -> None:
    _software(text, category=text)
    _software(text, category="", version="2")
    for query in ({}, {"category": text}, {"q": text}, {"category": "NEW"}):
        _inert(admin_console.get("/configuration/software/", query, secure=True).content.decode())


def test_the_software_list_runs_a_fixed_number_of_queries(
    admin_console: Client, django_assert_max_num_queries: Any
) -> None:
    for number in range(40):
        _software(f"app{number:02d}")
    with django_assert_max_num_queries(12):
        admin_console.get("/configuration/software/", {"category": "NEW"}, secure=True)


# -- agent files


def test_an_agent_file_is_uploaded_listed_served_and_deleted(admin_console: Client, client: Client) -> None:
    admin_console.post(
        "/configuration/agent-files/upload/",
        {"file": _upload("ocspackage.exe", b"MZ\x90\x00agent")},
        secure=True,
    )
    content = admin_console.get("/configuration/agent-files/", secure=True).content.decode()
    assert "/ocsinventory/deploy/ocspackage.exe" in content
    assert "DEPLOY on" in content
    assert client.get("/ocsinventory/deploy/ocspackage.exe").content == b"MZ\x90\x00agent"

    admin_console.post("/configuration/agent-files/delete/", {"name": "ocspackage.exe"}, secure=True)
    assert client.get("/ocsinventory/deploy/ocspackage.exe").status_code == 404
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["agent_file.upload", "agent_file.delete"]
    assert _audit("agent_file.upload")[0].details == {"size": 9}


def test_agent_files_are_not_served_while_deploy_is_off(admin_console: Client, client: Client) -> None:
    admin_console.post(
        "/configuration/agent-files/upload/", {"file": _upload("ocsagent.exe", b"MZ")}, secure=True
    )
    set_global("DEPLOY", 0)
    assert client.get("/ocsinventory/deploy/ocsagent.exe").status_code == 404
    assert "DEPLOY off" in admin_console.get("/configuration/agent-files/", secure=True).content.decode()


def test_an_upload_may_be_given_another_name(admin_console: Client) -> None:
    admin_console.post(
        "/configuration/agent-files/upload/",
        {"file": _upload("setup.exe", b"MZ"), "name": "ocsagent.exe"},
        secure=True,
    )
    assert list(AgentFile.objects.values_list("name", flat=True)) == ["ocsagent.exe"]


@pytest.mark.parametrize(
    "name", ["../secret_key", "a/b.exe", "..", ".hidden", "label", "x y.exe", "<script>.exe"]
)
def test_agent_file_names_are_plain_file_names(admin_console: Client, name: str) -> None:
    response = admin_console.post(
        "/configuration/agent-files/upload/",
        {"file": _upload("ok.exe", b"MZ"), "name": name},
        secure=True,
        follow=True,
    )
    assert not AgentFile.objects.exists()
    assert not _audit("agent_file.upload")
    _inert(response.content.decode())


def test_an_agent_file_over_the_limit_is_refused(
    admin_console: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = _upload("ocspackage.exe", b"x" * (agent_files.MAX_AGENT_FILE_SIZE + 1))
    response = admin_console.post(
        "/configuration/agent-files/upload/", {"file": big}, secure=True, follow=True
    )
    assert "An agent file is at most 15 MiB." in response.content.decode()
    assert not AgentFile.objects.exists()


def test_the_label_is_not_an_agent_file_of_this_page(admin_console: Client) -> None:
    agent_files.save_label("Office?")
    assert (
        "/ocsinventory/deploy/label"
        not in admin_console.get("/configuration/agent-files/", secure=True).content.decode()
    )
    admin_console.post("/configuration/agent-files/delete/", {"name": "label"}, secure=True)
    assert agent_files.read_label() == "Office?"


def test_the_comparison_is_chosen_from_a_list(admin_console: Client) -> None:
    response = admin_console.get("/configuration/duplicates/", {"method": "mac-serial"}, secure=True)
    assert response["Location"] == "/configuration/duplicates/mac-serial/"
    assert admin_console.get("/configuration/duplicates/", {"method": "uuid"}, secure=True).status_code == 400
