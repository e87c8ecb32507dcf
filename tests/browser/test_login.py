"""The console in a real browser: logging in, and a clean page (no dialog, no CSP error)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser

from ocelot.accounts.models import Profile
from tests.browser.conftest import PHONE, open_console, password_hash
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)


def _admin() -> None:
    user = get_user_model().objects.create(
        username="boss", is_superuser=True, is_staff=True, password=password_hash()
    )
    Profile.objects.create(user=user)


def test_an_administrator_logs_in_and_reaches_the_dashboard(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    _admin()
    console = open_console(browser, ocelot_server)
    console.login("boss")
    assert console.page.url.endswith("/")
    assert console.page.locator("h1").first.inner_text() == "Dashboard"
    console.assert_clean()


def test_a_wrong_password_is_refused_in_the_browser(browser: Browser, ocelot_server: OcelotServer) -> None:
    _admin()
    console = open_console(browser, ocelot_server, PHONE)
    console.login("boss", "wrong password")
    assert console.page.locator("[role=alert]").inner_text() == "Invalid user name or password."
    console.assert_clean()
