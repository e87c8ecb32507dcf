"""The console's main journeys in a real browser (issue 3, "What must be true"): log in,
find computers by several criteria, open one, edit its account info and its own settings,
merge duplicates, import a .ocs file, change a general option, and a read-only user
restricted to one TAG who sees only those computers and can change nothing, not even by
direct URL or through the API."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser

from ocelot.accounts.models import Profile
from ocelot.inventory.models import AccountInfo, Computer, SettingOverride
from ocelot.inventory.setting_values import global_value
from tests.browser.conftest import PHONE, Console, add_computer, make_user, open_console
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)

UNIX_SAMPLE = Path(__file__).resolve().parent.parent / "data" / "unix-agent-2.10-inventory.xml"


def _administrator_console(
    browser: Browser, server: OcelotServer, viewport: dict[str, int] | None = None
) -> Console:
    make_user("boss", administrator=True)
    console = open_console(browser, server, viewport) if viewport else open_console(browser, server)
    console.login("boss")
    assert console.page.locator("h1").first.inner_text() == "Dashboard"
    return console


def _fleet() -> dict[str, Computer]:
    """Four computers: only "alpha" and "bravo" have Firefox and LibreOffice and 2-8 GB."""
    both = ["Mozilla Firefox", "LibreOffice 24.8", "GNU Emacs"]
    return {
        "alpha": add_computer(
            "alpha-2026-01-01-00-00-00", name="alpha", memory=4096, software=both, tag="PARIS"
        ),
        "bravo": add_computer(
            "bravo-2026-01-01-00-00-00", name="bravo", memory=8192, software=both, tag="PARIS"
        ),
        # Both programs, but too much memory.
        "charlie": add_computer(
            "charlie-2026-01-01-00-00-00", name="charlie", memory=16384, software=both, tag="LYON"
        ),
        # The memory fits, but no LibreOffice.
        "delta": add_computer(
            "delta-2026-01-01-00-00-00", name="delta", memory=2048, software=["Mozilla Firefox"], tag="LYON"
        ),
    }


def _result_names(console: Console) -> list[str]:
    return sorted(
        console.page.locator("table.computers tbody td:not(.tick):not(.marker) a").all_inner_texts()
    )


def test_an_administrator_searches_by_two_programs_and_a_memory_range_then_edits_a_computer(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    fleet = _fleet()
    console = _administrator_console(browser, ocelot_server)

    console.page.get_by_role("link", name="Search", exact=True).click()
    assert console.page.locator("h1").inner_text() == "Multi-criteria search"
    rows = console.page.locator(".criterion")
    for index, (field, operator, value, value2) in enumerate(
        [
            ("software", "EQUAL", "*firefox*", ""),
            ("software", "EQUAL", "libreoffice*", ""),
            ("memory", "BETWEEN", "2048", "8192"),
        ]
    ):
        row = rows.nth(index)
        row.locator("select[name=field]").select_option(field)
        row.locator("select[name=op]").select_option(operator)
        row.locator("input[name=value]").fill(value)
        row.locator("input[name=value2]").fill(value2)
    console.page.locator("form.search-form button[type=submit]").click()
    console.page.wait_for_load_state()

    assert console.page.locator(".results-count").inner_text() == "2 computers"
    assert _result_names(console) == ["alpha", "bravo"]
    # The criteria stay in the form, to refine them.
    assert console.page.locator("input[name=value2]").first.input_value() == ""
    assert console.page.locator("input[name=value]").nth(1).input_value() == "libreoffice*"

    console.page.locator("table.computers").get_by_role("link", name="bravo", exact=True).click()
    console.page.wait_for_load_state()
    assert console.page.locator("h1").inner_text() == "bravo"
    assert console.page.url.endswith(f"/computers/{fleet['bravo'].pk}/")
    software = console.page.locator("#section-software")
    assert software.get_by_text("LibreOffice 24.8").is_visible()
    assert "8.0 GB" in console.page.locator("dl.facts").inner_text()
    assert console.page.locator("dl.facts span[title='8192 MB']").count() == 1

    # Account info: a new TAG.
    account = console.page.locator("#account")
    account.locator("input[name=tag]").fill("LYON")
    account.get_by_role("button", name="Update").click()
    console.page.wait_for_load_state()
    assert console.message() == "Account info saved."
    assert console.page.locator(".banner .badge").first.inner_text() == "TAG LYON"
    assert AccountInfo.objects.get(computer=fleet["bravo"]).tag == "LYON"

    # A setting of this computer only: an inventory every 3 days.
    settings = console.page.locator("#settings")
    settings.locator("#setting-FREQUENCY").fill("3")
    settings.get_by_role("button", name="Save settings").click()
    console.page.wait_for_load_state()
    assert console.message() == "Settings saved."
    assert console.page.locator("#setting-FREQUENCY").input_value() == "3"
    row = console.page.locator("#settings tr").filter(has=console.page.locator("#setting-FREQUENCY"))
    assert row.locator("td").nth(1).inner_text() == "3"
    assert SettingOverride.objects.get(computer=fleet["bravo"], name="FREQUENCY").value == "3"

    # The list marks the computer with its own settings, and only that one.
    console.page.get_by_role("link", name="Computers", exact=True).click()
    console.page.wait_for_load_state()
    marked = console.page.locator("table.computers tbody tr").filter(
        has=console.page.locator(".own-settings")
    )
    assert marked.count() == 1
    assert marked.get_by_role("link").inner_text() == "bravo"
    console.assert_clean()


def test_an_administrator_merges_two_duplicates(browser: Browser, ocelot_server: OcelotServer) -> None:
    older = add_computer("twin-2025-01-01-00-00-00", name="twin", serial="SN-TWIN-0001", tag="OLD-TAG")
    newer = add_computer("twin-2026-01-01-00-00-00", name="twin", serial="SN-TWIN-0001", tag="NEW-TAG")
    add_computer("other-2026-01-01-00-00-00", name="other", serial="SN-OTHER-0002")
    console = _administrator_console(browser, ocelot_server)

    console.page.get_by_role("link", name="Configuration", exact=True).click()
    console.page.locator(".config-home").get_by_role("link", name="Duplicates").click()
    console.page.wait_for_load_state()
    summary = console.page.locator("table.data tbody tr").filter(has_text="Hostname + Serial number")
    assert summary.locator("td.num").inner_text() == "2"
    summary.get_by_role("link").click()
    console.page.wait_for_load_state()
    assert console.page.locator("h1").inner_text() == "Duplicates · Hostname + Serial number"
    group = console.page.locator(".dup-group")
    assert group.count() == 1
    assert group.locator("tbody tr").count() == 2

    group.locator("input[data-select-all]").check()
    with console.confirming() as confirmed:
        console.page.get_by_role("button", name="Merge the selected computers").click()
        console.page.wait_for_load_state()
    assert confirmed == ["Merge the ticked computers of each group?"]
    assert console.message().startswith("Merged 2 computers: kept twin")
    assert console.page.locator(".dup-group").count() == 0
    assert console.page.get_by_text("No computers share these values.").is_visible()
    # The newest inventory is kept, with the administrative data of the oldest.
    assert list(Computer.objects.filter(name="twin").values_list("pk", flat=True)) == [newer.pk]
    assert not Computer.objects.filter(pk=older.pk).exists()
    assert AccountInfo.objects.get(computer=newer).tag == "OLD-TAG"
    console.assert_clean()


def test_an_administrator_imports_an_ocs_file(
    browser: Browser, ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    upload = tmp_path / "offline-laptop.ocs"
    upload.write_bytes(UNIX_SAMPLE.read_bytes())
    console = _administrator_console(browser, ocelot_server, PHONE)

    console.go("/configuration/import/")
    assert console.page.locator("h1").inner_text() == "Local import"
    console.page.locator("input[name=files]").set_input_files(upload)
    console.page.get_by_role("button", name="Import").click()
    console.page.wait_for_load_state()

    report = console.page.locator("pre.report").inner_text()
    assert report.splitlines() == [
        "OK for offline-laptop.ocs",
        "-----",
        "Successfully inventoried : 1",
        "Errors : 0",
    ]
    computer = Computer.objects.get(device_id="vm-2026-11-21-17-46-56")
    assert computer.imported
    console.go("/computers/")
    assert _result_names(console) == [computer.name]
    console.assert_clean()


def test_an_administrator_changes_a_general_option(browser: Browser, ocelot_server: OcelotServer) -> None:
    console = _administrator_console(browser, ocelot_server)
    console.go("/configuration/options/")
    assert console.page.locator("h1").inner_text() == "General options"
    option = console.page.locator("#option-FREQUENCY")
    assert option.locator("input").input_value() == "0"
    assert "Inventory frequency" in option.locator(".hint").inner_text()

    # Below the minimum (-1): the browser itself refuses to send the form.
    option.locator("input").fill("-5")
    console.page.locator(".savebar button").click()
    assert option.locator("input").evaluate("field => field.validity.rangeUnderflow") is True
    assert global_value("FREQUENCY") == 0

    console.page.locator("#option-FREQUENCY input").fill("7")
    console.page.locator(".savebar button").click()
    console.page.wait_for_load_state()
    assert global_value("FREQUENCY") == 7
    console.go("/configuration/options/")
    option = console.page.locator("#option-FREQUENCY")
    assert option.locator("input").input_value() == "7"
    assert option.get_by_text("changed").is_visible()
    console.assert_clean()


def _api(server: OcelotServer, token: str, method: str, path: str, body: object = None) -> tuple[int, object]:
    context = ssl.create_default_context(cafile=str(server.cacert))
    context.check_hostname = False  # the certificate names the server's host, we call 127.0.0.1
    request = urllib.request.Request(
        f"https://127.0.0.1:{server.https_port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_read_only_user_restricted_to_one_tag_sees_only_those_computers_and_changes_nothing(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    fleet = _fleet()
    admin = _administrator_console(browser, ocelot_server)
    admin.page.get_by_role("link", name="Users", exact=True).click()
    form = admin.page.locator("form[action='/users/new/']")
    form.locator("input[name=username]").fill("paris-reader")
    form.locator("input[name=tags]").fill("PARIS")
    form.get_by_role("button", name="Add").click()
    admin.page.wait_for_load_state()
    password = admin.page.locator("code.secret").inner_text()
    assert len(password) >= 12
    row = admin.page.locator("table.data tbody tr").filter(has_text="paris-reader")
    assert row.locator("td").nth(1).inner_text() == "User"
    assert row.locator("td").nth(2).inner_text() == "PARIS"
    admin.assert_clean()

    reader = open_console(browser, ocelot_server, PHONE)
    reader.login("paris-reader", password)
    assert reader.page.locator("h1").first.inner_text() == "Dashboard"
    assert reader.page.locator(".stat").first.inner_text() == "2"
    reader.page.locator("label.nav-toggle-label").click()  # the phone's menu button
    nav = reader.page.locator("nav.nav")
    assert nav.get_by_role("link", name="Dashboard", exact=True).is_visible()
    assert nav.get_by_role("link", name="Computers", exact=True).count() == 1
    for hidden in ("Configuration", "Users", "Audit log"):
        assert nav.get_by_role("link", name=hidden, exact=True).count() == 0

    reader.go("/computers/")
    assert _result_names(reader) == ["alpha", "bravo"]
    assert reader.page.locator(".mass-form, input[name=ids]").count() == 0  # no mass processing
    reader.go("/search/?field=software&op=EQUAL&value=*firefox*&value2=")
    assert _result_names(reader) == ["alpha", "bravo"]
    reader.go("/tags/")
    assert reader.page.locator("table.data tbody td:first-child").all_inner_texts() == ["PARIS"]

    assert reader.status(f"/computers/{fleet['alpha'].pk}/") == 200
    assert reader.page.locator("#account input, #settings input, #settings select").count() == 0
    assert reader.page.get_by_role("button", name="Delete").count() == 0
    assert reader.status(f"/computers/{fleet['charlie'].pk}/") == 403

    for path in (
        "/configuration/",
        "/configuration/options/",
        "/configuration/duplicates/",
        "/configuration/import/",
        "/configuration/software/",
        "/users/",
        "/audit/",
    ):
        assert reader.status(path) == 403, path
        assert reader.page.locator("h1").inner_text() == "Forbidden"
    # The browser logs each refused page; those are the only errors it saw. (Over HTTP/2
    # there is no reason phrase: Chromium then writes "403 ()".)
    refused = "Failed to load resource: the server responded with a status of 403 ("
    assert len(reader.seen.console_errors) == 8
    assert all(error.startswith(refused) for error in reader.seen.console_errors), reader.seen.console_errors
    reader.seen.console_errors.clear()
    reader.assert_clean()

    # The API answers the same: reads limited to PARIS, no writes.
    user = get_user_model().objects.get(username="paris-reader")
    assert Profile.objects.get(user=user).allowed_tags == ["PARIS"]
    # The reader makes their own API token in "My account"; its secret shows once.
    reader.go("/account/")
    reader.page.locator("#tokens input[name=name]").fill("journey")
    reader.page.get_by_role("button", name="Create a token").click()
    reader.page.wait_for_load_state()
    token = reader.page.locator("code.token-secret").inner_text()
    assert token.startswith("ocl_")
    assert reader.page.locator("table.tokens tbody tr").all_inner_texts()[0].startswith("journey")
    reader.assert_clean()
    status, body = _api(ocelot_server, token, "GET", "/api/v1/computers")
    assert status == 200
    assert sorted(item["name"] for item in body["items"]) == ["alpha", "bravo"]  # type: ignore[index]
    status, body = _api(ocelot_server, token, "PUT", "/api/v1/settings/FREQUENCY", {"value": 7})
    assert status == 403, body
    assert global_value("FREQUENCY") == 0
    status, body = _api(
        ocelot_server, token, "PUT", f"/api/v1/computers/{fleet['alpha'].pk}/account-info", {"tag": "LYON"}
    )
    assert status == 403, body
    assert AccountInfo.objects.get(computer=fleet["alpha"]).tag == "PARIS"

    # Revoked in the console: the API refuses the token from then on.
    with reader.confirming() as asked:
        reader.page.locator("table.tokens").get_by_role("button", name="Revoke").click()
        reader.page.wait_for_load_state()
    assert asked == ["Revoke this token? Programs using it will be refused."]
    assert "Token revoked: journey." in reader.message()
    assert reader.page.locator("code.token-secret").count() == 0
    assert _api(ocelot_server, token, "GET", "/api/v1/me")[0] == 401
    reader.assert_clean()
