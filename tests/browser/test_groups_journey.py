"""Groups in a real browser (issue 7, issue 4's static groups): an administrator saves a
search as a dynamic group and creates a visible static group; a user restricted to one TAG
ticks computers in the search results and adds them to it (seed 002: "The user can put its
machines in the created group")."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from ocelot.inventory.models import Group, GroupMember
from tests.browser.conftest import PHONE, add_computer, make_user, open_console
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)

REVIEW = Path("/tmp/ocelot-screenshots")


def test_save_a_search_as_a_group_then_a_user_adds_their_computers_to_a_visible_group(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    add_computer(
        "win-paris-2026-01-01-00-00-00", name="win-paris", os_name="Microsoft Windows 11", tag="PARIS"
    )
    add_computer("win-lyon-2026-01-01-00-00-00", name="win-lyon", os_name="Microsoft Windows 10", tag="LYON")
    add_computer("deb-paris-2026-01-01-00-00-00", name="deb-paris", tag="PARIS")
    make_user("boss", administrator=True)
    make_user("paris", administrator=False, allowed_tags=["PARIS"])

    admin = open_console(browser, ocelot_server)
    admin.login("boss")
    admin.go("/search/?field=os&op=EQUAL&value=*windows*&value2=")
    admin.page.click("#save-as-group summary")
    admin.page.fill("#save-as-group input[name=name]", "Windows")
    admin.page.check("#save-as-group input[name=visible]")
    admin.page.click("#save-as-group button[type=submit]")
    admin.page.wait_for_load_state()
    assert admin.page.locator("h1").inner_text().startswith("Windows")
    assert "2 members" in admin.text() and "Members computed" in admin.text()
    assert sorted(admin.page.locator("table.members td.name").all_inner_texts()) == ["win-lyon", "win-paris"]

    admin.go("/groups/")
    admin.page.fill("input[name=name]", "Firefox for all")
    admin.page.check("input[name=visible]")
    admin.page.click("form.row-form button[type=submit]")
    admin.page.wait_for_load_state()
    assert "Group Firefox for all created." in admin.message()
    admin.assert_clean()

    user = open_console(browser, ocelot_server, PHONE)
    user.login("paris")
    user.go("/search/?field=os&op=EQUAL&value=*&value2=")
    user.page.check("input[name=ids][aria-label='Tick deb-paris']")
    user.page.click(".mass-group summary")
    user.page.click(".mass-group button[type=submit]")
    user.page.wait_for_load_state()
    assert "1 computers added to Firefox for all." in user.message()
    group = Group.objects.get(name="Firefox for all")
    assert list(GroupMember.objects.filter(group=group).values_list("computer__name", "kind")) == [
        ("deb-paris", "static")
    ]
    user.go("/groups/")
    assert "Windows" in user.text() and "New static group" not in user.text()
    REVIEW.mkdir(parents=True, exist_ok=True)
    user.go(f"/groups/{Group.objects.get(name='Windows').pk}/")
    assert "win-paris" in user.text() and "win-lyon" not in user.text()
    user.page.screenshot(path=str(REVIEW / "group-page-user-phone.png"), full_page=True)
    admin.go(f"/groups/{Group.objects.get(name='Windows').pk}/")
    admin.page.screenshot(path=str(REVIEW / "group-page-admin.png"), full_page=True)
    user.assert_clean()
