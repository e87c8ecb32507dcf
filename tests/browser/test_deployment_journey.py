"""Package deployment in a real browser (issue 4, "What must be true"): an administrator
builds a putty-style STORE package from a small zip (the seeds' walkthrough, 001_*.txt),
watching the fragment count and the waiting times follow the form; activates it on this
server (the server checks its own files over HTTPS and HTTP, and warns about the loopback
address and the ports); deploys it to every result of a search; and follows the statuses
in the statistics, as agents contact the server and report, until it validates the
successes."""

from __future__ import annotations

import http.client
import io
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from ocelot.deployment.models import Assignment, Package
from ocelot.inventory.setting_values import global_value
from tests.browser.conftest import add_computer, make_user, open_console
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)


def putty_zip(path: Path) -> Path:
    """A stand-in for putty.zip: an executable and its help file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("putty.exe", b"MZ" + bytes(range(256)) * 300)
        archive.writestr("putty.chm", b"ITSF" + bytes(range(256)) * 100)
    path.write_bytes(buffer.getvalue())
    return path


def agent_says(server: OcelotServer, body: str) -> None:
    """One zlib-framed request to the agent endpoint, as the Unix agent sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    request = f'<?xml version="1.0" encoding="UTF-8"?><REQUEST>{body}</REQUEST>'.encode()
    connection.request(
        "POST",
        "/ocsinventory",
        zlib.compress(request),
        {"Content-Type": "application/x-compress", "User-Agent": "OCS-NG_unified_unix_agent_v2.10.0"},
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200


def test_an_administrator_builds_activates_deploys_to_a_search_and_follows_the_statistics(
    browser: Browser, ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    lab = [add_computer(f"lab-{n}-2026-01-01-00-00-00", name=f"lab-{n}", tag="LAB") for n in range(3)]
    add_computer("office-2026-01-01-00-00-00", name="office", tag="OFFICE")
    make_user("boss", administrator=True)
    console = open_console(browser, ocelot_server)
    console.login("boss")
    page = console.page

    # Build: the estimate follows the fragment count as it is typed.
    page.get_by_role("link", name="Packages", exact=True).click()
    page.get_by_role("link", name="Build a package").click()
    expect(page.locator("button.no-script-only")).to_have_count(0)  # the script computes it live
    page.fill("input[name=name]", "PuTTY 0.83")
    page.select_option("select[name=os]", "windows")
    page.select_option("select[name=action]", "STORE")
    page.fill("input[name=path]", r"C:\Program Files\PuTTY")
    # A file that is no archive: refused, the form comes back with the message and the values.
    (tmp_path / "notes.zip").write_bytes(b"just some notes")
    page.set_input_files("input[name=file]", str(tmp_path / "notes.zip"))
    page.get_by_role("button", name="Build", exact=True).click()
    expect(page.locator("p.error")).to_contain_text("zip or tar.gz")
    expect(page.locator("input[name=name]")).to_have_value("PuTTY 0.83")
    assert not Package.objects.exists()
    # The 400 of that refusal is the one error the browser logs: expected, so forgotten.
    assert console.seen.console_errors == [
        "Failed to load resource: the server responded with a status of 400 ()"
    ]
    console.seen.console_errors.clear()
    page.set_input_files("input[name=file]", str(putty_zip(tmp_path / "putty.zip")))
    page.fill("input[name=fragments]", "3")
    expect(page.locator("[data-estimate-count-value]")).to_have_text("3")
    priority_five = page.locator('tr[data-priority="5"] [data-estimate-cell]').inner_text()
    page.fill("input[name=fragments]", "2")
    expect(page.locator('tr[data-priority="5"] [data-estimate-cell]')).not_to_have_text(priority_five)
    page.get_by_role("button", name="Build", exact=True).click()
    page.wait_for_url(re.compile(r"/packages/\d+/$"))
    package = Package.objects.get(name="PuTTY 0.83")
    assert (package.action, package.fragment_count, package.archive_format) == ("STORE", 2, "zip")
    assert "2 fragments" in console.message()

    # Activate on this server, with the check on: the server fetches its own files.
    page.get_by_role("button", name="Activate").click()
    page.wait_for_selector("ul.messages, .check-failures")
    message = console.message() if page.locator("ul.messages").count() else ""
    assert "Package activated" in message, console.text()
    assert "127.0.0.1" in message  # the seeds' warning: agents read it as themselves

    # Deployment is off by default (as in OCS): the page says so and links to the option.
    page.locator(".deployment-off").get_by_role("link", name="General options").click()
    page.select_option("#field-DOWNLOAD", "1")
    page.locator(".savebar button").click()
    page.wait_for_load_state()
    assert global_value("DOWNLOAD") == 1

    # Deploy to every result of a search (the LAB computers), from the mass-action bar.
    console.go("/search/?field=tag&op=EQUAL&value=LAB&value2=")
    page.check("input[name=scope][value=all]")
    page.locator("details.mass-deploy > summary").click()
    page.get_by_role("button", name="Deploy to the chosen computers").click()
    page.wait_for_load_state()
    assert "assigned to 3 computers" in console.message()
    assert set(Assignment.objects.values_list("computer_id", flat=True)) == {c.pk for c in lab}

    # The statistics: waiting, then what the agents report.
    page.get_by_role("link", name="Packages", exact=True).click()
    page.get_by_role("link", name="Statistics").click()
    assert "WAITING NOTIFICATION" in console.text()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    # Two agents contact the server (the package is announced: NOTIFIED), one reports success.
    for computer in lab[:2]:
        agent_says(ocelot_server, f"<DEVICEID>{computer.device_id}</DEVICEID><QUERY>PROLOG</QUERY>")
    agent_says(
        ocelot_server,
        f"<DEVICEID>{lab[1].device_id}</DEVICEID><QUERY>DOWNLOAD</QUERY>"
        f"<ID>{package.package_id}</ID><ERR>SUCCESS</ERR>",
    )
    page.reload()
    expect(page.locator("table.statuses")).to_contain_text("SUCCESS")
    expect(page.locator("table.statuses")).to_contain_text("NOTIFIED")
    page.get_by_role("button", name="Validate success").click()
    page.wait_for_load_state()
    assert "1 assignments cleared" in console.message()
    assert sorted(Assignment.objects.values_list("status", flat=True)) == ["", "NOTIFIED"]
    console.assert_clean()
