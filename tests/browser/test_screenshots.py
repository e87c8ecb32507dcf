"""A full-page screenshot of every console page at 1366x768 and at 390x844 (issue 3: "look
at a screenshot of every page yourself"), with the layout checks a program can make: the
page never scrolls sideways, it has a title (h1), and the browser logged no error.

The screenshots land in the test's temporary directory and are copied to
``/tmp/ocelot-screenshots/<page>-<size>.png`` for review.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from ocelot.accounts.audit import record
from ocelot.accounts.tokens import create_token
from ocelot.inventory.account_fields import create_field
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountField, AccountValue, Computer, Software
from ocelot.inventory.registry_queries import create_query
from ocelot.inventory.software_dictionary import move
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import parse_xml
from tests.browser.conftest import DESKTOP, PHONE, Console, add_computer, make_user, open_console
from tests.inventory.payloads import DATA, unix_inventory
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)

REVIEW = Path("/tmp/ocelot-screenshots")
SIZES = {"desktop": DESKTOP, "phone": PHONE}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _populate() -> dict[str, Computer]:
    """A small but realistic fleet: the captured Unix and Windows agents and a few others."""
    store_inventory(
        unix_inventory(tag="PARIS"), source_ip="10.0.1.12", user_agent="OCS-NG_unified_unix_agent_v2.10.0"
    )
    windows = read_request(parse_xml((DATA / "windows-agent-2.11-inventory.xml").read_bytes()))
    assert isinstance(windows, Inventory)
    store_inventory(windows, source_ip="10.0.2.40", user_agent="OCS-NG_WINDOWS_AGENT_v2.11.0.1")
    office = ["Mozilla Firefox", "LibreOffice 24.8", "Thunderbird", "7-Zip"]
    for index, (name, tag, memory) in enumerate(
        [
            ("pc-compta-01", "PARIS", 8192),
            ("pc-compta-02", "PARIS", 8192),
            ("lyon-atelier-portable-de-demonstration-17", "LYON", 16384),
            ("srv-files", "DATACENTER", 65536),
            ("kiosk", "", 2048),
        ]
    ):
        add_computer(
            f"{name}-2026-01-0{index + 1}-08-00-00",
            name=name,
            memory=memory,
            tag=tag or None,
            software=office[: 2 + index % 3],
            printers=["HP LaserJet 4050"] if index % 2 else [],
            serial=f"SN-{index:04d}",
            macs=[f"00:11:22:33:44:{index:02x}"],
        )
    # Two records of the same machine, for the duplicates pages.
    # (a new network card: not merged on arrival, which takes hostname, serial and MAC).
    for day in (1, 9):
        add_computer(
            f"twin-2026-01-0{day}-08-00-00", name="twin", serial="SN-TWIN", macs=[f"00:aa:bb:cc:dd:0{day}"]
        )
    room = create_field("Room", AccountField.TEXT)
    create_field("Purchased", AccountField.DATE)
    unix = Computer.objects.get(device_id="vm-2026-11-21-17-46-56")
    AccountValue.objects.create(computer=unix, field=room, text="B-204")
    create_query(
        "Office version",
        2,  # HKEY_LOCAL_MACHINE
        r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration",
        "VersionToReport",
    )
    move(Software.objects.filter(name__in=["Thunderbird", "7-Zip"]).values_list("id", flat=True), "Utilities")
    make_user("paris-reader", administrator=False, allowed_tags=["PARIS"])
    boss = make_user("boss", administrator=True)
    create_token(boss, "nightly report")
    record(boss, "setting.set", "FREQUENCY", address="10.0.0.5", value=7)
    record(boss, "computers.merge", "twin", address="10.0.0.5", kept=1, merged="twin")
    windows_computer = Computer.objects.get(device_id__startswith="WIN10-PC")
    return {"unix": unix, "windows": windows_computer}


def _pages(computers: dict[str, Computer]) -> dict[str, str]:
    return {
        "dashboard": "/",
        "computers": "/computers/",
        "computer-unix": f"/computers/{computers['unix'].pk}/",
        "computer-windows": f"/computers/{computers['windows'].pk}/",
        "search": "/search/",
        "search-results": "/search/?field=software&op=EQUAL&value=*firefox*&value2="
        "&field=memory&op=BETWEEN&value=4096&value2=65536",
        "tags": "/tags/",
        "configuration": "/configuration/",
        "configuration-options": "/configuration/options/",
        "configuration-account-fields": "/configuration/account-fields/",
        "configuration-label": "/configuration/label/",
        "configuration-registry": "/configuration/registry/",
        "configuration-duplicates": "/configuration/duplicates/",
        "configuration-duplicates-method": "/configuration/duplicates/hostname-serial/",
        "configuration-import": "/configuration/import/",
        "configuration-software": "/configuration/software/",
        "configuration-software-new": "/configuration/software/?category=NEW",
        "configuration-agent-files": "/configuration/agent-files/",
        "users": "/users/",
        "audit": "/audit/",
        "account": "/account/",
    }


def _shoot(console: Console, name: str, size: str, folder: Path) -> list[str]:
    """Screenshot the current page; the layout problems found on it."""
    problems = []
    target = folder / f"{name}-{size}.png"
    console.page.screenshot(path=str(target), full_page=True)
    REVIEW.mkdir(parents=True, exist_ok=True)
    shutil.copy(target, REVIEW / target.name)
    overflow = console.page.evaluate(OVERFLOW)
    if overflow > 1:
        problems.append(f"{name} ({size}): the page is {overflow}px wider than the screen")
    if console.page.locator("h1").count() < 1 or not console.page.locator("h1").first.is_visible():
        problems.append(f"{name} ({size}): no visible h1")
    if console.seen.console_errors or console.seen.dialogs:
        problems.append(f"{name} ({size}): {console.seen.console_errors} {console.seen.dialogs}")
        console.seen.console_errors.clear()
        console.seen.dialogs.clear()
    return problems


@pytest.mark.parametrize("size", list(SIZES))
def test_every_console_page_fits_the_screen_with_a_title_and_no_error(
    browser: Browser, ocelot_server: OcelotServer, tmp_path: Path, size: str
) -> None:
    computers = _populate()
    folder = tmp_path / "screenshots"
    folder.mkdir()
    console = open_console(browser, ocelot_server, SIZES[size])
    problems: list[str] = []

    console.go("/login/")
    problems += _shoot(console, "login", size, folder)
    console.login("boss")
    for name, path in _pages(computers).items():
        response = console.go(path)
        assert response is not None and response.status == 200, (name, response and response.status)
        problems += _shoot(console, name, size, folder)

    # A new API token, its secret shown once.
    console.go("/account/")
    console.page.locator("#tokens input[name=name]").fill("inventory export to the CMDB")
    console.page.get_by_role("button", name="Create a token").click()
    console.page.wait_for_load_state()
    problems += _shoot(console, "account-new-token", size, folder)

    # Menus open: the column chooser, and the phone's navigation.
    console.go("/computers/")
    console.page.locator("details.column-chooser summary").click()
    problems += _shoot(console, "computers-columns-open", size, folder)
    if size == "phone":
        console.go("/")
        console.page.locator("label.nav-toggle-label").click()
        problems += _shoot(console, "dashboard-menu-open", size, folder)

    reader = open_console(browser, ocelot_server, SIZES[size])
    reader.login("paris-reader")
    for name, path in (
        ("reader-computers", "/computers/"),
        ("reader-computer", f"/computers/{computers['unix'].pk}/"),
    ):
        reader.go(path)
        problems += _shoot(reader, name, size, folder)
    reader.go("/configuration/")
    assert reader.page.locator("h1").inner_text() == "Forbidden"
    reader.seen.console_errors.clear()  # the 403 itself
    problems += _shoot(reader, "forbidden", size, folder)

    assert problems == [], "\n".join(problems)
    assert len(list(folder.glob("*.png"))) == len(_pages(computers)) + (7 if size == "phone" else 6)
